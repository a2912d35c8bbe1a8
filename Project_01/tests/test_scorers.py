"""Known-answer tests of the liked matrices and the recommendation methods (liked, scorers)."""
import numpy as np
import pandas as pd
import pytest

from movie_recommender import ArraysMismatchError, liked, scorers
from movie_recommender.liked import Ratings, build_model
from movie_recommender.scorers import recommend
from movie_recommender.topk import top_k

# Two taste groups of movies: 0 "A", 1 "B", 2 "C", 3 "D", plus 4 "E" that nobody likes.
A, B, C, D, E = range(5)
FAN_METHODS = ("sequential", "cosine", "lift")


def make_ratings(rows: list[tuple[int, int, float, int]], n_items: int | None = None) -> Ratings:
    """Ratings from ``(user, item, rating, timestamp)`` tuples."""
    users, items, values, times = (np.array(column) for column in zip(*rows))
    return Ratings(user_idx=users.astype(np.int32), item_idx=items.astype(np.int32),
                   rating=values.astype(np.float32), timestamp=times.astype(np.int64),
                   n_users=int(users.max()) + 1,
                   n_items=n_items if n_items is not None else int(items.max()) + 1)


@pytest.fixture(name="taste_groups")
def fixture_taste_groups() -> Ratings:
    """Users 0-5 love A and B and dislike C; users 6-11 love C and D and dislike A.

    C is liked by more users overall than B, so only taste can put B first for A's fans.
    """
    rows = []
    for user in range(6):
        rows += [(user, A, 5.0, 10), (user, B, 5.0, 20), (user, C, 1.0, 30)]
    for user in range(6, 14):
        rows += [(user, C, 5.0, 10), (user, D, 4.5, 20), (user, A, 2.0, 30)]
    rows.append((14, E, 1.0, 10))
    return make_ratings(rows)


@pytest.mark.parametrize("method", FAN_METHODS)
def test_fans_of_a_get_b_not_c(taste_groups: Ratings, method: str) -> None:
    """Fans of A liked B and disliked C: B comes first and C never appears."""
    recs = recommend(build_model(taste_groups), A, method, k=3)
    assert recs[0].item == B
    assert C not in [rec.item for rec in recs]
    assert all(rec.reason for rec in recs)


@pytest.mark.parametrize("method", scorers.METHODS)
def test_query_is_never_recommended(taste_groups: Ratings, random_ratings: Ratings,
                                    method: str) -> None:
    """C is the most liked and co-liked with D, yet a query for C never returns C; nor does
    any of the 40 random movies, asked for every candidate, return itself."""
    recs = recommend(build_model(taste_groups), C, method, k=5)
    assert recs, "every method has an answer for a liked movie"
    assert C not in [rec.item for rec in recs]
    model = build_model(random_ratings)
    for movie in range(random_ratings.n_items):
        items = [rec.item for rec in recommend(model, movie, method, k=random_ratings.n_items)]
        assert movie not in items


@pytest.mark.parametrize("method", scorers.METHODS)
def test_exclude_mask_is_honoured(taste_groups: Ratings, method: str) -> None:
    """Excluded movies are skipped and the next best ones move up."""
    exclude = np.zeros(taste_groups.n_items, dtype=bool)
    exclude[D] = True
    items = [rec.item for rec in recommend(build_model(taste_groups), C, method, k=5,
                                           exclude=exclude)]
    assert D not in items


@pytest.mark.parametrize("method", FAN_METHODS)
def test_movie_without_fans_gives_empty_list(taste_groups: Ratings, method: str) -> None:
    """Nobody liked E: the fan-based methods answer with an empty list (the fallback signal)."""
    assert not recommend(build_model(taste_groups), E, method)


def test_popular_answers_even_without_fans(taste_groups: Ratings) -> None:
    """The popularity baseline needs no fans: most liked first (C by 8, then D, A, B)."""
    recs = recommend(build_model(taste_groups), E, "popular", k=4)
    assert [rec.item for rec in recs] == [C, D, A, B]
    assert recs[0].reason == "liked by 8 users (53 % of all), most liked overall"


def test_lift_reason_quotes_both_shares(taste_groups: Ratings) -> None:
    """B: rated above 4 by all 6 fans of A, and by 6 of the 6 users who rated A or B above 4."""
    recs = recommend(build_model(taste_groups), A, "lift")
    assert [(rec.item, rec.score) for rec in recs] == [(B, 1.0)]
    assert recs[0].reason == "rated above 4 by 100 % of its fans vs 100 % of all users"


def test_cosine_reason_counts_shared_fans(taste_groups: Ratings) -> None:
    """D is liked by all 8 fans of C: cosine 8 / sqrt(8 * 8) = 1."""
    recs = recommend(build_model(taste_groups), C, "cosine", k=1)
    assert recs[0].item == D
    assert recs[0].score == pytest.approx(1.0)
    assert recs[0].reason == "liked by 100 % of its 8 fans (cosine 1.00)"


def original_lift(ratings: pd.DataFrame, movie_id: int) -> pd.Series:
    """The original Dataquest ``find_similar_movies`` score, transcribed line by line."""
    similar_users = ratings[(ratings["movieId"] == movie_id)
                            & (ratings["rating"] > 4)]["userId"].unique()
    similar_user_recs = ratings[(ratings["userId"].isin(similar_users))
                                & (ratings["rating"] > 4)]["movieId"]
    similar_user_recs = similar_user_recs.value_counts() / len(similar_users)
    similar_user_recs = similar_user_recs[similar_user_recs > .10]
    all_users = ratings[(ratings["movieId"].isin(similar_user_recs.index))
                        & (ratings["rating"] > 4)]
    all_user_recs = all_users["movieId"].value_counts() / len(all_users["userId"].unique())
    rec_percentages = pd.concat([similar_user_recs, all_user_recs], axis=1)
    rec_percentages.columns = ["similar", "all"]
    return rec_percentages["similar"] / rec_percentages["all"]


@pytest.fixture(name="random_ratings")
def fixture_random_ratings() -> Ratings:
    """300 users rating 40 movies in half stars, with popular and niche movies."""
    rng = np.random.default_rng(7)
    n_users, n_items = 300, 40
    taste = rng.integers(0, 3, n_users)
    rows = []
    for user in range(n_users):
        items = rng.choice(n_items, size=rng.integers(3, 20), replace=False,
                           p=np.linspace(2, 0.2, n_items) / np.linspace(2, 0.2, n_items).sum())
        for item in items:
            bonus = 1.5 if item % 3 == taste[user] else 0.0
            value = np.clip(np.round((rng.normal(3.0, 1.0) + bonus) * 2) / 2, 0.5, 5.0)
            rows.append((user, int(item), float(value), int(rng.integers(0, 10**6))))
    return make_ratings(rows, n_items)


@pytest.mark.parametrize("movie", [0, 5, 17, 33])
def test_lift_equals_the_original_formula(random_ratings: Ratings, movie: int) -> None:
    """Every candidate and score equals the pandas transcription of the original."""
    frame = pd.DataFrame({"userId": random_ratings.user_idx, "movieId": random_ratings.item_idx,
                          "rating": random_ratings.rating})
    expected = original_lift(frame, movie).drop(index=movie)
    recs = recommend(build_model(random_ratings), movie, "lift", k=random_ratings.n_items)
    assert len(expected) > 3
    assert sorted(rec.item for rec in recs) == sorted(expected.index)
    for rec in recs:
        assert rec.score == pytest.approx(expected[rec.item], rel=1e-12)
    assert [rec.score for rec in recs] == sorted((rec.score for rec in recs), reverse=True)


def test_cosine_equals_the_dense_formula(random_ratings: Ratings) -> None:
    """Cosine of binary liked columns, computed densely, gives the same top ten."""
    dense = np.zeros((random_ratings.n_users, random_ratings.n_items))
    keep = random_ratings.rating >= 4.0
    dense[random_ratings.user_idx[keep], random_ratings.item_idx[keep]] = 1.0
    norms = np.sqrt(dense.sum(axis=0))
    cosine = dense.T @ dense[:, 3] / (norms * norms[3])
    cosine[3] = 0.0
    recs = recommend(build_model(random_ratings), 3, "cosine", k=10)
    assert [rec.score for rec in recs] == pytest.approx(np.sort(cosine)[::-1][:10])
    assert cosine[[rec.item for rec in recs]] == pytest.approx([rec.score for rec in recs])


def test_fan_sample_keeps_reasons_exact(random_ratings: Ratings,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """With a sample of 10 fans the scores are estimates, but every reason still quotes
    the exact share of all fans, counted here from the raw ratings."""
    model = build_model(random_ratings)
    full = recommend(model, 0, "cosine", k=5)
    monkeypatch.setattr(scorers, "MAX_FANS", 10)
    sampled = recommend(model, 0, "cosine", k=5)
    assert [rec.score for rec in sampled] != [rec.score for rec in full]  # the sample is used
    def likers(movie: int) -> set[int]:
        return set(random_ratings.user_idx[(random_ratings.rating >= 4.0)
                                           & (random_ratings.item_idx == movie)].tolist())

    fans = likers(0)
    assert len(fans) > 10 and len(sampled) == 5
    for rec in sampled:
        share = 100 * len(likers(rec.item) & fans) / len(fans)
        assert rec.reason.startswith(f"liked by {share:.0f} % of its {len(fans)} fans (cosine ")


def test_sequential_prefers_the_movie_liked_next() -> None:
    """B, C and D are liked by every fan of A: B right after A, C right before, D two after."""
    rows = []
    for user in range(5):
        rows += [(user, C, 5.0, 1), (user, A, 5.0, 2), (user, B, 5.0, 3), (user, D, 4.0, 4)]
    model = build_model(make_ratings(rows))
    recs = recommend(model, A, "sequential", k=3,
                     params=scorers.SequentialParams(window=2, decay=0.5, backward=0.8,
                                                           backoff=1.0, alpha=0.5, beta=0.0))
    assert [rec.item for rec in recs] == [B, C, D]
    assert recs[0].reason == "liked next by 5 of its fans, liked by 100 % of its 5 fans"


@pytest.mark.parametrize("above_4, expected", [(0.0, [B, C]), (1.0, [C, B])])
def test_above_4_weight_favours_movies_rated_above_4(above_4: float, expected: list[int]
                                                     ) -> None:
    """B (rated 4.0) and C (5.0) are co-liked by the same fans of A. Without the above-4
    weight their co-occurrence ties and B, liked right after A, leads; with it C wins."""
    rows = []
    for user in range(4):
        rows += [(user, A, 5.0, 1), (user, B, 4.0, 2), (user, C, 5.0, 3)]
    params = scorers.SequentialParams(window=2, backward=0.0, beta=0.0, above_4=above_4,
                                            backoff=1e6)
    recs = recommend(build_model(make_ratings(rows)), A, "sequential", params=params)
    assert [rec.item for rec in recs] == expected


def test_timestamp_ties_are_ordered_by_movie() -> None:
    """Likes with the same timestamp follow movie order, whatever the input order."""
    rows = [(0, 3, 5.0, 7), (0, 1, 5.0, 7), (0, 2, 5.0, 5), (1, 0, 4.0, 1)]
    model = build_model(make_ratings(rows))
    assert model.user_items[:3].tolist() == [2, 1, 3]
    assert model.fans(1).tolist() == [0]


def test_arrays_round_trip(taste_groups: Ratings) -> None:
    """A model rebuilt from its arrays answers exactly like the original."""
    model = build_model(taste_groups)
    arrays = liked.to_arrays(model)
    assert all(isinstance(value, np.ndarray) for value in arrays.values())
    reloaded = liked.from_arrays(arrays)
    for method in scorers.METHODS:
        assert recommend(reloaded, C, method) == recommend(model, C, method)


def test_from_arrays_rejects_incomplete_or_inconsistent_arrays(taste_groups: Ratings) -> None:
    """A missing or truncated array is an error, not a wrong answer."""
    arrays = liked.to_arrays(build_model(taste_groups))
    with pytest.raises(ArraysMismatchError, match="lack item_pos"):
        liked.from_arrays({k: v for k, v in arrays.items() if k != "item_pos"})
    with pytest.raises(ArraysMismatchError, match="do not fit"):
        liked.from_arrays({**arrays, "item_users": arrays["item_users"][:-1]})


@pytest.mark.parametrize("change, message", [
    ({"rating": np.array([5.0], dtype=np.float32)}, "differ in length"),
    ({"n_items": 2}, "item_idx holds positions outside 0..1"),
])
def test_build_model_rejects_bad_input(taste_groups: Ratings, change: dict, message: str
                                       ) -> None:
    """Inconsistent input arrays raise ArraysMismatchError naming the problem."""
    fields = {name: getattr(taste_groups, name) for name in
              ("user_idx", "item_idx", "rating", "timestamp", "n_users", "n_items")}
    with pytest.raises(ArraysMismatchError, match=message):
        build_model(Ratings(**{**fields, **change}))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"method": "magic"}, scorers.UnknownMethodError, "unknown method 'magic'"),
    ({"item": 99}, scorers.MovieOutOfRangeError, "outside 0..4"),
])
def test_recommend_rejects_bad_arguments(taste_groups: Ratings, kwargs: dict, error: type,
                                         message: str) -> None:
    """An unknown method or out-of-range movie raises its named error."""
    with pytest.raises(error, match=message):
        recommend(build_model(taste_groups), **{"item": A, **kwargs})


def test_top_k_breaks_ties_by_position() -> None:
    """Ties at the cut are resolved by lower position, not by partition order."""
    scores = np.array([1.0, 3.0, 1.0, 3.0, 0.0, 1.0])
    allowed = np.ones(6, dtype=bool)
    allowed[1] = False
    assert top_k(scores, 3, allowed).tolist() == [3, 0, 2]
    assert top_k(scores, 10, allowed).tolist() == [3, 0, 2, 5]
    assert top_k(scores, 2, allowed, prefer=np.array([0, 0, 1, 0, 0, 2])).tolist() == [3, 5]

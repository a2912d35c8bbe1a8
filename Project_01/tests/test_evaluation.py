"""The offline evaluation (holdout, tuning, metrics, report, evaluation) on known answers."""
import numpy as np
import pytest

from movie_recommender import evaluation, holdout, liked, metrics, scorers, tuning
from movie_recommender.holdout import QueryPairs, UserSample
from movie_recommender.liked import Ratings
from movie_recommender.report import format_table, report_to_dict
from movie_recommender.scorers import SequentialParams

PURE_NEXT = SequentialParams(window=1, backward=0.0, backoff=0.0, beta=0.0)
FOUR_USERS = UserSample(eval_users=4, seed=3)


def ratings_from_sequences(sequences: list[list[int]], n_items: int,
                           disliked: dict[int, list[int]] | None = None) -> Ratings:
    """Each user likes her sequence in order (timestamps 1, 2, ...); ``disliked`` adds 1-star
    ratings given after every like."""
    rows = [(user, item, 5.0, step) for user, items in enumerate(sequences)
            for step, item in enumerate(items, start=1)]
    rows += [(user, item, 1.0, 100) for user, items in (disliked or {}).items()
             for item in items]
    users, items, values, times = (np.array(column) for column in zip(*rows))
    return Ratings(user_idx=users.astype(np.int32), item_idx=items.astype(np.int32),
                   rating=values.astype(np.float32), timestamp=times.astype(np.int64),
                   n_users=len(sequences), n_items=n_items)


@pytest.fixture(name="chain")
def fixture_chain() -> Ratings:
    """User s likes movies s, s+1, ..., s+5 in that order (s = 0..4), plus a short user.

    Her target is s+5 and her query s+4; the step s+4 -> s+5 appears in the training
    history of user s+1 for s = 0..3, while movie 9 (user 4's target) is liked by nobody
    else. So "liked next" finds 4 of the 5 targets at rank 1. User 5 has only 4 likes.
    """
    return ratings_from_sequences([list(range(s, s + 6)) for s in range(5)] + [[0, 1, 2, 3]],
                                  n_items=10, disliked={5: [9]})


@pytest.fixture(name="rotations")
def fixture_rotations() -> Ratings:
    """Two taste groups of six movies (0-5, 6-11); six users per group like all six of
    their group's movies, each user in a different rotation of the order, so each movie
    is exactly one user's target and every target is liked by five other users."""
    sequences = []
    for group in (0, 6):
        for shift in range(6):
            sequences.append([group + (shift + step) % 6 for step in range(6)])
    return ratings_from_sequences(sequences, n_items=12)


def test_holdout_split_takes_last_like_and_the_one_before(chain: Ratings) -> None:
    """Target = last like, query = the like before; users with < 5 likes are left out."""
    split = holdout.holdout_split(chain)
    assert split.users.tolist() == [0, 1, 2, 3, 4]
    assert split.targets.tolist() == [5, 6, 7, 8, 9]
    assert split.queries.tolist() == [4, 5, 6, 7, 8]
    assert (~split.train).sum() == 5


def test_validation_split_is_one_step_earlier_and_drops_test_targets(chain: Ratings) -> None:
    """Validation targets are the second-to-last likes; both held-out likes leave training."""
    test = holdout.holdout_split(chain)
    valid = holdout.holdout_split(chain, steps_back=1)
    assert valid.targets.tolist() == [4, 5, 6, 7, 8]
    assert valid.queries.tolist() == [3, 4, 5, 6, 7]
    assert not (valid.train & ~test.train).any()
    assert (~valid.train).sum() == 10


def test_training_never_contains_the_targets(rotations: Ratings,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """No model the evaluation builds has seen a held-out (user, target) like."""
    built: list[Ratings] = []
    real_build = liked.build_model

    def recording_build(ratings: Ratings) -> liked.LikedMatrices:
        built.append(ratings)
        return real_build(ratings)
    monkeypatch.setattr(liked, "build_model", recording_build)
    evaluation.evaluate(rotations, param_grid=[PURE_NEXT])
    test = holdout.holdout_split(rotations)
    valid = holdout.holdout_split(rotations, steps_back=1)
    held_out = set(zip(test.users.tolist(), test.targets.tolist()))
    assert len(built) == 2
    for training in built:
        pairs = set(zip(training.user_idx.tolist(), training.item_idx.tolist()))
        assert not pairs & held_out
    validation_pairs = set(zip(built[0].user_idx.tolist(), built[0].item_idx.tolist()))
    assert not validation_pairs & set(zip(valid.users.tolist(), valid.targets.tolist()))


def test_liked_next_finds_four_of_five_chain_targets(chain: Ratings) -> None:
    """With pure "liked next" the hit rate at 1 is 4/5 by construction; NDCG equals it."""
    report = evaluation.evaluate(chain, methods=["sequential"], k=1, param_grid=[PURE_NEXT])
    result = report.results[0]
    assert report.n_eligible == 5
    assert (result.n_users, result.hit_rate, result.ndcg) == (5, 0.8, 0.8)
    assert result.hit_rate_se == pytest.approx(np.std([1, 1, 1, 1, 0], ddof=1) / np.sqrt(5))


def test_hit_rates_known_by_construction(rotations: Ratings) -> None:
    """Top 5: co-liking methods return the five group mates (hit rate 1); popularity
    ties everywhere and returns movies 0-4, which only helps the first group (0.5)."""
    report = evaluation.evaluate(rotations, methods=["cosine", "lift", "popular"], k=5)
    rates = {result.method: result.hit_rate for result in report.results}
    assert rates == {"cosine": 1.0, "lift": 1.0, "popular": 0.5}
    popular = report.results[2]
    assert popular.hit_rate_se == pytest.approx(np.std([1] * 6 + [0] * 6, ddof=1) / np.sqrt(12))
    assert report.validation is None


def test_tuning_picks_the_best_validation_grid_point(chain: Ratings) -> None:
    """A grid point that ranks by popularity loses to pure "liked next" on validation
    (where, one step earlier, "liked next" again finds 4 of 5: movie 8 is user 4's alone)."""
    by_popularity = SequentialParams(window=1, backward=0.0, backoff=1e9, alpha=0.0, beta=-1.0)
    report = evaluation.evaluate(chain, methods=["sequential"], k=1,
                                 param_grid=[by_popularity, PURE_NEXT])
    assert report.params == PURE_NEXT
    assert report.validation is not None and report.validation.hit_rate == 0.8


def test_sample_of_users_is_reproducible(rotations: Ratings) -> None:
    """``eval_users`` bounds the sample and ``seed`` fixes it."""
    first = evaluation.evaluate(rotations, methods=["popular"], users=FOUR_USERS)
    again = evaluation.evaluate(rotations, methods=["popular"], users=FOUR_USERS)
    assert first.results[0].n_users == 4
    assert first == again


def test_tuning_on_a_sample_of_the_evaluated_users(rotations: Ratings) -> None:
    """``tune_users`` tunes on that many of the evaluated users and tests on all of them."""
    report = evaluation.evaluate(rotations, methods=["sequential"], k=5,
                                 users=UserSample(eval_users=10, tune_users=4),
                                 param_grid=[PURE_NEXT])
    assert report.validation is not None and report.validation.n_users == 4
    assert report.results[0].n_users == 10
    everyone = evaluation.evaluate(rotations, methods=["sequential"], k=5,
                                   users=UserSample(tune_users=100),
                                   param_grid=[PURE_NEXT])
    assert everyone.validation is not None and everyone.validation.n_users == 12


def test_sample_users_is_sorted_unique_seeded_and_all_when_not_bounded() -> None:
    """The evaluated users are a seeded sample without repeats, or everyone."""
    sample = holdout.sample_users(50, 10, seed=7)
    assert len(sample) == 10 and len(set(sample.tolist())) == 10
    assert np.all(np.diff(sample) > 0) and sample.max() < 50
    assert np.array_equal(sample, holdout.sample_users(50, 10, seed=7))
    assert not np.array_equal(sample, holdout.sample_users(50, 10, seed=8))
    assert np.array_equal(holdout.sample_users(5, None, seed=0), np.arange(5))
    assert np.array_equal(holdout.sample_users(5, 9, seed=0), np.arange(5))


def random_sequences(n_users: int, n_items: int = 30, seed: int = 11) -> list[list[int]]:
    """Seeded like-sequences of 5 to 14 distinct movies, the low positions more popular."""
    rng = np.random.default_rng(seed)
    popularity = np.linspace(3, 1, n_items) / np.linspace(3, 1, n_items).sum()
    return [rng.choice(n_items, size=rng.integers(5, 15), replace=False, p=popularity).tolist()
            for _ in range(n_users)]


def rank_in(recommendations: list[scorers.Recommendation], target: int) -> int:
    """1-based rank of ``target`` among the recommendations, 0 when absent."""
    items = [rec.item for rec in recommendations]
    return items.index(target) + 1 if target in items else 0


def test_tuning_ranks_match_recommend() -> None:
    """Tuning scores only each query's support and shares work between grid points; every
    grid point must still rank exactly as ``recommend`` does."""
    sequences = random_sequences(80)
    ratings = ratings_from_sequences(sequences, n_items=30)
    model = liked.build_model(ratings)
    queries = np.array([seq[0] for seq in sequences])
    targets = np.array([seq[-1] for seq in sequences])
    grid = tuning.default_param_grid()[::5]
    assert len({params.above_4 for params in grid}) == 2
    assert len({params.beta for params in grid}) == 3
    assert len({params.backoff for params in grid}) == 4
    ranks = tuning.tuning_ranks(QueryPairs(model, queries, targets), grid, k=5)
    for params, row in zip(grid, ranks):
        expected = [rank_in(scorers.recommend(model, int(query), k=5, params=params),
                            int(target))
                    for query, target in zip(queries, targets)]
        assert row.tolist() == expected
    hit_rates = (ranks > 0).mean(axis=1)
    assert 0 < hit_rates.min() < hit_rates.max() < 1


def test_two_processes_give_the_same_report() -> None:
    """``jobs=2`` shares tuning and test queries between two processes; no figure changes."""
    ratings = ratings_from_sequences(random_sequences(90), n_items=30)
    grid = tuning.default_param_grid()[::12]
    alone = evaluation.evaluate(ratings, k=5, param_grid=grid)
    shared = evaluation.evaluate(ratings, k=5, param_grid=grid, jobs=2)
    assert shared == alone
    assert alone.results[0].n_users == 90 and 0 < alone.results[0].hit_rate < 1
    assert alone.validation is not None and 0 < alone.validation.hit_rate < 1


def test_rank_matrix_of_no_pairs_is_empty(chain: Ratings) -> None:
    """Nothing to rank gives a matrix with the asked rows and no columns."""
    pairs = QueryPairs(liked.build_model(chain), np.zeros(0, np.int64), np.zeros(0, np.int64))
    ranks = metrics.rank_matrix(lambda *_: np.ones((3, 1)), pairs, n_rows=3, jobs=2)
    assert ranks.shape == (3, 0)


def test_report_table_and_dict(rotations: Ratings) -> None:
    """The text table has one row per method; the dict holds the same figures."""
    measured = evaluation.evaluate(rotations, methods=["cosine", "popular"], k=5)
    lines = format_table(measured, k=5).splitlines()
    assert lines[0].split() == ["method", "HR@5", "NDCG@5", "users"]
    assert lines[1].startswith("cosine") and "1.0000 ± 0.0000" in lines[1]
    assert lines[2].startswith("popular") and "0.5000 ± 0.1508" in lines[2]
    as_dict = report_to_dict(measured)
    assert [row["hit_rate"] for row in as_dict["results"]] == [1.0, 0.5]
    assert as_dict["n_eligible"] == 12 and as_dict["validation"] is None

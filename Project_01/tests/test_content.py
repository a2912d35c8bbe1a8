"""The content-based fallback (movie_recommender.content) and when the recommender uses it."""
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics.pairwise import cosine_similarity

from movie_recommender import ArraysMismatchError, recommender
from movie_recommender.content import TagMatrix
from movie_recommender.index_build import build_arrays, fit_tag_matrix
from movie_recommender.recommender import Recommender


@pytest.fixture(name="tiny")
def fixture_tiny(tiny_dir: Path) -> Recommender:
    """The tiny set, indexed in memory."""
    return Recommender.from_arrays(build_arrays(tiny_dir, progress=False))


def test_tag_cosines_equal_scikit_learns() -> None:
    """The numpy cosine over the CSR rows equals scikit-learn's on the same TF-IDF rows."""
    items = np.array([0, 0, 1, 1, 1, 2, 3, 3])
    tags = ["pixar", "toys", "pixar", "pixar", "sequel", "dark", "toys", "dark"]
    matrix = fit_tag_matrix(items, tags, n_movies=5)
    dense = np.zeros((5, len(matrix.vocabulary)))
    for movie in range(5):
        terms, weights = matrix.row(movie)
        dense[movie, terms] = weights
    for movie in range(4):
        assert matrix.cosines(movie) == pytest.approx(cosine_similarity(dense)[movie])
    assert matrix.shared_tags(0, 3) == ["toys"]
    assert not matrix.cosines(4).any()  # an untagged movie is like nothing


def test_tag_arrays_are_checked() -> None:
    """Missing or inconsistent tag arrays are a named error, not a wrong answer."""
    arrays = fit_tag_matrix(np.array([0]), ["pixar"], n_movies=2).to_arrays()
    with pytest.raises(ArraysMismatchError, match="lack term"):
        TagMatrix.from_arrays({k: v for k, v in arrays.items() if k != "term"})
    with pytest.raises(ArraysMismatchError, match="do not fit"):
        TagMatrix.from_arrays({**arrays, "term": np.array([3], dtype=np.int32)})


@pytest.mark.parametrize("min_fans, fallback", [(6, None), (7, recommender.TOO_FEW_FANS)])
def test_min_fans_is_the_boundary(tiny: Recommender, monkeypatch: pytest.MonkeyPatch,
                                  min_fans: int, fallback: str | None) -> None:
    """Toy Story has 6 fans: collaborative at MIN_FANS 6, content-based at 7."""
    monkeypatch.setattr(recommender, "MIN_FANS", min_fans)
    answer = tiny.recommend(tiny.find("Toy Story"), method="sequential", top=3)
    assert (answer.fallback, answer.n_fans) == (fallback, 6)
    first = answer.recommendations[0]
    assert first.item == 1  # Toy Story 2 either way: its fans' favourite, same genres
    assert first.reason.startswith("content-based") == (fallback is not None)


def test_popular_needs_no_fans(tiny: Recommender) -> None:
    """The popularity baseline answers a fan-less movie itself, without a fallback."""
    answer = tiny.recommend(tiny.find("Lonely Film"), method="popular", top=3)
    assert answer.fallback is None and answer.fallback_note() is None
    assert "most liked overall" in answer.recommendations[0].reason


def test_lift_without_ratings_above_4_says_the_method_found_nothing(
        tmp_path: Path, tiny_rows: tuple, make_movielens) -> None:
    """Six users rated a movie exactly 4: liked, but the original lift score counts only
    ratings above 4, so it has nothing to go on and the answer says so."""
    movies, ratings = tiny_rows
    folder = make_movielens(tmp_path / "fours", movies,
                            ratings + [(user, 9, 4.0, 1) for user in range(20, 26)])
    model = Recommender.from_arrays(build_arrays(folder, progress=False))
    answer = model.recommend(model.find("Lonely Film"), method="lift", top=3)
    assert (answer.fallback, answer.n_fans) == (recommender.NO_CANDIDATES, 6)
    assert answer.fallback_note().startswith("FALLBACK: the lift method finds nothing")

"""The bundled data's contract and the CSV reader's checks."""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.csv as pa_csv
import pytest

from movie_recommender import dataset
from movie_recommender.dataset import DatasetError


def test_bundled_files_and_licence(bundled_dir: Path) -> None:
    """The bundled set travels with the GroupLens README that carries its licence."""
    readme = (bundled_dir / "README.txt").read_text(encoding="utf-8")
    assert "Usage License" in readme
    assert "may redistribute the data set" in readme
    for name in ("movies.csv", "ratings.csv"):
        assert (bundled_dir / name).is_file()


def test_bundled_raw_columns(bundled_dir: Path) -> None:
    """The CSV headers are exactly MovieLens' own."""
    movies = pa_csv.read_csv(bundled_dir / "movies.csv")
    ratings = pa_csv.read_csv(bundled_dir / "ratings.csv")
    assert movies.column_names == ["movieId", "title", "genres"]
    assert ratings.column_names == ["userId", "movieId", "rating", "timestamp"]


def test_bundled_data_contract(bundled_dir: Path) -> None:
    """Unique ids, ratings in 0.5..5.0 by half stars, compact dtypes, known movies only."""
    movies = dataset.load_movies(bundled_dir / "movies.csv")
    ratings = dataset.load_ratings(bundled_dir / "ratings.csv", movies.movie_ids)
    assert len(movies.movie_ids) == 9742
    assert len(np.unique(movies.movie_ids)) == len(movies.movie_ids)
    assert all(movies.titles) and len(movies.genres) == len(movies.titles)
    assert len(ratings.rating) == 100836
    assert ratings.n_users == 610 and ratings.n_items == 9742
    assert ratings.rating.dtype == np.float32 and ratings.user_idx.dtype == np.int32
    assert ratings.item_idx.dtype == np.int32 and ratings.timestamp.dtype == np.int64
    assert ratings.rating.min() == 0.5 and ratings.rating.max() == 5.0
    assert set(np.unique(ratings.rating * 2)) <= set(range(1, 11))
    pairs = ratings.user_idx.astype(np.int64) * ratings.n_items + ratings.item_idx
    assert len(np.unique(pairs)) == len(pairs)  # one rating per user and movie
    assert ratings.item_idx.min() >= 0 and ratings.user_idx.max() == 609


def test_ratings_coded_against_catalogue(tiny_dir: Path, tiny_rows: tuple) -> None:
    """Movie positions follow the ascending movieIds; users are numbered by id."""
    movies = dataset.load_movies(tiny_dir / "movies.csv")
    ratings = dataset.load_ratings(tiny_dir / "ratings.csv", movies.movie_ids)
    movie_rows, rows = tiny_rows
    assert list(movies.movie_ids) == [movie[0] for movie in movie_rows]
    assert list(movies.movie_ids[ratings.item_idx]) == [row[1] for row in rows]
    assert list(ratings.user_idx) == [row[0] - 1 for row in rows]


def test_unknown_movies_are_dropped_with_a_warning(
        tmp_path: Path, tiny_rows: tuple, make_movielens: Callable,
        caplog: pytest.LogCaptureFixture) -> None:
    """Ratings of a movie missing from movies.csv are dropped, and the log says so."""
    movie_rows, rows = tiny_rows
    folder = make_movielens(tmp_path, movie_rows, rows + [(3, 999, 4.0, 1)])
    movies = dataset.load_movies(folder / "movies.csv")
    with caplog.at_level(logging.WARNING):
        ratings = dataset.load_ratings(folder / "ratings.csv", movies.movie_ids)
    assert len(ratings.rating) == len(rows)
    assert "dropping 1 ratings" in caplog.text


@pytest.mark.parametrize(("movies_csv", "ratings_csv", "message"), [
    ("movieId,title\n1,A (1999)\n", None, "not in the MovieLens layout"),
    ("movieId,title,genres\n1,A (1999),Drama\n1,B (2000),Drama\n", None,
     "movieId 1 appears more than once"),
    ("movieId,title,genres\nx,A (1999),Drama\n", None, "not in the MovieLens layout"),
    (None, "userId,movieId,rating,timestamp\n1,1,5.5,0\n", "outside 0.5..5.0"),
    (None, "userId,movieId,rating,timestamp\n1,1,0.0,0\n", "outside 0.5..5.0"),
    (None, "userId,movieId,rating,timestamp\n1,,4.0,0\n", "empty fields"),
    (None, "userId,movieId,stars\n1,1,4.0\n", "not in the MovieLens layout"),
])
def test_contract_violations(tmp_path: Path, movies_csv: str | None, ratings_csv: str | None,
                             message: str) -> None:
    """A file that breaks the contract is a DatasetError with a readable reason."""
    (tmp_path / "movies.csv").write_text(movies_csv or "movieId,title,genres\n1,A (1999),Drama\n",
                                         encoding="utf-8")
    (tmp_path / "ratings.csv").write_text(ratings_csv or "userId,movieId,rating,timestamp\n",
                                          encoding="utf-8")
    with pytest.raises(DatasetError, match=message):
        movies = dataset.load_movies(tmp_path / "movies.csv")
        dataset.load_ratings(tmp_path / "ratings.csv", movies.movie_ids)


def test_missing_file(tmp_path: Path) -> None:
    """A folder without the CSVs names the missing file."""
    with pytest.raises(DatasetError, match="movies.csv not found"):
        dataset.check_folder(tmp_path)


@pytest.mark.parametrize("offset", [0, dataset.LOOKUP_LIMIT])
def test_positions_by_lookup_and_by_sorting_agree(offset: int) -> None:
    """Small ids use a lookup table, huge ones a sorted search: same positions."""
    known = np.array([3, 10, 11, 400], dtype=np.int64) + offset
    ids = np.array([400, 3, 5, 11, 3, 10], dtype=np.int64) + offset
    assert list(dataset.positions(ids, known)) == [3, 0, -1, 2, 0, 1]
    assert list(dataset.distinct(ids)) == [3 + offset, 5 + offset, 10 + offset,
                                           11 + offset, 400 + offset]

"""Fixtures shared by the Project_01 tests."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from movie_recommender.index_build import build_arrays
from movie_recommender.recommender import Recommender

PROJECT_DIR = Path(__file__).resolve().parents[1]
BUNDLED_DIR = PROJECT_DIR / "data" / "ml-latest-small"

# A tiny MovieLens set whose right answers are certain: "family" fans love the Toy
# Story films and Amelie, "action" fans love The Matrix, Terminator and Aliens; nobody
# likes "Lonely Film" (so it has no fans); the 1996 Hamlet has more ratings than the
# 1948 one (so it wins a tie on title alone).
TINY_MOVIES = [
    (1, "Toy Story (1995)", "Adventure|Animation|Children|Comedy"),
    (2, "Toy Story 2 (1999)", "Adventure|Animation|Children|Comedy"),
    (3, "Matrix, The (1999)", "Action|Sci-Fi|Thriller"),
    (4, "Terminator, The (1984)", "Action|Sci-Fi"),
    (5, "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)", "Comedy|Romance"),
    (6, "Hamlet (1948)", "Drama"),
    (7, "Hamlet (1996)", "Crime|Drama|Romance"),
    (8, "Aliens (1986)", "Action|Horror|Sci-Fi"),
    (9, "Lonely Film (2000)", "Comedy|Romance"),
    (10, "Romance of Amelie (2005)", "Romance"),
]
FAMILY_USERS = range(1, 7)
ACTION_USERS = range(7, 13)


def tiny_ratings() -> list[tuple[int, int, float, int]]:
    """(userId, movieId, rating, timestamp) rows of the tiny set."""
    rows = []
    clock = 1_000_000_000
    for user in FAMILY_USERS:
        for movie, rating in ((1, 5.0), (2, 5.0), (5, 4.5), (7, 3.0), (9, 2.0)):
            clock += 60
            rows.append((user, movie, rating, clock))
    for user in ACTION_USERS:
        for movie, rating in ((3, 5.0), (4, 5.0), (8, 4.5), (6, 3.0), (10, 2.5)):
            clock += 60
            rows.append((user, movie, rating, clock))
    rows.append((1, 7, 3.5, clock + 60))
    return rows


def write_movielens(folder: Path, movies: list[tuple], ratings: list[tuple]) -> Path:
    """Write ``movies.csv`` and ``ratings.csv`` in the MovieLens layout into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "movies.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["movieId", "title", "genres"])
        writer.writerows(movies)
    with (folder / "ratings.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["userId", "movieId", "rating", "timestamp"])
        writer.writerows((user, movie, f"{rating:.1f}", stamp)
                         for user, movie, rating, stamp in ratings)
    return folder


@pytest.fixture(name="tiny_dir")
def fixture_tiny_dir(tmp_path: Path) -> Path:
    """A folder with the tiny MovieLens set (fresh for each test, so tests may edit it)."""
    return write_movielens(tmp_path / "tiny", TINY_MOVIES, tiny_ratings())


@pytest.fixture(name="cache_dir")
def fixture_cache_dir(tmp_path: Path) -> Path:
    """An empty cache folder: tests never touch the user's real cache."""
    return tmp_path / "cache"


@pytest.fixture(name="bundled", scope="session")
def fixture_bundled() -> Recommender:
    """The bundled ml-latest-small, indexed in memory once per test session."""
    return Recommender.from_arrays(build_arrays(BUNDLED_DIR, progress=False))

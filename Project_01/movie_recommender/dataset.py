"""Read MovieLens CSV files (``movies.csv``, ``ratings.csv``) into compact arrays.

Only the index build and ``--evaluate`` read CSVs; a query opens the binary index
instead, so pandas stays off the query path.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from movie_recommender import MovieRecommenderError
from movie_recommender.collaborative import Ratings

logger = logging.getLogger(__name__)

MOVIES_FILE = "movies.csv"
RATINGS_FILE = "ratings.csv"
SOURCE_FILES = (MOVIES_FILE, RATINGS_FILE)
MOVIE_COLUMNS = {"movieId": np.int64, "title": str, "genres": str}
RATING_COLUMNS = {"userId": np.int32, "movieId": np.int32, "rating": np.float32,
                  "timestamp": np.int64}
MIN_RATING, MAX_RATING = 0.5, 5.0


class DatasetError(MovieRecommenderError):
    """A MovieLens folder or file that is missing or breaks the CSV contract."""


def check_folder(folder: Path) -> None:
    """Make sure ``folder`` holds ``movies.csv`` and ``ratings.csv``.

    Raises:
        DatasetError: naming the first missing file.
    """
    for name in SOURCE_FILES:
        if not (folder / name).is_file():
            raise DatasetError(f"{folder / name} not found: a MovieLens folder needs "
                               f"{' and '.join(SOURCE_FILES)}")


def load_movies(path: Path) -> pd.DataFrame:
    """Read ``movies.csv`` (movieId, title, genres) and check its contract.

    Raises:
        DatasetError: if the file cannot be read, lacks a column, or repeats a movieId.
    """
    frame = _read_csv(path, MOVIE_COLUMNS)
    frame["genres"] = frame["genres"].fillna("")
    if frame["title"].isna().any():
        raise DatasetError(f"{path}: {int(frame['title'].isna().sum())} movies have no title")
    if frame["movieId"].duplicated().any():
        duplicate = frame.loc[frame["movieId"].duplicated(), "movieId"].iloc[0]
        raise DatasetError(f"{path}: movieId {duplicate} appears more than once")
    return frame


def load_ratings(path: Path, movie_ids: np.ndarray) -> Ratings:
    """Read ``ratings.csv`` and code it against the catalogue's ascending ``movie_ids``.

    Users get positions in order of first appearance; a movie's position is its place
    in ``movie_ids``.

    Ratings of movies missing from ``movies.csv`` are dropped with a warning.

    Raises:
        DatasetError: if the file cannot be read, lacks a column, or holds a rating
            outside 0.5..5.0.
    """
    frame = _read_csv(path, RATING_COLUMNS)
    rating = frame["rating"].to_numpy()
    bad = ~((rating >= MIN_RATING) & (rating <= MAX_RATING))
    if bad.any():
        raise DatasetError(f"{path}: {int(bad.sum())} ratings are outside "
                           f"{MIN_RATING}..{MAX_RATING}, e.g. {rating[bad][0]}")
    item_idx, known = _positions(frame["movieId"].to_numpy(), movie_ids)
    if not known.all():
        logger.warning("%s: dropping %d ratings of movies missing from %s",
                       path, int((~known).sum()), MOVIES_FILE)
    user_codes, users = pd.factorize(frame["userId"].to_numpy()[known])
    return Ratings(user_idx=user_codes.astype(np.int32),
                   item_idx=item_idx[known].astype(np.int32), rating=rating[known],
                   timestamp=frame["timestamp"].to_numpy()[known], n_users=len(users),
                   n_items=len(movie_ids))


def _positions(ids: np.ndarray, sorted_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``ids`` in ``sorted_ids`` and whether each was found."""
    pos = np.searchsorted(sorted_ids, ids)
    pos[pos == len(sorted_ids)] = 0
    known = sorted_ids[pos] == ids if len(sorted_ids) else np.zeros(len(ids), dtype=bool)
    return pos, known


def _read_csv(path: Path, columns: dict[str, type]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, usecols=list(columns), dtype=columns, engine="c")
    except FileNotFoundError as err:
        raise DatasetError(f"{path} not found") from err
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise DatasetError(f"cannot read {path}: {err}") from err
    except ValueError as err:  # a missing column or a value of the wrong type
        raise DatasetError(f"{path} is not in the MovieLens layout "
                           f"({', '.join(columns)}): {err}") from err
    if frame.isna().any().any() and "rating" in columns:
        raise DatasetError(f"{path} has empty fields")
    return frame

"""The "liked" matrices: who liked which movie, in both orientations (numpy only, no files).

The caller maps users and movies to dense positions ``0..n-1``. ``build_model`` turns
the rating arrays into ``LikedMatrices``, ``to_arrays``/``from_arrays`` convert them to and
from a ``dict`` of arrays that the index saves and later memory-maps.

Why hand-written CSR arrays and not ``scipy.sparse``: a warm query takes 0.20 s on the
25M-rating synthetic set (README, "Speed"); importing ``scipy.sparse`` would add 0.12 s
(measured after numpy), 60 % more. So the matrices are plain CSR-style numpy arrays that
a query reads row by row with ``rows``.

Vocabulary: a user *liked* a movie when she rated it at least ``LIKED_THRESHOLD``; the
movie's *fans* are the users who liked it. Ratings above ``ABOVE_4`` (4.5 and 5) count
as strong likes, which the original lift score and a weight of ``sequential`` use.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from movie_recommender import ArraysMismatchError

LIKED_THRESHOLD = 4.0
"""A rating of at least this means "liked"."""

ABOVE_4 = 4.0
"""A rating strictly above this is a strong like (the original lift score's fans)."""

ARRAY_NAMES = ("user_indptr", "user_items", "user_above_4",
               "item_indptr", "item_users", "item_pos", "item_above_4")


@dataclasses.dataclass(frozen=True)
class Ratings:
    """Integer-coded ratings: one entry per (user, movie), positions ``0..n-1``.

    Attributes:
        user_idx: user position of each rating (int32).
        item_idx: movie position of each rating (int32).
        rating: the rating values 0.5..5.0 (float32).
        timestamp: when each rating was given, orders each user's likes (int64).
        n_users: number of user positions.
        n_items: number of movie positions.
    """

    user_idx: np.ndarray
    item_idx: np.ndarray
    rating: np.ndarray
    timestamp: np.ndarray
    n_users: int
    n_items: int

    def subset(self, mask: np.ndarray) -> Ratings:
        """The ratings where ``mask`` is True (same user and movie positions)."""
        return dataclasses.replace(self, user_idx=self.user_idx[mask],
                                   item_idx=self.item_idx[mask], rating=self.rating[mask],
                                   timestamp=self.timestamp[mask])


@dataclasses.dataclass(frozen=True)
class LikedMatrices:
    """The liked matrix (rating >= ``LIKED_THRESHOLD``) by user and by movie.

    Attributes:
        user_indptr: ``n_users + 1`` row offsets into ``user_items``.
        user_items: liked movies of each user, in the order she rated them (timestamp,
            then movie position).
        user_above_4: per entry of ``user_items``: rated above ``ABOVE_4``.
        item_indptr: ``n_items + 1`` column offsets into ``item_users``/``item_pos``.
        item_users: fans of each movie: first those who rated it above ``ABOVE_4``, then
            the others, each group ascending.
        item_pos: per entry of ``item_users``: its position in ``user_items``, which
            gives what that fan liked next.
        item_above_4: per movie, how many of its fans rated it above ``ABOVE_4`` (they
            come first in ``item_users``).
    """

    user_indptr: np.ndarray
    user_items: np.ndarray
    user_above_4: np.ndarray
    item_indptr: np.ndarray
    item_users: np.ndarray
    item_pos: np.ndarray
    item_above_4: np.ndarray

    @property
    def n_users(self) -> int:
        """Number of user positions."""
        return len(self.user_indptr) - 1

    @property
    def n_items(self) -> int:
        """Number of movie positions."""
        return len(self.item_indptr) - 1

    def item_likes(self) -> np.ndarray:
        """Number of fans of each movie."""
        return np.diff(self.item_indptr)

    def fans(self, item: int) -> np.ndarray:
        """Users who liked ``item``."""
        return self.item_users[self.item_indptr[item]:self.item_indptr[item + 1]]

    def fans_above_4(self, items: np.ndarray) -> np.ndarray:
        """Users who rated any of ``items`` above ``ABOVE_4`` (with repeats)."""
        starts = self.item_indptr[items]
        return self.item_users[ranges(starts, self.item_above_4[items])]


def build_model(ratings: Ratings) -> LikedMatrices:
    """Build the liked matrices from the ratings.

    Returns:
        The matrices, made of int32/bool arrays (int64 offsets).

    Raises:
        ArraysMismatchError: if the arrays differ in length or hold positions out of range.
    """
    n_ratings = len(ratings.user_idx)
    if not (len(ratings.item_idx) == len(ratings.rating) == len(ratings.timestamp)
            == n_ratings):
        raise ArraysMismatchError("user_idx, item_idx, rating and timestamp differ in length")
    for name, size in (("user_idx", ratings.n_users), ("item_idx", ratings.n_items)):
        index = getattr(ratings, name)
        if n_ratings and (index.min() < 0 or index.max() >= size):
            raise ArraysMismatchError(f"{name} holds positions outside 0..{size - 1}")
    liked = ratings.rating >= LIKED_THRESHOLD
    users = ratings.user_idx[liked].astype(np.int32)
    items = ratings.item_idx[liked].astype(np.int32)
    order = np.lexsort((items, ratings.timestamp[liked], users))
    users, items = users[order], items[order]
    above_4 = (ratings.rating[liked] > ABOVE_4)[order]
    del order
    # users are sorted, so a stable sort by (movie, not above 4) keeps each group ascending
    by_item = np.argsort(items.astype(np.int64) * 2 + ~above_4, kind="stable").astype(np.int32)
    return LikedMatrices(
        user_indptr=offsets(users, ratings.n_users),
        user_items=items,
        user_above_4=above_4,
        item_indptr=offsets(items, ratings.n_items),
        item_users=users[by_item],
        item_pos=by_item,
        item_above_4=np.bincount(items[above_4], minlength=ratings.n_items).astype(np.int32),
    )


def to_arrays(model: LikedMatrices) -> dict[str, np.ndarray]:
    """Return the matrices as a ``dict`` of named arrays (for ``np.save``/memory-mapping)."""
    return {name: getattr(model, name) for name in ARRAY_NAMES}


def from_arrays(arrays: Mapping[str, np.ndarray]) -> LikedMatrices:
    """Rebuild the matrices from ``to_arrays`` output (arrays may be memory-mapped).

    Raises:
        ArraysMismatchError: if an array is missing or the arrays do not fit together.
    """
    missing = [name for name in ARRAY_NAMES if name not in arrays]
    if missing:
        raise ArraysMismatchError(f"model arrays lack {', '.join(missing)}")
    model = LikedMatrices(**{name: arrays[name] for name in ARRAY_NAMES})
    n_liked = len(model.user_items)
    if not (len(model.user_above_4) == len(model.item_users) == len(model.item_pos) == n_liked
            and model.user_indptr[-1] == n_liked and model.item_indptr[-1] == n_liked
            and len(model.item_above_4) == model.n_items):
        raise ArraysMismatchError("model arrays do not fit together")
    return model


def rows(indptr: np.ndarray, row_ids: np.ndarray) -> np.ndarray:
    """Positions of every entry of ``row_ids`` in a CSR-style data array, row by row."""
    return ranges(indptr[row_ids], indptr[np.asarray(row_ids) + 1] - indptr[row_ids])


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenated ranges ``start .. start + length - 1`` (int64).

    >>> ranges(np.array([5, 0]), np.array([2, 3]))
    array([5, 6, 0, 1, 2])
    """
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    before = np.cumsum(lengths) - lengths
    return np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(starts - before, lengths)


def offsets(sorted_index: np.ndarray, size: int) -> np.ndarray:
    """CSR row offsets (int64, ``size + 1``) of a sorted array of row numbers.

    >>> offsets(np.array([0, 0, 2]), 3)
    array([0, 2, 2, 3])
    """
    counts = np.bincount(sorted_index, minlength=size)
    return np.concatenate(([0], np.cumsum(counts))).astype(np.int64)

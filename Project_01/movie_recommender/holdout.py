"""The leave-last-liked-out split: which like each user holds out, and which users count.

Liked = rating >= ``liked.LIKED_THRESHOLD``. For each user with at least ``MIN_LIKED``
likes, ordered by timestamp (then movie position), the target is her last liked movie
and the query the liked movie just before it; the model is trained without the targets.
A validation split one step earlier (``steps_back=1``) also drops the test targets.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from movie_recommender.liked import LIKED_THRESHOLD, LikedMatrices, Ratings

MIN_LIKED = 5
"""Users with fewer likes than this are not evaluated."""


@dataclasses.dataclass(frozen=True)
class HoldoutSplit:
    """Training mask and one (query, target) pair per evaluated user.

    Attributes:
        train: boolean mask over the input ratings; False for every held-out like.
        users: the evaluated users (all with at least ``MIN_LIKED`` likes).
        queries: each user's query movie.
        targets: each user's held-out movie to find.
    """

    train: np.ndarray
    users: np.ndarray
    queries: np.ndarray
    targets: np.ndarray


@dataclasses.dataclass(frozen=True)
class QueryPairs:
    """A model and the (query, target) pairs to rank on it, one per evaluated user."""

    model: LikedMatrices
    queries: np.ndarray
    targets: np.ndarray


@dataclasses.dataclass(frozen=True)
class UserSample:
    """Which eligible users ``evaluation.evaluate`` measures, and on which of them it tunes.

    Attributes:
        eval_users: evaluate a random sample of this many eligible users (all if None);
            the same users serve for validation and test.
        tune_users: tune on a random sample of this many of the evaluated users (all of
            them if None), so that a test on many users need not tune on as many.
        seed: seed of both samples.
    """

    eval_users: int | None = None
    tune_users: int | None = None
    seed: int = 0


def holdout_split(ratings: Ratings, *, steps_back: int = 0) -> HoldoutSplit:
    """Hold out each eligible user's last like (``steps_back`` = 0) or an earlier one.

    With ``steps_back = s`` the target is the like ``s`` steps before the last one, the
    query the like before that, and the training mask drops the last ``s + 1`` likes of
    every eligible user (so a validation split also excludes the test targets).
    """
    liked = np.flatnonzero(ratings.rating >= LIKED_THRESHOLD)
    users, items = ratings.user_idx[liked], ratings.item_idx[liked]
    order = np.lexsort((items, ratings.timestamp[liked], users))
    liked, users, items = liked[order], users[order], items[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    stops = np.r_[starts[1:], len(users)]
    eligible = stops - starts >= MIN_LIKED
    starts, stops = starts[eligible], stops[eligible]
    target_at = stops - 1 - steps_back
    train = np.ones(len(ratings.rating), dtype=bool)
    for back in range(steps_back + 1):
        train[liked[stops - 1 - back]] = False
    return HoldoutSplit(train=train, users=users[starts].astype(np.int32),
                        queries=items[target_at - 1].astype(np.int32),
                        targets=items[target_at].astype(np.int32))


def sample_users(n_eligible: int, eval_users: int | None, seed: int) -> np.ndarray:
    """Sorted positions of the evaluated users among ``n_eligible``: all, or a seeded sample.

    >>> sample_users(4, None, 0)
    array([0, 1, 2, 3])
    """
    if eval_users is None or eval_users >= n_eligible:
        return np.arange(n_eligible)
    return np.sort(np.random.default_rng(seed).choice(n_eligible, eval_users, replace=False))

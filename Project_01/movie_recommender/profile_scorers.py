"""Recommend for a whole profile (a person's liked movies) on the liked matrices (numpy only).

``item_item``: item-based scores summed over the profile. With ``X`` the binary liked
matrix (users by movies), ``n_i`` a movie's fans and ``|u|`` a user's likes::

    score(j) = n_j ** -beta * sum_u X[u, j] * |u| ** -alpha * sum_i w_i * X[u, i] * n_i ** -gamma

over the profile's liked movies ``i``; ``alpha = 0, beta = gamma = 0.5`` is the sum of the
item-item cosines. ``w_i`` weighs recent likes more when the file has dates (a half-life
counted in likes) and strong likes (above 4) more. The sum is computed through the users
(two weighted ``bincount``), so a 2,000-row profile on 25 million ratings needs no
item-item matrix. Each movie's fans are sampled evenly down to ``MAX_FANS``.

EASE, the method ``--ratings-file`` uses, is in ``profile_ease``.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from movie_recommender.liked import ABOVE_4, LikedMatrices, ranges, rows
from movie_recommender.topk import top_k

MAX_FANS = 5_000
"""A profile movie with more fans counts an evenly spaced sample of this many."""

BECAUSE = 2
"""How many profile movies each recommendation names."""


@dataclasses.dataclass(frozen=True)
class ProfileParams:
    """Hyperparameters of ``item_item`` (see the module docstring)."""

    alpha: float = 0.5
    beta: float = 0.3
    gamma: float = 0.5
    half_life: float = 50.0
    """The ``half_life``-th most recent like counts half as much (0: no recency)."""
    above_4: float = 0.5
    """A like above 4 counts ``1 + above_4`` times."""


DEFAULT_PROFILE_PARAMS = ProfileParams()


@dataclasses.dataclass(frozen=True)
class Profile:
    """A person's ratings as catalogue positions.

    Attributes:
        rated: every movie the person rated or watched (never recommended).
        liked: the liked ones, oldest first when the file has dates.
        strong: per liked movie, rated above 4.
        dated: whether the likes are ordered by date.
    """

    rated: np.ndarray
    liked: np.ndarray
    strong: np.ndarray
    dated: bool


def make_profile(positions: np.ndarray, ratings: np.ndarray, times: np.ndarray,
                 threshold: float) -> Profile:
    """The profile of matched rows (``ratings`` NaN: watched only, ``times`` 0: unknown).

    Liked: rated at least ``threshold``; a file with no rating at all (Letterboxd's
    watched.csv) counts every movie as liked.
    """
    positions = np.asarray(positions, dtype=np.int64)
    ratings = np.asarray(ratings, dtype=np.float64)
    if len(ratings) and np.isnan(ratings).all():
        ratings = np.full(len(ratings), threshold)
    liked = np.flatnonzero(np.nan_to_num(ratings, nan=0.0) >= threshold)
    dated = bool(len(times)) and bool((np.asarray(times)[liked] > 0).all())
    if dated:
        liked = liked[np.argsort(np.asarray(times)[liked], kind="stable")]
    return Profile(rated=positions, liked=positions[liked],
                   strong=ratings[liked] > ABOVE_4, dated=dated)


@dataclasses.dataclass(frozen=True)
class ProfileRecommendation:
    """One recommendation: movie position, score, the profile movies behind it, and
    the method that found it (``ease`` or ``item-item``)."""

    item: int
    score: float
    because: list[int]
    method: str = "item-item"


def like_weights(profile: Profile, params: ProfileParams) -> np.ndarray:
    """Weight of each liked movie: recency (when dated) times strength.

    >>> p = Profile(np.arange(3), np.arange(3), np.array([False, False, True]), True)
    >>> like_weights(p, ProfileParams(half_life=1.0, above_4=1.0)).tolist()
    [0.25, 0.5, 2.0]
    """
    n_liked = len(profile.liked)
    weights = 1.0 + params.above_4 * profile.strong
    if profile.dated and params.half_life > 0:
        age = np.arange(n_liked - 1, -1, -1, dtype=np.float64)
        weights = weights * 0.5 ** (age / params.half_life)
    return weights


class ItemItemScorer:
    """``item_item`` scores of one profile, with what each profile movie contributed."""

    def __init__(self, model: LikedMatrices, profile: Profile, params: ProfileParams) -> None:
        self._model = model
        self._params = params
        items = profile.liked
        starts = model.item_indptr[items]
        counts = model.item_indptr[items + 1] - starts
        sampled = np.minimum(counts, MAX_FANS)
        local = ranges(np.zeros(len(items)), sampled)
        spread = np.repeat(counts, sampled)
        entries = np.repeat(starts, sampled) + local * spread // np.maximum(
            np.repeat(sampled, sampled), 1)
        self._users = model.item_users[entries]
        scale = counts / np.maximum(sampled, 1)
        item_weight = like_weights(profile, params) * scale \
            * np.maximum(counts, 1).astype(np.float64) ** -params.gamma
        self._entry_weight = np.repeat(item_weight, sampled)
        self._segments = np.concatenate(([0], np.cumsum(sampled)[:-1])).astype(np.int64)
        self._sampled = sampled
        self._items = items
        likes = np.diff(model.user_indptr).astype(np.float64)
        self._user_norm = np.maximum(likes, 1) ** -params.alpha
        self._discount = np.maximum(model.item_likes(), 1).astype(np.float64) ** -params.beta

    def scores(self) -> np.ndarray:
        """The score of every movie (0 for those no fan of the profile liked)."""
        model = self._model
        user_weight = np.bincount(self._users, weights=self._entry_weight,
                                  minlength=model.n_users) * self._user_norm
        active = np.flatnonzero(user_weight)
        likes = model.user_indptr[active + 1] - model.user_indptr[active]
        entries = rows(model.user_indptr, active)
        totals = np.bincount(model.user_items[entries],
                             weights=np.repeat(user_weight[active], likes),
                             minlength=model.n_items)
        return totals * self._discount

    def because(self, item: int, k: int = BECAUSE) -> list[int]:
        """The ``k`` profile movies that contributed most to ``item``'s score."""
        if len(self._items) == 0:
            return []
        fan_weight = np.zeros(self._model.n_users)
        fans = self._model.fans(item)
        fan_weight[fans] = self._user_norm[fans]
        shares = fan_weight[self._users] * self._entry_weight
        contribution = np.zeros(len(self._items))
        has_fans = self._sampled > 0
        contribution[has_fans] = np.add.reduceat(shares, self._segments[has_fans]) \
            if len(shares) else 0.0
        order = np.lexsort((np.arange(len(contribution)), -contribution))
        return [int(self._items[i]) for i in order[:k] if contribution[i] > 0]


def recommend_for_profile(model: LikedMatrices, profile: Profile, *, top: int = 10,
                          exclude: np.ndarray | None = None,
                          params: ProfileParams = DEFAULT_PROFILE_PARAMS
                          ) -> list[ProfileRecommendation]:
    """The ``top`` movies for a profile, best first; never a movie it rated.

    ``exclude``: optional boolean mask over movie positions, True = never recommend.
    """
    scorer = ItemItemScorer(model, profile, params)
    scores = scorer.scores()
    allowed = np.ones(model.n_items, dtype=bool) if exclude is None else ~np.asarray(exclude)
    allowed[profile.rated] = False
    return [ProfileRecommendation(int(j), float(scores[j]), scorer.because(int(j)))
            for j in top_k(scores, top, allowed)]

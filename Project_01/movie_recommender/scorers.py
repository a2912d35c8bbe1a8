"""Item-to-item recommendation methods on the liked matrices (numpy only, see ``liked``).

Methods (``METHODS``; the "fans" of a movie are the users who liked it):

- ``sequential`` (default): what its fans liked right after it (and just before),
  backed off to co-occurrence among its fans with a popularity discount;
- ``cosine``: item-item cosine similarity of the binary liked columns;
- ``lift``: the original Dataquest score, reproduced exactly;
- ``popular``: the most liked movies overall (a baseline).

``recommend`` answers one query by reading only the rows of the query movie's fans.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from movie_recommender import MovieRecommenderError, reasons
from movie_recommender.liked import LikedMatrices, rows
from movie_recommender.topk import top_k

LIFT_MIN_SHARE = 0.10
"""The original lift score keeps movies liked by more than this share of the fans."""

MAX_FANS = 5_000
"""Co-occurrence with a movie that has more fans is estimated from an evenly spaced
sample of this many of them, so that a query on a blockbuster stays fast."""

DEFAULT_METHOD = "sequential"
METHODS = (DEFAULT_METHOD, "cosine", "lift", "popular")


class UnknownMethodError(MovieRecommenderError, ValueError):
    """A method name that is not one of ``METHODS``."""


class MovieOutOfRangeError(MovieRecommenderError, ValueError):
    """A movie position outside the model's ``0..n_items - 1``."""


@dataclasses.dataclass(frozen=True)
class Recommendation:
    """One recommended movie: its position, its score and why it was chosen."""

    item: int
    score: float
    reason: str


@dataclasses.dataclass(frozen=True)
class SequentialParams:
    """Hyperparameters of the default ``sequential`` method.

    The score of a candidate ``j`` for a query ``i`` adds two parts, each scaled to a
    maximum of 1: how often fans of ``i`` liked ``j`` among their next ``window`` likes
    (the d-th next like weighs ``decay ** (d - 1)``, the likes just before ``i`` weigh
    ``backward`` times that), and ``backoff`` times a co-occurrence count (RP3beta: each
    fan's likes weigh ``1 / likes_of_fan ** alpha``, and ``1 + above_4`` times more for a
    fan who rated the query above 4 and again for a like above 4). Both parts are
    divided by ``likes(j) ** beta`` so that blockbusters everyone likes do not crowd out
    the rest.
    """

    window: int = 3
    decay: float = 0.6
    backward: float = 0.5
    backoff: float = 1.0
    alpha: float = 0.5
    beta: float = 0.2
    above_4: float = 1.0


DEFAULT_PARAMS = SequentialParams()
"""Chosen on the validation split of ml-latest-small (``benchmarks/bench_quality.py``)."""


def recommend(model: LikedMatrices, item: int, method: str = DEFAULT_METHOD, *, k: int = 10,
              exclude: np.ndarray | None = None,
              params: SequentialParams | None = None) -> list[Recommendation]:
    """Recommend up to ``k`` movies for fans of ``item``, best first.

    Args:
        model: from ``liked.build_model`` or ``liked.from_arrays``.
        item: position of the query movie.
        method: one of ``METHODS``.
        k: how many recommendations.
        exclude: optional boolean mask over movie positions; True means never recommend
            (the query itself is never recommended).
        params: hyperparameters of the ``sequential`` method (default ``DEFAULT_PARAMS``).

    Returns:
        The recommendations, ordered by score then movie position. Empty when the
        query has no fans for that method (nobody liked it; for ``lift`` nobody rated
        it above 4) or ``exclude`` leaves none of the candidates.

    Raises:
        UnknownMethodError: for a method not in ``METHODS``.
        MovieOutOfRangeError: for an item out of range.
    """
    if method not in METHODS:
        raise UnknownMethodError(f"unknown method {method!r}; choose one of "
                                 f"{', '.join(METHODS)}")
    if not 0 <= item < model.n_items:
        raise MovieOutOfRangeError(f"movie position {item} is outside 0..{model.n_items - 1}")
    if method == "popular":
        scored = _score_popular(model)
    elif method == "lift":
        scored = _score_lift(model, item)
    elif method == "cosine":
        scored = _score_cosine(model, item)
    else:
        scored = _score_sequential(model, item, params or DEFAULT_PARAMS)
    if scored is None:
        return []
    scores, explain = scored
    allowed = np.ones(model.n_items, dtype=bool) if exclude is None else ~np.asarray(exclude)
    allowed[item] = False
    return [Recommendation(int(j), float(scores[j]), explain(int(j)))
            for j in top_k(scores, k, allowed)]


_Scored = tuple[np.ndarray, Callable[[int], str]]


def _score_popular(model: LikedMatrices) -> _Scored:
    likes = model.item_likes()
    share = likes / max(model.n_users, 1)
    return likes.astype(np.float64), lambda j: reasons.popular(int(likes[j]), share[j])


def _score_cosine(model: LikedMatrices, item: int) -> _Scored | None:
    fans = model.fans(item)
    if len(fans) == 0:
        return None
    sample = fan_sample(fans)
    together = np.bincount(model.user_items[rows(model.user_indptr, sample)],
                           minlength=model.n_items)
    scale = len(fans) / len(sample)
    scores = together * scale / np.sqrt(np.maximum(model.item_likes(), 1) * float(len(fans)))
    shared = reasons.SharedFans(model, fans)
    return scores, lambda j: reasons.cosine(shared, j, scores[j])


def _score_lift(model: LikedMatrices, item: int) -> _Scored | None:
    """The original Dataquest score, transcribed exactly.

    Fans are users who rated the query above 4. A movie is a candidate when more than
    10 % of the fans rated it above 4; its score is that share divided by the share of
    "all users" who rated it above 4, where (as in the original) "all users" are the
    users who rated any candidate, the query included, above 4.
    """
    fans = model.fans_above_4(np.array([item]))
    if len(fans) == 0:
        return None
    entries = rows(model.user_indptr, fans)
    entries = entries[model.user_above_4[entries]]
    fan_share = np.bincount(model.user_items[entries], minlength=model.n_items) / len(fans)
    kept = np.flatnonzero(fan_share > LIFT_MIN_SHARE)
    rated_a_candidate = np.zeros(model.n_users, dtype=bool)
    rated_a_candidate[model.fans_above_4(kept)] = True
    all_share = model.item_above_4 / rated_a_candidate.sum()
    scores = np.zeros(model.n_items)
    scores[kept] = fan_share[kept] / all_share[kept]
    return scores, lambda j: reasons.lift(fan_share[j], all_share[j])


def _score_sequential(model: LikedMatrices, item: int, params: SequentialParams
                      ) -> _Scored | None:
    fans = model.fans(item)
    if len(fans) == 0:
        return None
    parts = sequential_parts(model, item, params)
    scores = combine_parts(parts, params, model.item_likes())
    right_after = parts.after[0]
    shared = reasons.SharedFans(model, fans)
    return scores, lambda j: reasons.sequential(shared, j, right_after[j])


@dataclasses.dataclass(frozen=True)
class SequentialParts:
    """Per-query count vectors from which ``combine_parts`` makes the sequential score.

    ``after[d]``/``before[d]``: how many fans liked each movie ``d + 1`` likes after /
    before the query; ``together``: co-occurrence among the fans (at most ``MAX_FANS``
    of them, evenly spaced), weighted as ``SequentialParams`` says (``alpha``, ``above_4``).
    """

    after: np.ndarray
    before: np.ndarray
    together: np.ndarray


def sequential_parts(model: LikedMatrices, item: int, params: SequentialParams
                     ) -> SequentialParts:
    """Count what fans of ``item`` liked next, before, and at all (see ``SequentialParts``).

    Only ``params.window``, ``params.alpha`` and ``params.above_4`` are used here.
    """
    after, before = _neighbours(model, item, params.window)
    start, stop = model.item_indptr[item], model.item_indptr[item + 1]
    chosen = fan_sample(np.arange(start, stop))
    fans = model.item_users[chosen]
    fan_likes = model.user_indptr[fans + 1] - model.user_indptr[fans]
    fan_weight = fan_likes ** -float(params.alpha)
    fan_above_4 = chosen < start + model.item_above_4[item]  # they come first
    entries = rows(model.user_indptr, fans)
    weights = np.repeat(fan_weight * (1.0 + params.above_4 * fan_above_4), fan_likes) \
        * (1.0 + params.above_4 * model.user_above_4[entries])
    together = np.bincount(model.user_items[entries], weights=weights, minlength=model.n_items)
    return SequentialParts(after=after, before=before, together=together)


def _neighbours(model: LikedMatrices, item: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts of the movies fans liked 1..window likes after and before ``item``."""
    start, stop = model.item_indptr[item], model.item_indptr[item + 1]
    fans = model.item_users[start:stop]
    pos = model.item_pos[start:stop].astype(np.int64)
    row_start, row_stop = model.user_indptr[fans], model.user_indptr[fans + 1]
    after = np.zeros((window, model.n_items))
    before = np.zeros((window, model.n_items))
    for step in range(1, window + 1):
        after[step - 1] = np.bincount(model.user_items[pos[pos + step < row_stop] + step],
                                      minlength=model.n_items)
        before[step - 1] = np.bincount(model.user_items[pos[pos - step >= row_start] - step],
                                       minlength=model.n_items)
    return after, before


def combine_parts(parts: SequentialParts, params: SequentialParams,
                  item_likes: np.ndarray) -> np.ndarray:
    """The sequential score from ``sequential_parts`` and ``params`` (see ``SequentialParams``).

    ``item_likes``: fans per movie, as ``LikedMatrices.item_likes`` gives them (or the same
    entries of both, when the parts are restricted to some movies).
    """
    weights = params.decay ** np.arange(params.window)
    nearby = weights @ parts.after[:params.window] \
        + params.backward * (weights @ parts.before[:params.window])
    discount = np.maximum(item_likes, 1) ** -params.beta
    return _unit_max(nearby * discount) + params.backoff * _unit_max(parts.together * discount)


def fan_sample(fans: np.ndarray) -> np.ndarray:
    """All fans, or ``MAX_FANS`` of them evenly spaced."""
    if len(fans) <= MAX_FANS:
        return fans
    return fans[np.linspace(0, len(fans) - 1, MAX_FANS).astype(np.int64)]


def _unit_max(values: np.ndarray) -> np.ndarray:
    top = values.max(initial=0.0)
    return values / top if top > 0 else values

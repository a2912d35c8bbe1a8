"""Item-to-item collaborative filtering on integer-coded ratings (numpy only, no files).

The caller maps users and movies to dense positions ``0..n-1``. ``build_model`` turns
the rating arrays into a ``LikedMatrices`` of plain numpy arrays (sparse "liked"
matrices in both orientations), ``to_arrays``/``from_arrays`` convert it to and from a
``dict`` of arrays that can be saved and memory-mapped, and ``recommend`` answers one
query by reading only the rows of the query movie's fans.

Methods (``METHODS``; "fans" of a movie are the users who liked it):

- ``sequential`` (default): what its fans liked right after it (and just before),
  backed off to co-occurrence among its fans with a popularity discount;
- ``cosine``: item-item cosine similarity of the binary "liked" columns;
- ``lift``: the original Dataquest score, reproduced exactly;
- ``popular``: the most liked movies overall (a baseline).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import numpy as np

LIKED_THRESHOLD = 4.0
"""A rating of at least this means "liked" (cosine, popular, sequential, evaluation)."""

LIFT_FAN_THRESHOLD = 4.0
"""The original lift score counts a rating strictly above this as a fan."""

LIFT_MIN_SHARE = 0.10
"""The original lift score keeps movies liked by more than this share of the fans."""

MAX_FANS = 5_000
"""Co-occurrence with a movie that has more fans is estimated from an evenly spaced
sample of this many of them, so that a query on a blockbuster stays fast."""

LATE_LIKES = 10
"""A like is "late" when it is among the last this many likes of its user (chosen on the
synthetic validation split over 3; ``benchmarks/bench_quality.py``)."""

DEFAULT_METHOD = "sequential"
METHODS = (DEFAULT_METHOD, "cosine", "lift", "popular")

_ARRAY_NAMES = ("user_indptr", "user_items", "user_loved",
                "item_indptr", "item_users", "item_pos", "item_loved", "item_late")


@dataclasses.dataclass(frozen=True)
class Recommendation:
    """One recommended movie: its position, its score and why it was chosen."""

    item: int
    score: float
    reason: str


@dataclasses.dataclass(frozen=True)
class SequentialParams:
    """Hyperparameters of the default ``sequential`` method.

    The score of a candidate ``j`` for a query ``i`` adds two normalised parts:
    how often fans of ``i`` liked ``j`` among their next ``window`` likes (the d-th
    next like weighs ``decay ** (d - 1)``, the likes just before ``i`` weigh
    ``backward`` times that), and a co-occurrence back-off (RP3beta: each fan's likes
    weigh ``1 / likes_of_fan ** alpha``, and ``1 + loved`` times more for a fan who
    rated the query above 4 and again for a like above 4) times ``backoff``. Both parts
    are divided by ``likes(j) ** beta`` so that blockbusters everyone likes do not crowd
    out the rest. Finally the score is multiplied by ``late_share(j) ** late``
    (``LikedMatrices.late_share``): movies that people tend to like late in their
    history, such as recent releases, are the more likely next like.
    """

    window: int = 3
    decay: float = 0.6
    backward: float = 0.5
    backoff: float = 1.0
    alpha: float = 0.5
    beta: float = 0.2
    loved: float = 1.0
    late: float = 0.0


DEFAULT_PARAMS = SequentialParams()
"""Chosen on the validation split of ml-latest-small (``benchmarks/bench_quality.py``)."""


@dataclasses.dataclass(frozen=True)
class LikedMatrices:
    """The "liked" matrix (rating >= ``LIKED_THRESHOLD``) in both orientations.

    Attributes:
        user_indptr: ``n_users + 1`` row offsets into ``user_items``.
        user_items: liked movies of each user, in the order she rated them (timestamp,
            then movie position).
        user_loved: per entry of ``user_items``: rating above ``LIFT_FAN_THRESHOLD``.
        item_indptr: ``n_items + 1`` column offsets into ``item_users``/``item_pos``.
        item_users: users who liked each movie: first those who rated it above
            ``LIFT_FAN_THRESHOLD``, then the others, each group ascending.
        item_pos: per entry of ``item_users``: its position in ``user_items``, which
            gives what that user liked next.
        item_loved: per movie, how many of its ``item_users`` rated it above
            ``LIFT_FAN_THRESHOLD`` (they come first).
        item_late: per movie, how many of its fans liked it among their last
            ``late_likes`` likes (``build_model``).
    """

    user_indptr: np.ndarray
    user_items: np.ndarray
    user_loved: np.ndarray
    item_indptr: np.ndarray
    item_users: np.ndarray
    item_pos: np.ndarray
    item_loved: np.ndarray
    item_late: np.ndarray

    @property
    def n_users(self) -> int:
        """Number of user positions."""
        return len(self.user_indptr) - 1

    @property
    def n_items(self) -> int:
        """Number of movie positions."""
        return len(self.item_indptr) - 1

    def item_likes(self) -> np.ndarray:
        """Number of users who liked each movie."""
        return np.diff(self.item_indptr)

    def user_likes(self) -> np.ndarray:
        """Number of movies each user liked."""
        return np.diff(self.user_indptr)

    def late_share(self) -> np.ndarray:
        """Per movie, the share of its fans who liked it late, relative to the average
        movie's share (1.0 = average; 0.0 for a movie nobody liked)."""
        likes = self.item_likes()
        share = self.item_late / np.maximum(likes, 1)
        average = share[likes > 0].mean() if np.any(likes > 0) else 0.0
        return share / average if average > 0 else share

    def fans(self, item: int) -> np.ndarray:
        """Users who liked ``item`` (rating >= ``LIKED_THRESHOLD``)."""
        return self.item_users[self.item_indptr[item]:self.item_indptr[item + 1]]


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


def build_model(ratings: Ratings, *, late_likes: int = LATE_LIKES) -> LikedMatrices:
    """Build the liked matrices from the ratings.

    ``late_likes``: a like is late when it is among the last this many of its user.

    Returns:
        The model, made of int32/bool arrays (int64 offsets).

    Raises:
        ValueError: if the arrays differ in length or hold positions out of range.
    """
    n_ratings = len(ratings.user_idx)
    if not (len(ratings.item_idx) == len(ratings.rating) == len(ratings.timestamp)
            == n_ratings):
        raise ValueError("user_idx, item_idx, rating and timestamp differ in length")
    for name, size in (("user_idx", ratings.n_users), ("item_idx", ratings.n_items)):
        index = getattr(ratings, name)
        if n_ratings and (index.min() < 0 or index.max() >= size):
            raise ValueError(f"{name} holds positions outside 0..{size - 1}")
    liked = ratings.rating >= LIKED_THRESHOLD
    users = ratings.user_idx[liked].astype(np.int32)
    items = ratings.item_idx[liked].astype(np.int32)
    order = np.lexsort((items, ratings.timestamp[liked], users))
    users, items = users[order], items[order]
    loved = (ratings.rating[liked] > LIFT_FAN_THRESHOLD)[order]
    del order
    # users are sorted, so a stable sort by (movie, not loved) keeps each group ascending
    by_item = np.argsort(items.astype(np.int64) * 2 + ~loved, kind="stable").astype(np.int32)
    user_indptr = _offsets(users, ratings.n_users)
    late = user_indptr[users + 1] - np.arange(len(users)) <= late_likes
    return LikedMatrices(
        user_indptr=user_indptr,
        user_items=items,
        user_loved=loved,
        item_indptr=_offsets(items, ratings.n_items),
        item_users=users[by_item],
        item_pos=by_item,
        item_loved=np.bincount(items[loved], minlength=ratings.n_items).astype(np.int32),
        item_late=np.bincount(items[late], minlength=ratings.n_items).astype(np.int32),
    )


def to_arrays(model: LikedMatrices) -> dict[str, np.ndarray]:
    """Return the model as a ``dict`` of named arrays (for ``np.save``/memory-mapping)."""
    return {name: getattr(model, name) for name in _ARRAY_NAMES}


def from_arrays(arrays: Mapping[str, np.ndarray]) -> LikedMatrices:
    """Rebuild a model from ``to_arrays`` output (arrays may be memory-mapped).

    Raises:
        ValueError: if an array is missing or the arrays do not fit together.
    """
    missing = [name for name in _ARRAY_NAMES if name not in arrays]
    if missing:
        raise ValueError(f"model arrays lack {', '.join(missing)}")
    model = LikedMatrices(**{name: arrays[name] for name in _ARRAY_NAMES})
    n_liked = len(model.user_items)
    if not (len(model.user_loved) == len(model.item_users) == len(model.item_pos) == n_liked
            and model.user_indptr[-1] == n_liked and model.item_indptr[-1] == n_liked
            and len(model.item_loved) == len(model.item_late) == model.n_items):
        raise ValueError("model arrays do not fit together")
    return model


def recommend(model: LikedMatrices, item: int, method: str = DEFAULT_METHOD, *, k: int = 10,
              exclude: np.ndarray | None = None,
              params: SequentialParams | None = None) -> list[Recommendation]:
    """Recommend up to ``k`` movies for fans of ``item``, best first.

    Args:
        model: from ``build_model`` or ``from_arrays``.
        item: position of the query movie.
        method: one of ``METHODS``.
        k: how many recommendations.
        exclude: optional boolean mask over movie positions; True means never recommend
            (the query itself is never recommended).
        params: hyperparameters of the ``sequential`` method (default ``DEFAULT_PARAMS``).

    Returns:
        The recommendations, ordered by score then movie position. Empty when the
        query has no fans for that method (nobody liked it; for ``lift`` nobody rated
        it above 4), so the caller can fall back to something else.

    Raises:
        ValueError: for an unknown method or an item out of range.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if not 0 <= item < model.n_items:
        raise ValueError(f"item {item} is outside 0..{model.n_items - 1}")
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


def top_k(scores: np.ndarray, k: int, allowed: np.ndarray) -> np.ndarray:
    """Positions of the ``k`` best positive, allowed scores; ties go to the lower position.

    >>> top_k(np.array([0.0, 2.0, 1.0, 2.0]), 2, np.array([True, True, True, True]))
    array([1, 3])
    """
    candidates = np.flatnonzero(allowed & (scores > 0))
    values = scores[candidates]
    if len(candidates) > k > 0:
        kth = np.partition(values, len(values) - k)[len(values) - k]
        keep = values >= kth  # keeps every tie at the boundary, so the cut is deterministic
        candidates, values = candidates[keep], values[keep]
    return candidates[np.lexsort((candidates, -values))][:max(k, 0)]


_Scored = tuple[np.ndarray, Callable[[int], str]]


def _score_popular(model: LikedMatrices) -> _Scored:
    likes = model.item_likes()
    share = likes / max(model.n_users, 1)

    def explain(j: int) -> str:
        return f"liked by {likes[j]:,} users ({_pct(share[j])} of all), most liked overall"
    return likes.astype(np.float64), explain


def _score_cosine(model: LikedMatrices, item: int) -> _Scored | None:
    fans = model.fans(item)
    if len(fans) == 0:
        return None
    sample = _fan_sample(fans)
    together = _count(model.user_items[_rows(model.user_indptr, sample)], model.n_items)
    scale = len(fans) / len(sample)
    scores = together * scale / np.sqrt(np.maximum(model.item_likes(), 1) * float(len(fans)))
    shared_fans = _shared_fans(model, fans)

    def explain(j: int) -> str:
        return (f"liked by {_pct(shared_fans(j) / len(fans))} of its {len(fans):,} fans "
                f"(cosine {scores[j]:.2f})")
    return scores, explain


def _score_lift(model: LikedMatrices, item: int) -> _Scored | None:
    """The original Dataquest score, transcribed exactly.

    Fans are users who rated the query above 4. A movie is a candidate when more than
    10 % of the fans rated it above 4; its score is that share divided by the share of
    "all users" who rated it above 4, where (as in the original) "all users" are the
    users who rated any candidate, the query included, above 4.
    """
    fans = _lovers(model, np.array([item]))
    if len(fans) == 0:
        return None
    entries = _rows(model.user_indptr, fans)
    entries = entries[model.user_loved[entries]]
    fan_share = np.bincount(model.user_items[entries], minlength=model.n_items) / len(fans)
    kept = np.flatnonzero(fan_share > LIFT_MIN_SHARE)
    any_lover = np.zeros(model.n_users, dtype=bool)
    any_lover[_lovers(model, kept)] = True
    all_share = model.item_loved / any_lover.sum()
    scores = np.zeros(model.n_items)
    scores[kept] = fan_share[kept] / all_share[kept]

    def explain(j: int) -> str:
        return (f"rated above 4 by {_pct(fan_share[j])} of its fans "
                f"vs {_pct(all_share[j])} of all users")
    return scores, explain


def _lovers(model: LikedMatrices, items: np.ndarray) -> np.ndarray:
    """Users who rated any of ``items`` above ``LIFT_FAN_THRESHOLD`` (with repeats)."""
    starts = model.item_indptr[items]
    return model.item_users[_ranges(starts, model.item_loved[items])]


def _score_sequential(model: LikedMatrices, item: int, params: SequentialParams) -> _Scored | None:
    fans = model.fans(item)
    if len(fans) == 0:
        return None
    parts = sequential_parts(model, item, params)
    scores = combine_parts(parts, params, model.item_likes(),
                           model.late_share() if params.late else None)
    right_after = parts.after[0]
    shared_fans = _shared_fans(model, fans)

    def explain(j: int) -> str:
        reason = f"liked by {_pct(shared_fans(j) / len(fans))} of its {len(fans):,} fans"
        if right_after[j]:
            return f"liked next by {right_after[j]:,.0f} of its fans, {reason}"
        return reason
    return scores, explain


@dataclasses.dataclass(frozen=True)
class SequentialParts:
    """Per-query count vectors from which ``combine_parts`` makes the sequential score.

    ``after[d]``/``before[d]``: how many fans liked each movie ``d + 1`` likes after /
    before the query; ``together``: co-occurrence among the fans (at most ``MAX_FANS``
    of them, evenly spaced), weighted as ``SequentialParams`` says (``alpha``, ``loved``).
    """

    after: np.ndarray
    before: np.ndarray
    together: np.ndarray


def sequential_parts(model: LikedMatrices, item: int, params: SequentialParams
                     ) -> SequentialParts:
    """Count what fans of ``item`` liked next, before, and at all (see ``SequentialParts``).

    Only ``params.window``, ``params.alpha`` and ``params.loved`` are used here.
    """
    after, before = _neighbours(model, item, params.window)
    start, stop = model.item_indptr[item], model.item_indptr[item + 1]
    chosen = _fan_sample(np.arange(start, stop))
    fans = model.item_users[chosen]
    fan_likes = model.user_indptr[fans + 1] - model.user_indptr[fans]
    fan_weight = fan_likes ** -float(params.alpha)
    entries = _rows(model.user_indptr, fans)
    weights = np.repeat(fan_weight * (1.0 + params.loved * (chosen < start
                                                             + model.item_loved[item])),
                        fan_likes) * (1.0 + params.loved * model.user_loved[entries])
    together = _count(model.user_items[entries], model.n_items, weights)
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
        after[step - 1] = _count(model.user_items[pos[pos + step < row_stop] + step],
                                 model.n_items)
        before[step - 1] = _count(model.user_items[pos[pos - step >= row_start] - step],
                                  model.n_items)
    return after, before


def combine_parts(parts: SequentialParts, params: SequentialParams,
                  item_likes: np.ndarray, late_share: np.ndarray | None) -> np.ndarray:
    """Combine ``sequential_parts`` into scores with ``params`` (see ``SequentialParams``).

    ``item_likes`` and ``late_share`` are per movie, as ``LikedMatrices`` gives them;
    ``late_share`` is needed only when ``params.late`` is not 0.
    """
    if params.late and late_share is None:
        raise ValueError("params.late needs late_share")
    nearby, together = unit_parts(parts, params, item_likes)
    return add_parts(nearby, together, params.backoff,
                     late_share ** params.late if params.late else None)


def unit_parts(parts: SequentialParts, params: SequentialParams,
               item_likes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The "liked next" and co-occurrence parts, discounted by popularity and scaled to a
    maximum of 1. They depend only on ``window``, ``decay``, ``backward`` and ``beta``."""
    weights = params.decay ** np.arange(params.window)
    nearby = weights @ parts.after[:params.window] \
        + params.backward * (weights @ parts.before[:params.window])
    discount = np.maximum(item_likes, 1) ** -params.beta
    return _unit_max(nearby * discount), _unit_max(parts.together * discount)


def add_parts(nearby: np.ndarray, together: np.ndarray, backoff: float,
              late_weight: np.ndarray | None) -> np.ndarray:
    """``nearby + backoff * together``, times ``late_weight`` (``late_share ** late``) if given."""
    scores = nearby + backoff * together
    return scores if late_weight is None else scores * late_weight


def _fan_sample(fans: np.ndarray) -> np.ndarray:
    """All fans, or ``MAX_FANS`` of them evenly spaced."""
    if len(fans) <= MAX_FANS:
        return fans
    return fans[np.linspace(0, len(fans) - 1, MAX_FANS).astype(np.int64)]


def _shared_fans(model: LikedMatrices, fans: np.ndarray) -> Callable[[int], int]:
    """A function giving, exactly, how many of ``fans`` also liked a movie."""
    is_fan = np.zeros(model.n_users, dtype=bool)
    is_fan[fans] = True
    return lambda j: int(is_fan[model.fans(j)].sum())


def _unit_max(values: np.ndarray) -> np.ndarray:
    top = values.max(initial=0.0)
    return values / top if top > 0 else values


def _rows(indptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Positions of every entry of ``rows`` in a CSR-style data array, row by row."""
    return _ranges(indptr[rows], indptr[np.asarray(rows) + 1] - indptr[rows])


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenated ranges ``start .. start + length - 1`` (int64).

    >>> _ranges(np.array([5, 0]), np.array([2, 3]))
    array([5, 6, 0, 1, 2])
    """
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(starts - offsets, lengths)


def _count(items: np.ndarray, n_items: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(items, weights=weights, minlength=n_items)


def _offsets(sorted_index: np.ndarray, size: int) -> np.ndarray:
    counts = np.bincount(sorted_index, minlength=size)
    return np.concatenate(([0], np.cumsum(counts))).astype(np.int64)


def _pct(share: float) -> str:
    return f"{100 * share:.0f} %"

"""Offline evaluation of item-to-item recommendations (leave the last liked movie out).

Protocol: liked = rating >= 4.0. For each user with at least ``MIN_LIKED`` likes,
ordered by timestamp (then movie position), the target is her last liked movie and
the query the liked movie just before it; the model is trained without the targets.
A method scores a hit when the target is among its top ``k`` recommendations for the
query (HR@k) and ``1 / log2(rank + 1)`` of it (NDCG@k). Hyperparameters of the default
method are tuned on a validation split one step earlier in each history (target = the
second-to-last like, trained without both the test and the validation targets), so
the test targets never influence a choice.
"""
from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from tqdm import tqdm

from movie_recommender import collaborative
from movie_recommender.collaborative import LIKED_THRESHOLD, Ratings, SequentialParams

logger = logging.getLogger(__name__)

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
class MethodResult:
    """Quality of one method: means over users with their standard errors."""

    method: str
    hit_rate: float
    hit_rate_se: float
    ndcg: float
    ndcg_se: float
    n_users: int


@dataclasses.dataclass(frozen=True)
class EvaluationReport:
    """What ``evaluate`` measured.

    Attributes:
        results: test figures, one per method.
        params: the ``sequential`` hyperparameters chosen on the validation split.
        validation: validation figures of the default method with ``params``.
        n_eligible: users with at least ``MIN_LIKED`` likes (before sampling).
    """

    results: list[MethodResult]
    params: SequentialParams
    validation: MethodResult | None
    n_eligible: int


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


def default_param_grid() -> list[SequentialParams]:
    """The hyperparameter candidates tried on the validation split."""
    default = collaborative.DEFAULT_PARAMS
    grid = [default]
    for late, loved, backward, backoff, alpha, beta in itertools.product(
            (0.0, 0.75), (1.0, 0.0), (0.0, 0.5), (0.3, 1.0, 3.0, 100.0), (0.5, 1.0),
            (0.0, 0.2, 0.4)):
        grid.append(dataclasses.replace(default, late=late, loved=loved, backward=backward,
                                        backoff=backoff, alpha=alpha, beta=beta))
    return grid


@dataclasses.dataclass(frozen=True)
class UserSample:
    """Which eligible users ``evaluate`` measures, and on which of them it tunes.

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


def evaluate(ratings: Ratings, *, methods: Sequence[str] = collaborative.METHODS,
             k: int = 10, users: UserSample | None = None,
             param_grid: Sequence[SequentialParams] | None = None,
             jobs: int = 1) -> EvaluationReport:
    """Measure HR@k and NDCG@k of each method under the leave-last-liked-out protocol.

    Args:
        ratings: all ratings of the data set.
        methods: the methods to measure (``collaborative.METHODS`` by default).
        k: recommendation list length.
        users: the users to evaluate and to tune on (all of them if None).
        param_grid: candidates for the default method's hyperparameters
            (``default_param_grid()`` if None; one candidate means no tuning).
        jobs: processes that share the queries (the figures do not depend on it).

    Returns:
        The report; ``params`` are the tuned hyperparameters used on the test split.
    """
    users = users or UserSample()
    test = holdout_split(ratings)
    chosen = sample_users(len(test.users), users.eval_users, users.seed)
    params, validation = collaborative.DEFAULT_PARAMS, None
    if collaborative.DEFAULT_METHOD in methods:
        params, validation = _tune_on_validation(
            ratings, chosen[sample_users(len(chosen), users.tune_users, users.seed)],
            param_grid or default_param_grid(), k, jobs)
    pairs = QueryPairs(collaborative.build_model(ratings.subset(test.train)),
                       test.queries[chosen], test.targets[chosen])
    ranks = rank_matrix(functools.partial(_method_ranks, methods=tuple(methods), k=k,
                                          params=params), pairs, len(methods), jobs,
                        progress="testing")
    results = [summarise(method, row, k) for method, row in zip(methods, ranks)]
    for result in results:
        logger.info("%s: HR@%d %.4f", result.method, k, result.hit_rate)
    return EvaluationReport(results=results, params=params, validation=validation,
                            n_eligible=len(test.users))


def _tune_on_validation(ratings: Ratings, users: np.ndarray, grid: Sequence[SequentialParams],
                        k: int, jobs: int) -> tuple[SequentialParams, MethodResult]:
    """``tune`` on the validation split of these users (positions among the eligible)."""
    valid = holdout_split(ratings, steps_back=1)
    logger.info("tuning %s on %d validation users", collaborative.DEFAULT_METHOD, len(users))
    return tune(collaborative.build_model(ratings.subset(valid.train)),
                valid.queries[users], valid.targets[users], grid, k=k, jobs=jobs)


def tune(model: collaborative.LikedMatrices, queries: np.ndarray, targets: np.ndarray,
         grid: Sequence[SequentialParams], *, k: int = 10, jobs: int = 1
         ) -> tuple[SequentialParams, MethodResult]:
    """Pick the grid point with the best HR@k (then NDCG@k; then earliest) on these pairs.

    Each query's count vectors are computed once per ``(window, alpha, loved)`` and reused for
    every grid point, which keeps tuning affordable on large data sets.
    """
    ranks = tuning_ranks(QueryPairs(model, queries, targets), grid, k=k, jobs=jobs)
    summaries = [summarise(collaborative.DEFAULT_METHOD, row, k) for row in ranks]
    best = max(range(len(grid)), key=lambda i: (summaries[i].hit_rate, summaries[i].ndcg, -i))
    return grid[best], summaries[best]


def tuning_ranks(pairs: QueryPairs, grid: Sequence[SequentialParams], *, k: int = 10,
                 jobs: int = 1) -> np.ndarray:
    """Rank of each target (1-based, 0 when not in the top ``k``) for each grid point.

    Returns:
        The int64 matrix of ranks: one row per grid point, one column per pair.
    """
    return rank_matrix(functools.partial(_tuning_ranks, grid=tuple(grid), k=k), pairs,
                       len(grid), jobs, progress=f"tuning {len(grid)} points")


@dataclasses.dataclass(frozen=True)
class QueryPairs:
    """A model and the (query, target) pairs to rank on it, one per evaluated user."""

    model: collaborative.LikedMatrices
    queries: np.ndarray
    targets: np.ndarray


RankFunction = Callable[[QueryPairs, slice], np.ndarray]
"""Ranks of the targets of ``pairs[users]``: one row per variant, one column per user."""

RANK_SLICE = 500
"""At most this many users per task of ``rank_matrix``."""

_WORKER_PAIRS: dict[str, QueryPairs] = {}
"""The pairs a worker process ranks, set once per process by ``_keep_pairs``."""


def rank_matrix(rank_users: RankFunction, pairs: QueryPairs, n_rows: int, jobs: int = 1,
                progress: str | None = None) -> np.ndarray:
    """Run ``rank_users`` over all the pairs, in slices shared by ``jobs`` processes.

    Each worker receives the pairs once, when it starts (with the "fork" start method,
    without copying them), then one slice of users per task. ``progress`` names a tqdm
    bar on stderr, shown when stderr is a terminal.

    Returns:
        The int64 matrix of ranks, ``n_rows`` by the number of pairs.
    """
    n_pairs = len(pairs.queries)
    # several slices per process balance uneven queries and move the progress bar
    size = max(1, min(RANK_SLICE, -(-n_pairs // (4 * jobs))))
    slices = [slice(start, min(start + size, n_pairs)) for start in range(0, n_pairs, size)]
    parts = [np.zeros((n_rows, 0), dtype=np.int64)]
    with tqdm(total=n_pairs, desc=progress, unit="user", disable=None if progress else True
              ) as progress_bar:
        if jobs <= 1:
            for users in slices:
                parts.append(rank_users(pairs, users))
                progress_bar.update(parts[-1].shape[1])
        else:
            with ProcessPoolExecutor(max_workers=jobs, initializer=_keep_pairs,
                                     initargs=(pairs,)) as pool:
                for part in pool.map(_rank_kept_pairs, itertools.repeat(rank_users), slices):
                    parts.append(part)
                    progress_bar.update(part.shape[1])
    return np.concatenate(parts, axis=1)


def _keep_pairs(pairs: QueryPairs) -> None:
    _WORKER_PAIRS["pairs"] = pairs


def _rank_kept_pairs(rank_users: RankFunction, users: slice) -> np.ndarray:
    return rank_users(_WORKER_PAIRS["pairs"], users)


def _method_ranks(pairs: QueryPairs, users: slice, *, methods: tuple[str, ...], k: int,
                  params: SequentialParams) -> np.ndarray:
    """Rank of each target among each method's top ``k`` (rows: methods)."""
    ranks = np.zeros((len(methods), len(pairs.queries[users])), dtype=np.int64)
    for row, method in enumerate(methods):
        for column, (query, target) in enumerate(zip(pairs.queries[users],
                                                     pairs.targets[users])):
            ranks[row, column] = _rank(collaborative.recommend(pairs.model, int(query), method,
                                                               k=k, params=params),
                                       int(target))
    return ranks


def _tuning_ranks(pairs: QueryPairs, users: slice, *, grid: tuple[SequentialParams, ...],
                  k: int) -> np.ndarray:
    """Rank of each target for each grid point (rows: grid points)."""
    model = pairs.model
    ranks = np.zeros((len(grid), len(pairs.queries[users])), dtype=np.int64)
    per_movie = (model.item_likes(), model.late_share())
    for members in _group(grid):
        for column, (query, target) in enumerate(zip(pairs.queries[users],
                                                     pairs.targets[users])):
            ranks[members, column] = _grid_ranks(model, int(query), int(target),
                                                 [grid[row] for row in members], k, per_movie)
    return ranks


def _grid_ranks(model: collaborative.LikedMatrices, query: int, target: int,
                grid: Sequence[SequentialParams], k: int,
                per_movie: tuple[np.ndarray, np.ndarray]) -> list[int]:
    """Rank of ``target`` for each grid point (all sharing the count-vector parameters).

    ``per_movie``: the model's ``item_likes()`` and ``late_share()``, computed once.
    """
    if len(model.fans(query)) == 0:
        return [0] * len(grid)
    parts = collaborative.sequential_parts(model, query, grid[0])
    # movies outside the support score 0 and are never recommended, so scoring only the
    # support gives the same ranks, much faster (the query stays: it sets the scale)
    support = np.flatnonzero(parts.together + parts.after.sum(axis=0)
                             + parts.before.sum(axis=0))
    target_at = np.flatnonzero(support == target)
    if len(target_at) == 0:
        return [0] * len(grid)
    compact = collaborative.SequentialParts(after=parts.after[:, support],
                                            before=parts.before[:, support],
                                            together=parts.together[support])
    likes, late_share = (values[support] for values in per_movie)
    allowed = support != query
    return [_rank_of(collaborative.top_k(scores, k, allowed), int(target_at[0]))
            for scores in _grid_scores(compact, grid, likes, late_share)]


def _grid_scores(parts: collaborative.SequentialParts, grid: Sequence[SequentialParams],
                 likes: np.ndarray, late_share: np.ndarray) -> Iterator[np.ndarray]:
    """``combine_parts`` for each grid point, to the last bit, several times faster: grid
    points share the scaled parts and the late weights, each computed once."""
    units: dict[tuple[int, float, float, float], tuple[np.ndarray, np.ndarray]] = {}
    late_weights: dict[float, np.ndarray | None] = {0.0: None}
    for params in grid:
        unit_key = (params.window, params.decay, params.backward, params.beta)
        if unit_key not in units:
            units[unit_key] = collaborative.unit_parts(parts, params, likes)
        if params.late not in late_weights:
            late_weights[params.late] = late_share ** params.late
        yield collaborative.add_parts(*units[unit_key], params.backoff,
                                      late_weights[params.late])


def _group(grid: Sequence[SequentialParams]) -> list[list[int]]:
    """Rows of the grid points that share the count vectors (window, alpha, loved)."""
    groups: dict[tuple[int, float, float], list[int]] = {}
    for row, params in enumerate(grid):
        groups.setdefault((params.window, params.alpha, params.loved), []).append(row)
    return list(groups.values())


def _rank(recommendations: list[collaborative.Recommendation], target: int) -> int:
    """1-based rank of ``target`` in the list, 0 when absent."""
    return _rank_of(np.array([rec.item for rec in recommendations], dtype=np.int64), target)


def _rank_of(items: np.ndarray, target: int) -> int:
    hits = np.flatnonzero(items == target)
    return int(hits[0]) + 1 if len(hits) else 0


def summarise(method: str, ranks: np.ndarray, k: int) -> MethodResult:
    """HR@k and NDCG@k, with standard errors, from 1-based ranks (0 = not in the list)."""
    ranks = np.asarray(ranks)
    hits = ((ranks > 0) & (ranks <= k)).astype(np.float64)
    gains = np.where(hits > 0, 1.0 / np.log2(np.maximum(ranks, 1) + 1.0), 0.0)
    return MethodResult(method=method, hit_rate=float(hits.mean()),
                        hit_rate_se=_standard_error(hits), ndcg=float(gains.mean()),
                        ndcg_se=_standard_error(gains), n_users=len(ranks))


def _standard_error(values: np.ndarray) -> float:
    if len(values) < 2:
        return 0.0
    return float(values.std(ddof=1) / np.sqrt(len(values)))


def report_to_dict(report: EvaluationReport) -> dict:
    """The report as plain JSON-ready values."""
    return {"n_eligible": report.n_eligible,
            "params": dataclasses.asdict(report.params),
            "validation": None if report.validation is None
            else dataclasses.asdict(report.validation),
            "results": [dataclasses.asdict(result) for result in report.results]}


def format_table(report: EvaluationReport, k: int = 10) -> str:
    """The report as a text table: one row per method, with standard errors."""
    lines = [f"{'method':<12} {'HR@' + str(k):>16} {'NDCG@' + str(k):>16} {'users':>7}"]
    for result in report.results:
        lines.append(f"{result.method:<12} {result.hit_rate:>8.4f} ± {result.hit_rate_se:.4f}"
                     f" {result.ndcg:>8.4f} ± {result.ndcg_se:.4f} {result.n_users:>7,}")
    if report.validation is not None:
        lines.append(f"{collaborative.DEFAULT_METHOD} hyperparameters chosen on the validation "
                     f"split (HR@{k} {report.validation.hit_rate:.4f}, "
                     f"{report.validation.n_users:,} users): "
                     + ", ".join(f"{name}={value}"
                                 for name, value in dataclasses.asdict(report.params).items()))
    return "\n".join(lines)

"""Ranks of the held-out targets, computed in parallel, and HR@k / NDCG@k over them."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from joblib import Parallel, delayed
from tqdm import tqdm

from movie_recommender.holdout import QueryPairs

RANK_SLICE = 500
"""At most this many users per task of ``rank_matrix``."""

RankFunction = Callable[[QueryPairs, slice], np.ndarray]
"""Ranks of the targets of ``pairs[users]``: one row per variant, one column per user."""


@dataclasses.dataclass(frozen=True)
class MethodResult:
    """Quality of one method: means over users with their standard errors."""

    method: str
    hit_rate: float
    hit_rate_se: float
    ndcg: float
    ndcg_se: float
    n_users: int


def rank_matrix(rank_users: RankFunction, pairs: QueryPairs, n_rows: int, jobs: int = 1,
                progress: str | None = None) -> np.ndarray:
    """Run ``rank_users`` over all the pairs, in slices shared by ``jobs`` processes.

    ``joblib.Parallel`` sends the model's large arrays to the workers memory-mapped, so
    they are written once, not copied per slice. ``progress`` names a tqdm bar on stderr,
    shown when stderr is a terminal.

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
        if jobs <= 1 or len(slices) <= 1:
            results = (rank_users(pairs, users) for users in slices)
        else:
            results = Parallel(n_jobs=jobs, return_as="generator")(
                delayed(rank_users)(pairs, users) for users in slices)
        for part in results:
            parts.append(part)
            progress_bar.update(part.shape[1])
    return np.concatenate(parts, axis=1)


def rank_of(items: np.ndarray, target: int) -> int:
    """1-based rank of ``target`` among ``items``, 0 when absent.

    >>> rank_of(np.array([7, 3, 9]), 3), rank_of(np.array([7]), 3)
    (2, 0)
    """
    hits = np.flatnonzero(np.asarray(items) == target)
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

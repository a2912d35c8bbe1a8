"""Choose the ``sequential`` hyperparameters on a validation split (a grid search)."""
from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Sequence

import numpy as np

from movie_recommender import scorers
from movie_recommender.holdout import QueryPairs
from movie_recommender.liked import LikedMatrices
from movie_recommender.metrics import MethodResult, rank_matrix, rank_of, summarise
from movie_recommender.scorers import SequentialParams
from movie_recommender.topk import top_k


def default_param_grid() -> list[SequentialParams]:
    """The hyperparameter candidates tried on the validation split (the default first)."""
    default = scorers.DEFAULT_PARAMS
    grid = [default]
    for above_4, backward, backoff, alpha, beta in itertools.product(
            (1.0, 0.0), (0.0, 0.5), (0.3, 1.0, 3.0, 100.0), (0.5, 1.0), (0.0, 0.2, 0.4)):
        grid.append(dataclasses.replace(default, above_4=above_4, backward=backward,
                                        backoff=backoff, alpha=alpha, beta=beta))
    return grid


def tune(pairs: QueryPairs, grid: Sequence[SequentialParams], *, k: int = 10, jobs: int = 1
         ) -> tuple[SequentialParams, MethodResult]:
    """Pick the grid point with the best HR@k (then NDCG@k; then earliest) on these pairs."""
    ranks = tuning_ranks(pairs, grid, k=k, jobs=jobs)
    summaries = [summarise(scorers.DEFAULT_METHOD, row, k) for row in ranks]
    best = max(range(len(grid)), key=lambda i: (summaries[i].hit_rate, summaries[i].ndcg, -i))
    return grid[best], summaries[best]


def tuning_ranks(pairs: QueryPairs, grid: Sequence[SequentialParams], *, k: int = 10,
                 jobs: int = 1) -> np.ndarray:
    """Rank of each target (1-based, 0 when not in the top ``k``) for each grid point.

    Each query's count vectors are computed once per ``(window, alpha, above_4)`` and
    reused for every grid point, which keeps tuning affordable on large data sets.

    Returns:
        The int64 matrix of ranks: one row per grid point, one column per pair.
    """
    return rank_matrix(functools.partial(_tuning_ranks, grid=tuple(grid), k=k), pairs,
                       len(grid), jobs, progress=f"tuning {len(grid)} points")


def _tuning_ranks(pairs: QueryPairs, users: slice, *, grid: tuple[SequentialParams, ...],
                  k: int) -> np.ndarray:
    """Rank of each target for each grid point (rows: grid points)."""
    likes = pairs.model.item_likes()
    ranks = np.zeros((len(grid), len(pairs.queries[users])), dtype=np.int64)
    for members in _group(grid):
        for column, (query, target) in enumerate(zip(pairs.queries[users],
                                                     pairs.targets[users])):
            ranks[members, column] = _grid_ranks(pairs.model, int(query), int(target),
                                                 [grid[row] for row in members], k, likes)
    return ranks


def _grid_ranks(model: LikedMatrices, query: int, target: int,
                grid: Sequence[SequentialParams], k: int, likes: np.ndarray) -> list[int]:
    """Rank of ``target`` for each grid point (all sharing the count-vector parameters)."""
    if len(model.fans(query)) == 0:
        return [0] * len(grid)
    parts = scorers.sequential_parts(model, query, grid[0])
    # movies outside the support score 0 and are never recommended, so scoring only the
    # support gives the same ranks, much faster (the query stays: it sets the scale)
    support = np.flatnonzero(parts.together + parts.after.sum(axis=0)
                             + parts.before.sum(axis=0))
    target_at = np.flatnonzero(support == target)
    if len(target_at) == 0:
        return [0] * len(grid)
    compact = scorers.SequentialParts(after=parts.after[:, support],
                                      before=parts.before[:, support],
                                      together=parts.together[support])
    allowed = support != query
    return [rank_of(top_k(scorers.combine_parts(compact, params, likes[support]), k, allowed),
                    int(target_at[0]))
            for params in grid]


def _group(grid: Sequence[SequentialParams]) -> list[list[int]]:
    """Rows of the grid points that share the count vectors (window, alpha, above_4)."""
    groups: dict[tuple[int, float, float], list[int]] = {}
    for row, params in enumerate(grid):
        groups.setdefault((params.window, params.alpha, params.above_4), []).append(row)
    return list(groups.values())

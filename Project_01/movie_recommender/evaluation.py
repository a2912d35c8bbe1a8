"""Offline evaluation of every method: split, tune on validation, rank the test targets.

The protocol is in ``holdout`` (leave the last liked movie out), the grid search in
``tuning``, the ranks and HR@k / NDCG@k in ``metrics``, the rendering in ``report``.
Hyperparameters of the default method are tuned on a validation split one step earlier
in each history, so the test targets never influence a choice.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Sequence

import numpy as np

from movie_recommender import liked, scorers, tuning
from movie_recommender.holdout import QueryPairs, UserSample, holdout_split, sample_users
from movie_recommender.liked import Ratings
from movie_recommender.metrics import MethodResult, rank_matrix, rank_of, summarise
from movie_recommender.scorers import SequentialParams

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class EvaluationReport:
    """What ``evaluate`` measured.

    Attributes:
        results: test figures, one per method.
        params: the ``sequential`` hyperparameters chosen on the validation split.
        validation: validation figures of the default method with ``params``.
        n_eligible: users with at least ``holdout.MIN_LIKED`` likes (before sampling).
    """

    results: list[MethodResult]
    params: SequentialParams
    validation: MethodResult | None
    n_eligible: int


def evaluate(ratings: Ratings, *, methods: Sequence[str] = scorers.METHODS,
             k: int = 10, users: UserSample | None = None,
             param_grid: Sequence[SequentialParams] | None = None,
             jobs: int = 1) -> EvaluationReport:
    """Measure HR@k and NDCG@k of each method under the leave-last-liked-out protocol.

    Args:
        ratings: all ratings of the data set.
        methods: the methods to measure (``scorers.METHODS`` by default).
        k: recommendation list length.
        users: the users to evaluate and to tune on (all of them if None).
        param_grid: candidates for the default method's hyperparameters
            (``tuning.default_param_grid()`` if None; one candidate means no tuning).
        jobs: processes that share the queries (the figures do not depend on it).

    Returns:
        The report; ``params`` are the tuned hyperparameters used on the test split.
    """
    users = users or UserSample()
    test = holdout_split(ratings)
    chosen = sample_users(len(test.users), users.eval_users, users.seed)
    params, validation = scorers.DEFAULT_PARAMS, None
    if scorers.DEFAULT_METHOD in methods:
        params, validation = _tune_on_validation(
            ratings, chosen[sample_users(len(chosen), users.tune_users, users.seed)],
            param_grid or tuning.default_param_grid(), k, jobs)
    pairs = QueryPairs(liked.build_model(ratings.subset(test.train)),
                       test.queries[chosen], test.targets[chosen])
    ranks = rank_matrix(functools.partial(method_ranks, methods=tuple(methods), k=k,
                                          params=params), pairs, len(methods), jobs,
                        progress="testing")
    results = [summarise(method, row, k) for method, row in zip(methods, ranks)]
    for result in results:
        logger.info("%s: HR@%d %.4f", result.method, k, result.hit_rate)
    return EvaluationReport(results=results, params=params, validation=validation,
                            n_eligible=len(test.users))


def _tune_on_validation(ratings: Ratings, users: np.ndarray, grid: Sequence[SequentialParams],
                        k: int, jobs: int) -> tuple[SequentialParams, MethodResult]:
    """``tuning.tune`` on the validation split of these users (positions among the eligible)."""
    valid = holdout_split(ratings, steps_back=1)
    logger.info("tuning %s on %d validation users", scorers.DEFAULT_METHOD, len(users))
    return tuning.tune(QueryPairs(liked.build_model(ratings.subset(valid.train)),
                                  valid.queries[users], valid.targets[users]),
                       grid, k=k, jobs=jobs)


def method_ranks(pairs: QueryPairs, users: slice, *, methods: tuple[str, ...], k: int,
                 params: SequentialParams) -> np.ndarray:
    """Rank of each target among each method's top ``k`` (rows: methods)."""
    ranks = np.zeros((len(methods), len(pairs.queries[users])), dtype=np.int64)
    for row, method in enumerate(methods):
        for column, (query, target) in enumerate(zip(pairs.queries[users],
                                                     pairs.targets[users])):
            found = scorers.recommend(pairs.model, int(query), method, k=k, params=params)
            ranks[row, column] = rank_of(np.array([rec.item for rec in found], dtype=np.int64),
                                         int(target))
    return ranks

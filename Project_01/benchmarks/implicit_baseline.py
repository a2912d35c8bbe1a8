"""The ``implicit`` library's item-item models under the same protocol (optional baseline).

Issue 5 names "the implicit library's best item-item model" as the baseline to beat.
This module fits implicit's ``CosineRecommender``, ``TFIDFRecommender`` and
``BM25Recommender`` on the same "liked" matrix (rating >= 4.0) and the same hold-out
splits as ``movie_recommender.holdout``, picks the best model on the validation
split, and scores it on the test split for the same users, so its HR@10 sits side by
side with ours. implicit is not a dependency of the tool; install it to run this:

    pip install implicit==0.7.3
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import itertools
import warnings

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from movie_recommender import holdout, metrics
from movie_recommender.liked import LIKED_THRESHOLD, Ratings

NEIGHBOURS = (20, 200)
"""Values of implicit's ``K`` (neighbours kept per movie) that are tried."""

BM25_SETTINGS = tuple(itertools.product((1.2, 100.0), (0.0, 0.75)))
"""(K1, B) pairs tried for ``BM25Recommender``."""


@dataclasses.dataclass(frozen=True)
class BaselineResult:
    """The model chosen on the validation split and its test figures."""

    model: str
    validation_hit_rate: float
    test: metrics.MethodResult


def available() -> bool:
    """Whether the ``implicit`` package is installed."""
    return importlib.util.find_spec("implicit") is not None


def best_item_item(ratings: Ratings, *, eval_users: int | None, seed: int, k: int = 10
                   ) -> BaselineResult:
    """Tune implicit's item-item models on the validation split; score the best on test."""
    test = holdout.holdout_split(ratings)
    valid = holdout.holdout_split(ratings, steps_back=1)
    chosen = holdout.sample_users(len(test.users), eval_users, seed)
    candidates = _candidates()
    with threadpool_limits(1), warnings.catch_warnings():
        # implicit's own BM25/TF-IDF weighting hands its fit a COO matrix and warns about it
        warnings.filterwarnings("ignore", message="Method expects CSR input")
        matrix = _liked_matrix(ratings.subset(valid.train))
        validation = [metrics.summarise(name, _ranks(_fitted(class_name, options, matrix),
                                                        valid.queries[chosen],
                                                        valid.targets[chosen], k), k).hit_rate
                      for name, class_name, options in candidates]
        best = int(np.argmax(validation))
        matrix = _liked_matrix(ratings.subset(test.train))
        ranks = _ranks(_fitted(*candidates[best][1:], matrix),
                       test.queries[chosen], test.targets[chosen], k)
    return BaselineResult(model=candidates[best][0], validation_hit_rate=validation[best],
                          test=metrics.summarise(f"implicit {candidates[best][0]}", ranks, k))


def _candidates() -> list[tuple[str, str, dict[str, float]]]:
    """(label, implicit class name, constructor options) of every model tried."""
    candidates = [(f"{kind} K={size}", f"{kind}Recommender", {"K": size})
                  for size in NEIGHBOURS for kind in ("Cosine", "TFIDF")]
    candidates += [(f"BM25 K={size} K1={k1:g} B={b:g}", "BM25Recommender",
                    {"K": size, "K1": k1, "B": b})
                   for size in NEIGHBOURS for k1, b in BM25_SETTINGS]
    return candidates


def _fitted(class_name: str, options: dict[str, float], matrix: sparse.csr_matrix):
    """An implicit item-item model of that class, fitted on ``matrix`` with one thread."""
    model_class = getattr(importlib.import_module("implicit.nearest_neighbours"), class_name)
    model = model_class(num_threads=1, **options)
    model.fit(matrix, show_progress=False)
    return model


def _liked_matrix(ratings: Ratings) -> sparse.csr_matrix:
    """The binary users x movies "liked" matrix as scipy CSR (what implicit fits on)."""
    liked = ratings.rating >= LIKED_THRESHOLD
    return sparse.csr_matrix((np.ones(int(liked.sum()), dtype=np.float32),
                              (ratings.user_idx[liked], ratings.item_idx[liked])),
                             shape=(ratings.n_users, ratings.n_items))


def _ranks(model, queries: np.ndarray, targets: np.ndarray, k: int) -> np.ndarray:
    """1-based rank of each target among the model's ``k`` most similar movies (0 = miss)."""
    ranks = np.zeros(len(queries), dtype=np.int64)
    for row, (query, target) in enumerate(zip(queries, targets)):
        similar, _ = model.similar_items(int(query), N=k + 1)
        similar = [int(item) for item in similar if item != query][:k]
        if int(target) in similar:
            ranks[row] = similar.index(int(target)) + 1
    return ranks

"""EASE for ``--ratings-file``: fitted once per data set, cached beside its index (numpy).

EASE (Steck, 2019) learns one item-item weight matrix in closed form,
``B = I - P / diag(P)`` with ``P = (X^T X + lambda I)^-1`` over the binary liked matrix
``X``; a profile scores ``sum_i w_i B[i, :]`` over its liked movies ``i`` (``w_i``: the
recency weights of ``profile_scorers.like_weights``). It scores best under the
user-profile protocol (README, "Recommendations for you").

B is dense, so it covers at most ``MAX_ITEMS`` movies, the most liked ones (at least
``MIN_LIKES`` fans each). 10,000 is every liked movie of ml-latest-small and, on the 25M
synthetic set (about 59,000 rated movies), the head that holds most likes: B is then
400 MB of float32 (memory-mapped, a 2,000-movie profile reads 80 MB of it), and fitting
it, once, took 105 s with a peak RSS of 3.3 GB on two cores (the Gram matrix 21 s, the
inverse about 60 s). 20,000 would need 1.6 GB and about eight times the fitting time.
A movie outside B is never recommended by EASE; when EASE finds fewer than asked (a
profile of obscure movies, strict filters), item-item fills the rest.

The cache is ``<index build folder>/ease-<version>-n<items>-l<lambda>/{items,weights}.npy``,
written to a temporary folder and renamed; a superseded index build takes it along.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from movie_recommender import index
from movie_recommender.liked import LikedMatrices
from movie_recommender.profile_scorers import (BECAUSE, Profile, ProfileParams,
                                               ProfileRecommendation, like_weights,
                                               recommend_for_profile)
from movie_recommender.topk import top_k

logger = logging.getLogger(__name__)

MAX_ITEMS = 10_000
"""Most movies B covers (see the module docstring for why)."""

MIN_LIKES = 2
"""A movie needs this many fans to be in B: one fan says nothing about co-likes."""

LAMBDA = 50.0
"""EASE's regularisation, chosen on the validation step of ``--evaluate`` on
ml-latest-small (grid 10/25/50/100/200)."""

RECENCY = ProfileParams(half_life=10.0, above_4=0.0)
"""Weights of the profile's likes: the 10th most recent counts half (the half-life chosen
on the validation step of ``--evaluate --protocol profile``), strong likes no more."""

_VERSION = "v1"


@dataclasses.dataclass(frozen=True)
class EaseModel:
    """B over some movies.

    Attributes:
        items: catalogue positions of B's rows and columns, ascending.
        weights: B, float32, zero diagonal (may be memory-mapped).
        n_items: number of catalogue movies.
    """

    items: np.ndarray
    weights: np.ndarray
    n_items: int

    def columns(self, positions: np.ndarray) -> np.ndarray:
        """B's row of each catalogue position (-1 where the movie is not in B)."""
        column = np.full(self.n_items, -1, dtype=np.int64)
        column[self.items] = np.arange(len(self.items))
        return column[np.asarray(positions, dtype=np.int64)]

    def scores(self, profile: Profile, params: ProfileParams = RECENCY) -> np.ndarray:
        """The score of every movie (0 outside B and where EASE is not positive)."""
        rows = self.columns(profile.liked)
        inside = rows >= 0
        scores = np.zeros(self.n_items)
        if inside.any():
            weight = like_weights(profile, params)[inside].astype(np.float32)
            scores[self.items] = weight @ self.weights[rows[inside]]
        return np.maximum(scores, 0.0)

    def because(self, profile: Profile, item: int, k: int = BECAUSE,
                params: ProfileParams = RECENCY) -> list[int]:
        """The ``k`` profile movies with the largest positive share of ``item``'s score."""
        rows = self.columns(profile.liked)
        column = self.columns(np.array([item]))[0]
        inside = np.flatnonzero(rows >= 0)
        if column < 0 or inside.size == 0:
            return []
        shares = like_weights(profile, params)[inside] * self.weights[rows[inside], column]
        order = np.lexsort((inside, -shares))[:k]
        return [int(profile.liked[inside[i]]) for i in order if shares[i] > 0]

    def recommend(self, profile: Profile, top: int, allowed: np.ndarray
                  ) -> list[ProfileRecommendation]:
        """Up to ``top`` allowed movies, best first (only positive EASE scores)."""
        scores = self.scores(profile)
        return [ProfileRecommendation(int(j), float(scores[j]), self.because(profile, int(j)),
                                      "ease") for j in top_k(scores, top, allowed)]


def recommend(ease: EaseModel, model: LikedMatrices, profile: Profile, *, top: int,
              exclude: np.ndarray | None = None) -> list[ProfileRecommendation]:
    """EASE's ``top`` movies for ``profile``, topped up by item-item when EASE has fewer.

    ``exclude``: optional boolean mask over movie positions, True = never recommend;
    a movie the profile rated is never recommended.
    """
    allowed = np.ones(ease.n_items, dtype=bool) if exclude is None else ~np.asarray(exclude)
    allowed[profile.rated] = False
    found = ease.recommend(profile, top, allowed)
    if len(found) < top:
        allowed[[rec.item for rec in found]] = False
        found += recommend_for_profile(model, profile, top=top - len(found), exclude=~allowed)
    return found


def chosen_items(model: LikedMatrices, limit: int | None = MAX_ITEMS,
                 min_likes: int = MIN_LIKES) -> np.ndarray:
    """The ``limit`` most liked movies with at least ``min_likes`` fans, ascending.

    Ties at the cut go to the lower position, so the choice is reproducible.
    """
    likes = model.item_likes()
    eligible = np.flatnonzero(likes >= min_likes)
    if limit is not None and len(eligible) > limit:
        eligible = np.sort(eligible[np.argsort(-likes[eligible], kind="stable")[:limit]])
    return eligible


def liked_matrix(model: LikedMatrices, items: np.ndarray):
    """The binary liked matrix ``X``, users by ``items`` (a ``scipy.sparse`` CSR matrix)."""
    sparse = importlib.import_module("scipy.sparse")  # only a fit needs it (0.1 s)
    column = np.full(model.n_items, -1, dtype=np.int64)
    column[items] = np.arange(len(items))
    users = np.repeat(np.arange(model.n_users), np.diff(model.user_indptr))
    cols = column[model.user_items]
    keep = cols >= 0
    return sparse.csr_matrix((np.ones(int(keep.sum()), dtype=np.float32),
                              (users[keep], cols[keep])), shape=(model.n_users, len(items)))


def ease_weights(liked, regularisation: float) -> np.ndarray:
    """EASE's B from the liked matrix ``X`` (dense or sparse): float32, zero diagonal.

    With fewer users than movies (ml-latest-small: 610 users, 3,722 movies) it inverts
    the users-by-users ``X X^T + lambda I`` instead (Woodbury): ``lambda P = I - X^T
    (X X^T + lambda I)^-1 X`` gives the same B (the factor lambda cancels) 100 times faster.

    >>> liked = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    >>> np.round(ease_weights(liked, 1.0).astype(np.float64), 3).tolist()
    [[0.0, 0.333], [0.333, 0.0]]
    """
    n_users, n_items = liked.shape
    if n_users < n_items:
        dense = _dense(liked)
        inner = dense @ dense.T
        inner[np.diag_indices(n_users)] += regularisation
        precision = -(dense.T @ np.linalg.inv(inner) @ dense)
        precision[np.diag_indices(n_items)] += 1.0
    else:  # in place where it can: on 10,000 movies each copy is 800 MB
        gram = _dense(liked.T @ liked)
        gram[np.diag_indices(n_items)] += regularisation
        precision = np.linalg.inv(gram)
        del gram
    precision /= -np.diag(precision).copy()
    weights = precision.astype(np.float32)
    np.fill_diagonal(weights, 0.0)
    return weights


def _dense(matrix) -> np.ndarray:
    """A float64 ndarray of a dense or ``scipy.sparse`` matrix."""
    return np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix,
                      dtype=np.float64)


def fit(model: LikedMatrices, regularisation: float = LAMBDA,
        limit: int | None = MAX_ITEMS) -> EaseModel:
    """Fit EASE on the most liked movies of ``model``."""
    items = chosen_items(model, limit)
    logger.info("fitting EASE on %d movies (once per data set)", len(items))
    return EaseModel(items, ease_weights(liked_matrix(model, items), regularisation),
                     model.n_items)


def cache_folder(data_folder: Path, cache_dir: Path) -> Path | None:
    """Where the EASE weights of the current index build live (None: no stored index)."""
    directory = index.index_dir(cache_dir, data_folder)
    try:
        build = json.loads((directory / index.MANIFEST).read_text(encoding="utf-8"))["build"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return directory / str(build) / f"ease-{_VERSION}-n{MAX_ITEMS}-l{LAMBDA:g}"


def load_or_fit(model: LikedMatrices, folder: Path | None) -> EaseModel:
    """The cached EASE of ``model`` in ``folder``, else fitted and stored there.

    A cache that cannot be written, or ``folder`` None, gives an EASE kept in memory
    for this run (one warning).
    """
    expected = chosen_items(model)
    if folder is not None:
        try:
            items = np.load(folder / "items.npy", allow_pickle=False)
            weights = np.load(folder / "weights.npy", mmap_mode="r", allow_pickle=False)
            if np.array_equal(items, expected) and weights.shape == (len(items),) * 2:
                return EaseModel(items, weights.view(np.ndarray), model.n_items)
            logger.info("the cached EASE weights do not fit this index; refitting")
        except (OSError, ValueError):
            pass
    ease = fit(model)
    if folder is None:  # the index was built in memory too, and that was said once
        logger.info("no stored index: EASE weights computed in memory (not kept)")
        return ease
    try:
        _store(ease, folder)
    except OSError as err:
        logger.warning("cannot store the EASE weights in %s (%s); computed in memory "
                       "(not kept)", folder, err.strerror or err)
    return ease


def _store(ease: EaseModel, folder: Path) -> None:
    """Write ``ease`` into ``folder`` atomically (a temporary folder, then a rename)."""
    temp = Path(tempfile.mkdtemp(prefix=".tmp-ease-", dir=folder.parent))
    try:
        np.save(temp / "items.npy", ease.items, allow_pickle=False)
        np.save(temp / "weights.npy", ease.weights, allow_pickle=False)
        if folder.exists():  # a stale or damaged copy
            shutil.rmtree(folder)
        os.replace(temp, folder)
    finally:
        shutil.rmtree(temp, ignore_errors=True)

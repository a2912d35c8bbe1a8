"""The user-profile protocol of ``--evaluate --protocol profile`` (what ``--ratings-file`` does).

For each user with at least ``MIN_PROFILE_LIKES`` liked ratings, ordered by time (then
movie position): the last liked movie is the *target*, every rating before it is the
*profile* (its movies are never recommended), and the liked one before the target is the
*validation* target, with the ratings before that as its profile. The evaluated users
are split into ``FOLDS`` folds; each fold is scored on a model trained on the other
users only, so **no row of an evaluated user is in its own training data**, yet every
eligible user is evaluated. Hyperparameters (item-item weights, EASE's lambda) are chosen
on the validation targets only; HR@k and NDCG@k are reported on the test targets next to
most-popular and plain item-item cosine.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence

import numpy as np

from movie_recommender import MovieRecommenderError, liked, profile_ease, profile_scorers
from movie_recommender.liked import LIKED_THRESHOLD, LikedMatrices, Ratings
from movie_recommender.metrics import MethodResult, rank_of, summarise
from movie_recommender.profile_ease import EaseModel
from movie_recommender.profile_scorers import ItemItemScorer, Profile, ProfileParams
from movie_recommender.topk import top_k

logger = logging.getLogger(__name__)

MIN_PROFILE_LIKES = 20
FOLDS = 5
EASE_LAMBDAS = (10.0, 25.0, 50.0, 100.0, 200.0)
COSINE = ProfileParams(alpha=0.0, beta=0.5, gamma=0.5, half_life=0.0, above_4=0.0)


class NotEnoughLikesError(MovieRecommenderError):
    """No user has enough liked ratings for the protocol."""


def default_profile_grid() -> list[ProfileParams]:
    """Item-item candidates tried on the validation targets (the default first)."""
    grid = [profile_scorers.DEFAULT_PROFILE_PARAMS]
    for alpha in (0.0, 0.5):
        for beta in (0.3, 0.5):
            for half_life in (0.0, 10.0, 50.0):
                candidate = ProfileParams(alpha=alpha, beta=beta, gamma=0.5,
                                          half_life=half_life, above_4=0.5)
                if candidate not in grid:
                    grid.append(candidate)
    return grid


@dataclasses.dataclass(frozen=True)
class ProfileCase:
    """One user's profile and the movie to find."""

    user: int
    profile: Profile
    target: int


@dataclasses.dataclass(frozen=True)
class ProfileSplit:
    """Every eligible user's test and validation case, and her fold."""

    test: list[ProfileCase]
    validation: list[ProfileCase]
    fold: np.ndarray


@dataclasses.dataclass(frozen=True)
class ProfileReport:
    """Test figures per method and the hyperparameters chosen on validation."""

    results: list[MethodResult]
    item_item_params: ProfileParams
    ease_lambda: float
    validation: dict[str, float]
    n_eligible: int


def profile_split(ratings: Ratings, *, folds: int = FOLDS, seed: int = 0,
                  max_users: int | None = None) -> ProfileSplit:
    """The test and validation cases of each eligible user (see the module docstring)."""
    order = np.lexsort((ratings.item_idx, ratings.timestamp, ratings.user_idx))
    users, items = ratings.user_idx[order], ratings.item_idx[order]
    values = ratings.rating[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    stops = np.r_[starts[1:], len(users)]
    pairs = [pair for start, stop in zip(starts, stops)
             if (pair := _user_cases(int(users[start]), items[start:stop], values[start:stop]))]
    keep = np.arange(len(pairs))
    if max_users is not None and max_users < len(pairs):
        keep = np.sort(np.random.default_rng(seed).choice(len(pairs), max_users,
                                                          replace=False))
    fold = np.random.default_rng(seed).permutation(len(keep)) % folds
    return ProfileSplit([pairs[i][0] for i in keep], [pairs[i][1] for i in keep], fold)


def _user_cases(user: int, items: np.ndarray, values: np.ndarray
                ) -> tuple[ProfileCase, ProfileCase] | None:
    """One user's (test, validation) cases from her time-ordered ratings; None when she
    has fewer than ``MIN_PROFILE_LIKES`` likes."""
    liked_at = np.flatnonzero(values >= LIKED_THRESHOLD)
    if len(liked_at) < MIN_PROFILE_LIKES:
        return None
    test, validation = (ProfileCase(user, _profile(items[:at], values[:at]), int(items[at]))
                        for at in (liked_at[-1], liked_at[-2]))
    return test, validation


def _profile(items: np.ndarray, values: np.ndarray) -> Profile:
    """A profile from one user's time-ordered ratings."""
    liked_mask = values >= LIKED_THRESHOLD
    return Profile(rated=items.astype(np.int64), liked=items[liked_mask].astype(np.int64),
                   strong=values[liked_mask] > liked.ABOVE_4, dated=True)


Ranker = Callable[[ProfileCase], int]


def _rank(scores: np.ndarray, case: ProfileCase, k: int) -> int:
    allowed = np.ones(len(scores), dtype=bool)
    allowed[case.profile.rated] = False
    return rank_of(top_k(scores, k, allowed), case.target)


class FoldModels:
    """Everything trained on one fold's training users: liked matrices and EASE."""

    def __init__(self, ratings: Ratings, evaluated: np.ndarray) -> None:
        train = ~np.isin(ratings.user_idx, evaluated)
        self.model: LikedMatrices = liked.build_model(ratings.subset(train))
        self.popularity = self.model.item_likes().astype(np.float64)
        self.ease_items = profile_ease.chosen_items(self.model)  # as --ratings-file does
        self._liked = profile_ease.liked_matrix(self.model, self.ease_items)
        self._ease: dict[float, EaseModel] = {}

    def ease(self, regularisation: float) -> EaseModel:
        """EASE with this lambda (fitted on first use)."""
        if regularisation not in self._ease:
            self._ease[regularisation] = EaseModel(
                self.ease_items, profile_ease.ease_weights(self._liked, regularisation),
                self.model.n_items)
        return self._ease[regularisation]

    def ease_scores(self, profile: Profile, regularisation: float,
                    params: ProfileParams) -> np.ndarray:
        """EASE scores over all movies (0 outside ``ease_items``), recency-weighted input."""
        return self.ease(regularisation).scores(profile, params)


def _ranks(cases: Sequence[ProfileCase], fold_of: np.ndarray, fold_models: list[FoldModels],
           score: Callable[[FoldModels, Profile], np.ndarray], k: int) -> np.ndarray:
    return np.array([_rank(score(fold_models[fold_of[i]], case.profile), case, k)
                     for i, case in enumerate(cases)], dtype=np.int64)


Score = Callable[[FoldModels, Profile], np.ndarray]
"""A method: the scores of every movie for a profile, on one fold's models."""


def item_item(params: ProfileParams) -> Score:
    """Item-item over the profile with these hyperparameters."""
    return lambda models, profile: ItemItemScorer(models.model, profile, params).scores()


def ease(regularisation: float, params: ProfileParams) -> Score:
    """EASE with this lambda, the likes weighted by ``params``' recency."""
    return lambda models, profile: models.ease_scores(profile, regularisation, params)


def popular(models: FoldModels, _: Profile) -> np.ndarray:
    """Most popular: the number of fans in training."""
    return models.popularity


def choose(split: ProfileSplit, fold_models: list[FoldModels], candidates: Sequence[Score],
           k: int) -> tuple[int, MethodResult]:
    """The candidate with the best HR@k (then NDCG@k, then the first) on validation."""
    results = [summarise("validation", _ranks(split.validation, split.fold, fold_models,
                                              score, k), k) for score in candidates]
    best = max(range(len(results)), key=lambda i: (results[i].hit_rate, results[i].ndcg, -i))
    return best, results[best]


def evaluate_profiles(ratings: Ratings, *, k: int = 10, seed: int = 0,
                      max_users: int | None = None,
                      grid: Sequence[ProfileParams] | None = None,
                      lambdas: Sequence[float] = EASE_LAMBDAS) -> ProfileReport:
    """Run the protocol: tune on validation, report the test figures of each method.

    Raises:
        NotEnoughLikesError: when no user has ``MIN_PROFILE_LIKES`` liked ratings.
    """
    split = profile_split(ratings, seed=seed, max_users=max_users)
    if not split.test:
        raise NotEnoughLikesError(f"no user has {MIN_PROFILE_LIKES} liked ratings")
    fold_models = fold_models_of(ratings, split)
    grid = list(grid or default_profile_grid())
    best, item_result = choose(split, fold_models, [item_item(p) for p in grid], k)
    logger.info("item-item chosen on validation: %s (HR@%d %.4f)", grid[best], k,
                item_result.hit_rate)
    recency = dataclasses.replace(grid[best], above_4=0.0)
    best_lambda, ease_result = choose(split, fold_models,
                                      [ease(value, recency) for value in lambdas], k)
    logger.info("EASE lambda chosen on validation: %s (HR@%d %.4f)", lambdas[best_lambda],
                k, ease_result.hit_rate)
    methods: list[tuple[str, Score]] = [
        ("ease", ease(lambdas[best_lambda], recency)), ("item-item", item_item(grid[best])),
        ("cosine", item_item(COSINE)), ("popular", popular)]
    return ProfileReport(
        [summarise(name, _ranks(split.test, split.fold, fold_models, score, k), k)
         for name, score in methods],
        grid[best], float(lambdas[best_lambda]),
        {"item-item": item_result.hit_rate, "ease": ease_result.hit_rate}, len(split.test))


def fold_models_of(ratings: Ratings, split: ProfileSplit) -> list[FoldModels]:
    """Each fold's models, trained without any row of that fold's users."""
    users = np.array([case.user for case in split.test])
    return [FoldModels(ratings, users[split.fold == fold]) for fold in range(FOLDS)]

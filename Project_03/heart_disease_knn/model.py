"""The KNN pipeline: build, split, train (optionally grid-searched) and evaluate (no I/O)."""
import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.metrics import (accuracy_score, brier_score_loss, confusion_matrix, f1_score,
                             precision_score, recall_score, roc_auc_score)
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score, \
    train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, OneHotEncoder, \
    StandardScaler
from threadpoolctl import threadpool_limits

from heart_disease_knn.features import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES, TARGET, \
    zeros_to_missing
from heart_disease_knn.validation import DatasetError

logger = logging.getLogger(__name__)

DEFAULT_N_NEIGHBORS = 5
SCORING = "accuracy"

# The tuning grid (40 candidates). On these data KNN gains most from the distance
# (Manhattan, p=1, over one-hot columns), from standardising instead of min-max scaling
# (which weights the numeric measurements more against the 0/1 columns) and from more
# neighbours than the default 5. Measured with nested 10x5 CV in benchmarks/bench_cv.py.
PARAM_GRID: dict[str, list[Any]] = {
    "preprocess__numeric__scale": [MinMaxScaler(), StandardScaler()],
    "classifier__n_neighbors": [5, 9, 15, 21, 31],
    "classifier__weights": ["uniform", "distance"],
    "classifier__p": [1, 2],
}


# The honest estimate of --tune: nested 10-fold x 5-repeat CV with the whole grid search
# inside every outer training fold (benchmarks/bench_cv.py, outer seeds 0, 1, 2). Measured
# on the bundled data only, so it is reported only for a file with this sha256.
BUNDLED_DATA_SHA256 = "948420b084d8a3a0ca42b8419fce9aee175879e43f8aedf712377899a67aa49b"
NESTED_CV_ESTIMATE: dict[str, Any] = {
    "accuracy": 0.8751, "roc_auc": 0.9265,
    "procedure": "nested CV: 10-fold x 5-repeat outer folds (seed 0) around the grid search "
                 "(benchmarks/bench_cv.py, bundled data)",
}


def nested_estimate(data_sha256: str) -> dict[str, Any] | None:
    """Return the measured nested-CV estimate if the data are the bundled file, else None."""
    return dict(NESTED_CV_ESTIMATE) if data_sha256 == BUNDLED_DATA_SHA256 else None


def build_pipeline(n_neighbors: int = DEFAULT_N_NEIGHBORS) -> Pipeline:
    """Return the unfitted model: missing-value handling, encoding, scaling, KNN.

    The zero-as-missing marking, the median imputation (with a missing indicator),
    the scaling and the one-hot encoding are all learned inside the pipeline, so they
    see only the rows it is fitted on.
    """
    numeric = Pipeline([
        ("zero_is_missing", FunctionTransformer(zeros_to_missing, feature_names_out="one-to-one")),
        ("impute", SimpleImputer(strategy="median", add_indicator=True)),
        ("scale", MinMaxScaler()),
    ])
    preprocess = ColumnTransformer([
        ("numeric", numeric, list(NUMERIC_FEATURES)),
        ("categorical", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL_FEATURES)),
    ])
    return Pipeline([("preprocess", preprocess),
                     ("classifier", KNeighborsClassifier(n_neighbors=n_neighbors))])


@dataclass
class Split:
    """A stratified train/test split of features and target."""

    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series


def check_enough_rows(y: pd.Series, test_size: float, cv: int,
                      min_neighbors: int = DEFAULT_N_NEIGHBORS) -> None:
    """Refuse data too small for a stratified split, ``cv`` folds and ``min_neighbors``.

    Raises:
        DatasetError: naming the counts that are too small.
    """
    counts = y.value_counts()
    n_rows = len(y)
    n_test = math.ceil(test_size * n_rows)
    n_train = n_rows - n_test
    smallest_class = int(counts.min())
    train_smallest = smallest_class - math.ceil(test_size * smallest_class)
    fold_train_rows = n_train - math.ceil(n_train / cv)
    if n_test < 2 or n_train < 2 or train_smallest < 1 or smallest_class < 2:
        raise DatasetError(f"too few rows: {n_rows} rows ({smallest_class} in the smaller class) "
                           f"cannot be split with --test-size {test_size:g} so that both "
                           "parts hold both classes")
    if train_smallest < cv:
        raise DatasetError(f"too few rows: the training split holds about {train_smallest} "
                           f"row(s) of the smaller class, fewer than --cv {cv} folds")
    if fold_train_rows < min_neighbors:
        raise DatasetError(f"too few rows: a cross-validation fold trains on {fold_train_rows} "
                           f"rows, fewer than the {min_neighbors} neighbours KNN needs")


def split(frame: pd.DataFrame, test_size: float, seed: int) -> Split:
    """Split a validated frame into stratified, seeded train and test parts."""
    X = frame.loc[:, list(FEATURES)]
    y = frame[TARGET]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y)
    return Split(X_train, X_test, y_train, y_test)


def check_split(split_data: Split, test_size: float, cv: int) -> None:
    """Refuse a split whose test part lacks a class or whose training part cannot fill
    ``cv`` stratified folds (the rounding of a stratified split can leave a small class out).

    Raises:
        DatasetError: naming --test-size or --cv and the class counts.
    """
    for cls in (0, 1):
        in_test = int((split_data.y_test == cls).sum())
        in_train = int((split_data.y_train == cls).sum())
        if in_test == 0:
            raise DatasetError(
                f"too few rows: with --test-size {test_size:g} the test split holds "
                f"{len(split_data.y_test)} rows and none of class {cls} ({in_train} in the "
                "training split), so recall and ROC AUC would be undefined; raise --test-size "
                f"or add rows of class {cls}")
        if in_train < cv:
            raise DatasetError(
                f"too few rows: the training split holds {in_train} row(s) of class {cls}, "
                f"fewer than --cv {cv} folds; lower --cv or add rows of class {cls}")


def folds(cv: int, seed: int) -> StratifiedKFold:
    """Return the stratified, shuffled, seeded cross-validation folds."""
    return StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)


def grid_for(n_rows_per_fold: int, grid: dict[str, list[Any]] | None = None
             ) -> dict[str, list[Any]]:
    """Return ``grid`` (default :data:`PARAM_GRID`) without neighbour counts a fold cannot hold."""
    grid = dict(PARAM_GRID if grid is None else grid)
    key = "classifier__n_neighbors"
    grid[key] = [k for k in grid[key] if k <= n_rows_per_fold]
    return grid


@dataclass
class TrainingResult:
    """A fitted pipeline and how it was chosen."""

    model: Pipeline
    params: dict[str, Any]
    cv_scores: list[float]
    tuned: bool
    search_candidates: int = 0

    @property
    def cv_mean(self) -> float:
        """Mean cross-validated accuracy on the training split."""
        return float(np.mean(self.cv_scores))

    @property
    def cv_std(self) -> float:
        """Standard deviation of the cross-validated accuracy."""
        return float(np.std(self.cv_scores))


def describe_params(model: Pipeline) -> dict[str, Any]:
    """Return the tunable settings of a pipeline as JSON-friendly values."""
    params = model.get_params()
    return {key: (type(params[key]).__name__ if key.endswith("__scale") else params[key])
            for key in PARAM_GRID}


def train(X: pd.DataFrame, y: pd.Series, cv: int, seed: int, n_jobs: int | None = None,
          tune: bool = False, grid: dict[str, list[Any]] | None = None) -> TrainingResult:
    """Fit the default pipeline, or grid-search it, on training data only.

    Args:
        X, y: the training split.
        cv: number of stratified folds (cross-validated score; grid search folds).
        seed: shuffles the folds.
        n_jobs: parallel jobs for cross-validation (None: 1, -1: all cores).
        tune: grid-search ``grid`` instead of using the defaults.
        grid: parameter grid for ``tune`` (default :data:`PARAM_GRID`).

    Returns:
        The fitted pipeline, its parameters and its per-fold CV accuracies.
    """
    # A KNN query on a few hundred rows takes about a millisecond; OpenMP threads cost
    # more than that to wake, and far more on a busy machine (measured: --tune 25 s -> 6 s
    # under load). Parallelism comes from n_jobs (one process per fold) instead.
    with threadpool_limits(limits=1):
        return _train_single_threaded(X, y, cv, seed, n_jobs, tune, grid)


def _train_single_threaded(X: pd.DataFrame, y: pd.Series, cv: int, seed: int,
                           n_jobs: int | None, tune: bool,
                           grid: dict[str, list[Any]] | None) -> TrainingResult:
    fold_rows = len(y) - math.ceil(len(y) / cv)
    if not tune:
        pipeline = build_pipeline()
        scores = cross_val_score(pipeline, X, y, cv=folds(cv, seed), scoring=SCORING,
                                 n_jobs=n_jobs)
        pipeline.fit(X, y)
        return TrainingResult(pipeline, describe_params(pipeline), scores.tolist(), tuned=False)
    usable_grid = grid_for(fold_rows, grid)
    search = GridSearchCV(build_pipeline(), usable_grid, scoring=SCORING, cv=folds(cv, seed),
                          n_jobs=n_jobs, refit=True)
    search.fit(X, y)
    best = search.best_index_
    scores = [float(search.cv_results_[f"split{i}_test_score"][best]) for i in range(cv)]
    logger.info("grid search: %d candidates x %d folds, best CV accuracy %.4f",
                len(search.cv_results_["params"]), cv, search.best_score_)
    return TrainingResult(search.best_estimator_, describe_params(search.best_estimator_),
                          scores, tuned=True, search_candidates=len(search.cv_results_["params"]))


def classification_metrics(y_true: pd.Series, y_pred: np.ndarray,
                           y_score: np.ndarray) -> dict[str, Any]:
    """Return accuracy, precision, recall, F1, ROC AUC, Brier score and the confusion matrix.

    The Brier score is the mean squared error of the probabilities (0 is perfect; always
    answering 0.5 scores 0.25).

    The confusion matrix is ``[[TN, FP], [FN, TP]]`` (rows: true 0/1, columns: predicted).
    """
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision": float(precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0)),
        "f1": float(f1_score(y_true, y_pred, zero_division=0)),
        "roc_auc": float(roc_auc_score(y_true, y_score)),
        "brier": float(brier_score_loss(y_true, y_score)),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=[0, 1]).tolist(),
    }


def evaluate(model: Pipeline, X: pd.DataFrame, y: pd.Series) -> dict[str, Any]:
    """Return :func:`classification_metrics` of a fitted model on held-out data."""
    return classification_metrics(y, model.predict(X), model.predict_proba(X)[:, 1])


def evaluate_baseline(split_data: Split) -> dict[str, Any]:
    """Return the metrics of always predicting the training split's majority class."""
    baseline = DummyClassifier(strategy="most_frequent").fit(split_data.X_train,
                                                             split_data.y_train)
    metrics = evaluate(baseline, split_data.X_test, split_data.y_test)
    metrics["majority_class"] = int(baseline.classes_[np.argmax(baseline.class_prior_)])
    return metrics


def feature_importance(fitted: Pipeline, X: pd.DataFrame, y: pd.Series, seed: int,
                       repeats: int = 5) -> list[dict[str, Any]]:
    """Return the permutation importance of every feature on held-out data, largest first.

    Each feature's column is shuffled ``repeats`` times; its importance is the mean drop
    in accuracy (negative: shuffling did not hurt, the feature is not used helpfully).
    Five repeats is scikit-learn's own default; ten doubled the cost (about 0.6 s of a
    default run) and kept the five leading features in the same order on the bundled data;
    the features below them are within their standard deviations of zero either way.
    """
    with threadpool_limits(limits=1):
        result = permutation_importance(fitted, X, y, scoring=SCORING, n_repeats=repeats,
                                        random_state=seed)
    rows = [{"feature": name, "mean": float(mean), "std": float(std)}
            for name, mean, std in zip(X.columns, result.importances_mean,
                                       result.importances_std)]
    return sorted(rows, key=lambda row: -row["mean"])

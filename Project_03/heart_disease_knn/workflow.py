"""The two things the tool does, end to end: train-and-evaluate, and predict."""
import importlib
import logging
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from heart_disease_knn import artifacts, model
from heart_disease_knn.artifacts import ArtifactError
from heart_disease_knn.dataset import load_dataset
from heart_disease_knn.features import FEATURES, TARGET

logger = logging.getLogger(__name__)

PROBABILITY_COLUMN = "probability"
PREDICTION_COLUMN = "predicted"


@dataclass(frozen=True)
class TrainingOptions:
    """What a training run needs, as given on the command line."""

    data_path: Path
    output_dir: Path
    test_size: float = 0.2
    cv: int = 5
    seed: int = 42
    n_jobs: int | None = None
    tune: bool = False
    plots: bool = False
    grid: dict[str, list[Any]] | None = None


def _plots() -> ModuleType:
    """Import the plotting module only for --plots: matplotlib adds ~0.5 s to every start."""
    return importlib.import_module("heart_disease_knn.plots")


def run_training(options: TrainingOptions) -> dict[str, Any]:
    """Validate the data, train (or tune), evaluate on the test split and save artifacts.

    Nothing is written before the data have passed every check.

    Returns:
        The run summary (the keys documented in the README), including ``artifacts``.

    Raises:
        HeartDiseaseError: a DatasetError or ArtifactError with a one-line message.
    """
    dataset = load_dataset(options.data_path, require_target=True)
    model.check_enough_rows(dataset.frame[TARGET], options.test_size, options.cv)
    split = model.split(dataset.frame, options.test_size, options.seed)
    trained = model.train(split.X_train, split.y_train, cv=options.cv, seed=options.seed,
                          n_jobs=options.n_jobs, tune=options.tune, grid=options.grid)
    test_metrics = model.evaluate(trained.model, split.X_test, split.y_test)
    summary: dict[str, Any] = {
        "mode": "tuned" if trained.tuned else "default",
        "data": {"path": str(dataset.path), "rows": dataset.rows, "sha256": dataset.sha256},
        "split": {"test_size": options.test_size, "seed": options.seed,
                  "train_rows": len(split.y_train), "test_rows": len(split.y_test)},
        "params": trained.params,
        "cross_validation": {"folds": options.cv, "scoring": model.SCORING,
                             "mean": trained.cv_mean, "std": trained.cv_std,
                             "candidates": trained.search_candidates},
        "test": test_metrics,
        "baseline": model.evaluate_baseline(split),
    }
    metadata = {"features": list(FEATURES), "target": TARGET,
                "training_data": summary["data"], "split": summary["split"],
                "params": trained.params, "metrics": {"cross_validation":
                                                      summary["cross_validation"],
                                                      "test": test_metrics}}
    written = artifacts.save_run(options.output_dir, trained.model, metadata, summary)
    summary["artifacts"] = {name: str(path) for name, path in written.items()}
    if options.plots:
        y_score = trained.model.predict_proba(split.X_test)[:, 1]
        plot_dir = options.output_dir / "plots"
        try:
            pngs = _plots().save_all(dataset.frame, split.y_test, y_score, test_metrics, plot_dir)
        except OSError as err:
            raise ArtifactError(f"cannot write plots to {plot_dir}: {err.strerror or err}") \
                from err
        summary["artifacts"]["plots"] = [str(path) for path in pngs]
    return summary


def run_prediction(model_path: Path, input_path: Path) -> pd.DataFrame:
    """Score the patients in ``input_path`` with a saved model.

    Returns:
        One row per patient: the CSV line, any columns the model ignores, the model's
        features, the known ``HeartDisease`` if the file has it, then ``probability``
        (of heart disease) and ``predicted`` (the model's 0/1 label).
    """
    pipeline, metadata = artifacts.load_model(model_path)
    if list(metadata.get("features", [])) != list(FEATURES):
        raise ArtifactError(f"{model_path}: trained on features {metadata.get('features')}, "
                            f"this version uses {list(FEATURES)}")
    dataset = load_dataset(input_path, require_target=False)
    X = dataset.frame.loc[:, list(FEATURES)]
    predictions = pd.concat([dataset.extra_columns, dataset.frame], axis=1)
    predictions.insert(0, "line", range(2, dataset.rows + 2))
    predictions[PROBABILITY_COLUMN] = pipeline.predict_proba(X)[:, 1]
    predictions[PREDICTION_COLUMN] = pipeline.predict(X)
    if TARGET in dataset.frame.columns:
        accuracy = float((predictions[PREDICTION_COLUMN] == dataset.frame[TARGET]).mean())
        logger.info("accuracy on the %d labelled rows of %s: %.4f", dataset.rows, input_path,
                    accuracy)
    return predictions


def summary_columns(predictions: pd.DataFrame) -> pd.DataFrame:
    """Return the columns printed on stdout (the --output CSV keeps every column).

    These are ``line``, columns the model ignores (such as an id), the known
    ``HeartDisease`` if given, ``probability`` and ``predicted``.
    """
    features = set(FEATURES)
    return predictions.loc[:, [column for column in predictions.columns
                               if column not in features]]


def write_predictions(predictions: pd.DataFrame, output: Path) -> None:
    """Write predictions as CSV (without the ``line`` column), atomically.

    Raises:
        ArtifactError: if the file cannot be written.
    """
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        artifacts.write_text_atomically(output, predictions.drop(columns="line")
                                        .to_csv(index=False))
    except OSError as err:
        raise ArtifactError(f"cannot write predictions to {output}: "
                            f"{err.strerror or err}") from err

"""The two things the tool does, end to end: train-and-evaluate, and predict."""
import importlib
import logging
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from heart_disease_knn.dataset import load_dataset
from heart_disease_knn.features import FEATURES, TARGET
from heart_disease_knn.report import strict_json

logger = logging.getLogger(__name__)

PROBABILITY_COLUMN = "probability"
PREDICTION_COLUMN = "predicted"
SCORE_COLUMNS = (PROBABILITY_COLUMN, PREDICTION_COLUMN)
PLOT_DIR = "plots"
# Every figure --plots writes; a run without --plots removes them, so no stale figure
# of an older model stays beside the new one.
PLOT_FILES = tuple(f"{PLOT_DIR}/{name}.png" for name in (
    "class_balance", "categories_by_class", "confusion_matrix", "roc_curve"))


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


def _artifacts() -> ModuleType:
    """Import the model-file module (joblib, scikit-learn) only once it is needed."""
    return importlib.import_module("heart_disease_knn.artifacts")


def _model() -> ModuleType:
    """Import scikit-learn (about 1 s) only after the data passed every check."""
    return importlib.import_module("heart_disease_knn.model")


def run_training(options: TrainingOptions) -> dict[str, Any]:
    """Validate the data, train (or tune), evaluate on the test split and save artifacts.

    Nothing is written before the data have passed every check.

    Returns:
        The run summary (the keys documented in the README), including ``artifacts``.

    Raises:
        HeartDiseaseError: a DatasetError or ArtifactError with a one-line message.
    """
    dataset = load_dataset(options.data_path, require_target=True)
    artifacts, model = _artifacts(), _model()
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
    blob = artifacts.serialize_model(trained.model)
    files = {artifacts.MODEL_FILE: blob,
             artifacts.METADATA_FILE: _json_bytes(artifacts.model_metadata(blob, metadata)),
             artifacts.METRICS_FILE: _json_bytes(summary)}
    if options.plots:
        y_score = trained.model.predict_proba(split.X_test)[:, 1]
        pngs = _plots().render_all(dataset.frame, split.y_test, y_score, test_metrics)
        files.update({f"{PLOT_DIR}/{name}": png for name, png in pngs.items()})
    written = artifacts.save_files(options.output_dir, files, remove=PLOT_FILES)
    names = {artifacts.MODEL_FILE: "model", artifacts.METADATA_FILE: "metadata",
             artifacts.METRICS_FILE: "metrics"}
    summary["artifacts"] = {names[name]: str(path) for name, path in zip(files, written)
                            if name in names}
    if options.plots:
        summary["artifacts"]["plots"] = [str(path) for name, path in zip(files, written)
                                         if name.startswith(PLOT_DIR)]
        logger.info("wrote %d plots to %s", len(summary["artifacts"]["plots"]),
                    options.output_dir / PLOT_DIR)
    return summary


def _json_bytes(payload: dict[str, Any]) -> bytes:
    """Return ``payload`` as the bytes of a strict JSON file."""
    return (strict_json(payload) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Predictions:
    """The scores of a predict run, in the two shapes it prints and writes."""

    shown: pd.DataFrame
    scored: pd.DataFrame

    def __len__(self) -> int:
        return len(self.shown)


def _free_name(name: str, taken: pd.Index) -> str:
    """Return ``name``, or ``csv_<name>`` (then with a number) if the input already uses it.

    >>> _free_name("line", pd.Index(["line", "Age"]))
    'csv_line'
    """
    candidate, number = name, 1
    while candidate in taken:
        candidate = f"csv_{name}" if number == 1 else f"csv_{name}_{number}"
        number += 1
    return candidate


def run_prediction(model_path: Path, input_path: Path) -> Predictions:
    """Score the patients in ``input_path`` with a saved model.

    Returns:
        ``shown``: one row per patient with the CSV line (``line``, or ``csv_line`` if the
        input has a ``line`` column), the columns the model ignores (such as an id), the
        known ``HeartDisease`` if the file has it, then ``probability`` (of heart disease)
        and ``predicted`` (the model's 0/1 label). ``scored``: the input's columns in their
        order with the values as written, plus ``probability`` and ``predicted``.
    """
    dataset = load_dataset(input_path, require_target=False)
    artifacts = _artifacts()
    pipeline, metadata = artifacts.load_model(model_path)
    if list(metadata.get("features", [])) != list(FEATURES):
        raise artifacts.ArtifactError(f"{model_path}: trained on features "
                                      f"{metadata.get('features')}, this version uses "
                                      f"{list(FEATURES)}")
    X = dataset.frame.loc[:, list(FEATURES)]
    probability = pipeline.predict_proba(X)[:, 1]
    predicted = pipeline.predict(X)
    replaced = [column for column in SCORE_COLUMNS if column in dataset.raw.columns]
    if replaced:
        logger.warning("%s: input column(s) %s replaced by the new scores", input_path,
                       ", ".join(replaced))
    scored = dataset.raw.drop(columns=replaced).assign(
        **{PROBABILITY_COLUMN: probability, PREDICTION_COLUMN: predicted})
    shown = dataset.extra_columns.drop(columns=replaced)
    if TARGET in dataset.frame.columns:
        shown[TARGET] = dataset.frame[TARGET]
    shown.insert(0, _free_name("line", shown.columns), dataset.lines)
    shown = shown.assign(**{PROBABILITY_COLUMN: probability, PREDICTION_COLUMN: predicted})
    if TARGET in dataset.frame.columns:
        accuracy = float((predicted == dataset.frame[TARGET].to_numpy()).mean())
        logger.info("accuracy on the %d labelled rows of %s: %.4f", dataset.rows, input_path,
                    accuracy)
    return Predictions(shown=shown, scored=scored)


def write_predictions(predictions: Predictions, output: Path) -> None:
    """Write the scored input as CSV, atomically.

    Raises:
        ArtifactError: if the file cannot be written.
    """
    artifacts = _artifacts()
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        artifacts.write_text_atomically(output, predictions.scored.to_csv(index=False))
    except OSError as err:
        raise artifacts.ArtifactError(f"cannot write predictions to {output}: "
                            f"{err.strerror or err}") from err

"""The two things the tool does, end to end: train-and-evaluate, and predict."""
import hashlib
import importlib
import logging
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from heart_disease_knn import model_card
from heart_disease_knn.dataset import load_dataset
from heart_disease_knn.features import FEATURES, TARGET
from heart_disease_knn.model_card import CARD_FILE
from heart_disease_knn.report import strict_json

logger = logging.getLogger(__name__)

PROBABILITY_COLUMN = "probability"
PREDICTION_COLUMN = "predicted"
SCORE_COLUMNS = (PROBABILITY_COLUMN, PREDICTION_COLUMN)
PLOT_DIR = "plots"
# The training split as the model saw it (with each row's line in the training file), so
# that predict --explain can show a patient's nearest training patients.
TRAINING_ROWS_FILE = "training_rows.csv"
ARTIFACT_LABELS = {"model.joblib": "model", "model.json": "metadata", "metrics.json": "metrics",
                   CARD_FILE: "model_card", TRAINING_ROWS_FILE: "training_rows"}
# Every figure --plots writes; a run without --plots removes them, so no stale figure
# of an older model stays beside the new one.
PLOT_FILES = tuple(f"{PLOT_DIR}/{name}.png" for name in (
    "class_balance", "categories_by_class", "confusion_matrix", "roc_curve",
    "feature_importance", "reliability"))


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
    drop_duplicates: bool = False
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


def _explainer() -> ModuleType:
    """Import the neighbour explanations (scikit-learn) only for predict --explain."""
    return importlib.import_module("heart_disease_knn.explain")


def run_training(options: TrainingOptions) -> dict[str, Any]:
    """Validate the data, train (or tune), evaluate on the test split and save artifacts.

    Nothing is written before the data have passed every check.

    Returns:
        The run summary (the keys documented in the README), including ``artifacts``.

    Raises:
        HeartDiseaseError: a DatasetError or ArtifactError with a one-line message.
    """
    dataset = load_dataset(options.data_path, require_target=True,
                           drop_duplicates=options.drop_duplicates)
    artifacts, model = _artifacts(), _model()
    model.check_enough_rows(dataset.frame[TARGET], options.test_size, options.cv)
    split = model.split(dataset.frame, options.test_size, options.seed)
    model.check_split(split, options.test_size, options.cv)
    trained = model.train(split.X_train, split.y_train, cv=options.cv, seed=options.seed,
                          n_jobs=options.n_jobs, tune=options.tune, grid=options.grid)
    test_metrics = model.evaluate(trained.model, split.X_test, split.y_test)
    summary: dict[str, Any] = {
        "mode": "tuned" if trained.tuned else "default",
        "data": {"path": str(dataset.path), "rows": dataset.rows, "sha256": dataset.sha256,
                 **_profile(dataset.frame)},
        "split": {"test_size": options.test_size, "seed": options.seed,
                  "train_rows": len(split.y_train), "test_rows": len(split.y_test)},
        "params": trained.params,
        "cross_validation": _cv_summary(model, trained, options, dataset.sha256),
        "test": test_metrics,
        "baseline": model.evaluate_baseline(split),
        "feature_importance": model.feature_importance(trained.model, split.X_test,
                                                       split.y_test, options.seed),
    }
    train_rows = split.X_train.assign(**{TARGET: split.y_train})
    train_rows.insert(0, "line", [dataset.lines[i] for i in split.X_train.index])
    files = _run_files(artifacts, trained.model, summary, train_rows)
    if options.plots:
        y_score = trained.model.predict_proba(split.X_test)[:, 1]
        pngs = _plots().render_all(dataset.frame, split.y_test, y_score, test_metrics,
                                   summary["feature_importance"])
        files.update({f"{PLOT_DIR}/{name}": png for name, png in pngs.items()})
    written = dict(zip(files, artifacts.save_files(options.output_dir, files,
                                                   remove=PLOT_FILES)))
    summary["artifacts"] = {label: str(written[name]) for name, label in ARTIFACT_LABELS.items()}
    if options.plots:
        summary["artifacts"]["plots"] = [str(path) for name, path in written.items()
                                         if name.startswith(PLOT_DIR)]
        logger.info("wrote %d plots to %s", len(summary["artifacts"]["plots"]),
                    options.output_dir / PLOT_DIR)
    return summary


def _profile(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Return the class and sex counts the model card reports."""
    return {"class_counts": {str(key): int(value)
                             for key, value in frame[TARGET].value_counts().sort_index().items()},
            "sex_counts": {str(key): int(value)
                           for key, value in frame["Sex"].value_counts().sort_index().items()}}


def _run_files(artifacts: ModuleType, fitted: Any, summary: dict[str, Any],
               train_rows: pd.DataFrame) -> dict[str, bytes]:
    """Return the files of a run by name: model, metadata, metrics, card, training rows."""
    blob = artifacts.serialize_model(fitted)
    rows_csv = train_rows.to_csv(index=False).encode("utf-8")
    metadata = artifacts.model_metadata(blob, {
        "features": list(FEATURES), "target": TARGET, "training_data": summary["data"],
        "split": summary["split"], "params": summary["params"],
        "metrics": {"cross_validation": summary["cross_validation"], "test": summary["test"]},
        "training_rows": {"file": TRAINING_ROWS_FILE,
                          "sha256": hashlib.sha256(rows_csv).hexdigest()}})
    bundled = summary["data"]["sha256"] == _model().BUNDLED_DATA_SHA256
    return {artifacts.MODEL_FILE: blob,
            artifacts.METADATA_FILE: _json_bytes(metadata),
            artifacts.METRICS_FILE: _json_bytes(summary),
            CARD_FILE: model_card.render(summary, metadata, bundled).encode("utf-8"),
            TRAINING_ROWS_FILE: rows_csv}


def _cv_summary(model: ModuleType, trained: Any, options: TrainingOptions,
                data_sha256: str) -> dict[str, Any]:
    """Return the CV figures, saying when they are the optimistic best of a grid."""
    summary = {"folds": options.cv, "scoring": model.SCORING, "mean": trained.cv_mean,
               "std": trained.cv_std, "candidates": trained.search_candidates}
    if trained.tuned:
        summary["selection"] = (f"best of {trained.search_candidates} candidates, optimistic "
                                "(chosen on these folds)")
        summary["nested_cv"] = model.nested_estimate(data_sha256)
    return summary


def _json_bytes(payload: dict[str, Any]) -> bytes:
    """Return ``payload`` as the bytes of a strict JSON file."""
    return (strict_json(payload) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Predictions:
    """The scores of a predict run, in the two shapes it prints and writes."""

    shown: pd.DataFrame
    scored: pd.DataFrame
    explanations: tuple[Any, ...] = ()  # explain.Explanation per row, with --explain

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


def run_prediction(model_path: Path, input_path: Path, explain: bool = False) -> Predictions:
    """Score the patients in ``input_path`` with a saved model.

    With ``explain``, also return each patient's nearest training patients
    (:func:`heart_disease_knn.explain.explain`, from the training rows saved beside the model).

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
    explanations = _explanations(model_path, pipeline, metadata, X) if explain else ()
    return Predictions(shown=shown, scored=scored, explanations=tuple(explanations))


def _explanations(model_path: Path, pipeline: Any, metadata: dict[str, Any],
                  X: pd.DataFrame) -> list[Any]:
    """Return the neighbour explanations of ``X`` from the training rows beside the model."""
    artifacts = _artifacts()
    training_rows = artifacts.load_training_rows(model_path, metadata)
    fitted_rows = pipeline[-1].n_samples_fit_
    if len(training_rows) != fitted_rows:
        raise artifacts.ArtifactError(f"{model_path}: the model was fitted on {fitted_rows} "
                                      f"rows but its training rows file holds "
                                      f"{len(training_rows)}; retrain the model")
    return _explainer().explain(pipeline, X, training_rows)


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

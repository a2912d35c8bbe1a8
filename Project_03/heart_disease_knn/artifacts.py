"""Save and load run artifacts: the fitted pipeline, its metadata and the metrics.

Files are written to a temporary name and renamed, so an interrupted run never leaves a
half-written model. ``load_model`` checks the metadata (scikit-learn version, sha256 of
the model file) *before* unpickling, and refuses anything that does not match.
"""
import hashlib
import io
import json
import logging
import os
import pickle
import platform
import warnings
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.pipeline import Pipeline

from heart_disease_knn import HeartDiseaseError
from heart_disease_knn.atomic_dir import temporary_sibling, write_files
from heart_disease_knn.features import CATEGORICAL_FEATURES
from heart_disease_knn.report import strict_json

logger = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"
METADATA_FILE = "model.json"
METRICS_FILE = "metrics.json"
TRAINING_ROWS_FILE = "training_rows.csv"
FORMAT_VERSION = 1
# What a corrupt or foreign pickle can raise while joblib reads it.
UNPICKLE_ERRORS = (pickle.UnpicklingError, EOFError, ValueError, KeyError, IndexError,
                   TypeError, AttributeError, ImportError, zlib.error)


class ArtifactError(HeartDiseaseError):
    """A model file or run output cannot be written or used."""


def metadata_path(model_path: Path) -> Path:
    """Return the metadata file that belongs to ``model_path`` (same name, ``.json``)."""
    return model_path.with_suffix(".json")


def library_versions() -> dict[str, str]:
    """Return the versions that decide whether a saved model can be loaded again."""
    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "joblib": joblib.__version__, "numpy": np.__version__, "pandas": pd.__version__}


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_atomically(path: Path, write: Any) -> None:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path``."""
    # A named sibling (not mkstemp) so the file gets the usual umask permissions.
    tmp_path = temporary_sibling(path)
    try:
        write(tmp_path)
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` through a temporary file and a rename."""
    _write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def serialize_model(model: Pipeline) -> bytes:
    """Return the fitted pipeline as the bytes of a ``.joblib`` file."""
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def model_metadata(model_bytes: bytes, metadata: dict[str, Any]) -> dict[str, Any]:
    """Return ``metadata`` with the format version, creation time, libraries and sha256."""
    return {
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "libraries": library_versions(),
        "model_file": MODEL_FILE,
        "model_sha256": hashlib.sha256(model_bytes).hexdigest(),
        **metadata,
    }


def save_files(output_dir: Path, files: dict[str, bytes],
               remove: tuple[str, ...] = ()) -> list[Path]:
    """Write a run's files into ``output_dir`` as one unit (see :mod:`atomic_dir`).

    Raises:
        ArtifactError: if the directory or a file cannot be written.
    """
    try:
        return write_files(output_dir, files, remove=remove)
    except OSError as err:
        raise ArtifactError(f"cannot write run artifacts to {output_dir}: "
                            f"{err.strerror or err}") from err


def save_run(output_dir: Path, model: Pipeline, metadata: dict[str, Any],
             metrics: dict[str, Any]) -> dict[str, Path]:
    """Write the model, its metadata and the metrics into ``output_dir`` as one unit.

    The metadata gets the library versions, the creation time and the model file's
    sha256 added.

    Returns:
        The written paths by name (``model``, ``metadata``, ``metrics``).

    Raises:
        ArtifactError: if the directory or a file cannot be written.
    """
    blob = serialize_model(model)
    files = {MODEL_FILE: blob,
             METADATA_FILE: (strict_json(model_metadata(blob, metadata)) + "\n").encode(),
             METRICS_FILE: (strict_json(metrics) + "\n").encode()}
    written = save_files(output_dir, files)
    return dict(zip(("model", "metadata", "metrics"), written))


def _not_a_model(model_path: Path) -> str | None:
    """Say what ``model_path`` is when it is plainly not a saved model, else None."""
    if model_path.is_dir():
        inside = model_path / MODEL_FILE
        hint = (f"pass {inside}" if inside.is_file()
                else f"pass the {MODEL_FILE} a training run wrote")
        return f"{model_path}: is a directory, not a model file; {hint}"
    if not model_path.is_file():
        return f"{model_path}: model file not found"
    with model_path.open("rb") as handle:
        start = handle.read(512).lstrip()
    suffix = model_path.suffix.lower()
    if suffix == ".json" or start.startswith(b"{"):
        return (f"{model_path}: is a JSON file (the model's metadata?), not a model; pass the "
                f"{MODEL_FILE} beside it")
    if suffix == ".csv" or (start and b"," in start and _is_text(start)):
        return (f"{model_path}: is a CSV file, not a model; --model takes the {MODEL_FILE} a "
                "training run wrote, --input takes the patients CSV")
    return None


def _is_text(start: bytes) -> bool:
    """True when ``start`` decodes as UTF-8 text without control bytes other than newlines."""
    try:
        text = start.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(char.isprintable() or char in "\r\n\t" for char in text)


def read_metadata(model_path: Path) -> dict[str, Any]:
    """Return the metadata saved beside ``model_path``.

    Raises:
        ArtifactError: if the model or its metadata is missing, unreadable or of
            another format version, or if ``model_path`` is not a model at all.
    """
    problem = _not_a_model(model_path)
    if problem:
        raise ArtifactError(problem)
    meta_path = metadata_path(model_path)
    if not meta_path.is_file():
        raise ArtifactError(f"{model_path}: its metadata file {meta_path.name} is missing, so "
                            "its compatibility cannot be checked; retrain the model")
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ArtifactError(f"{meta_path}: unreadable model metadata ({err})") from err
    if not isinstance(metadata, dict) or "libraries" not in metadata:
        raise ArtifactError(f"{meta_path}: not a heart_disease model metadata file")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(f"{meta_path}: metadata format_version "
                            f"{metadata.get('format_version')!r}, but this tool reads "
                            f"{FORMAT_VERSION}; retrain the model with this version")
    return metadata


def check_compatible(metadata: dict[str, Any], source: str) -> None:
    """Refuse a model saved by another scikit-learn version (pickles are not portable).

    Raises:
        ArtifactError: naming both versions.
    """
    saved = metadata.get("libraries", {}).get("scikit-learn")
    if saved != sklearn.__version__:
        raise ArtifactError(f"{source}: saved with scikit-learn {saved}, but {sklearn.__version__} "
                            "is installed; retrain the model with this version")


def load_model(model_path: Path) -> tuple[Pipeline, dict[str, Any]]:
    """Load a pipeline saved by :func:`save_run`, after checking it is safe to use.

    Only load model files you trust: unpickling can run code. The sha256 check below
    catches corruption, not a forged metadata file.

    Returns:
        The fitted pipeline and its metadata.

    Raises:
        ArtifactError: if the file is missing, corrupt or from another scikit-learn.
    """
    metadata = read_metadata(model_path)
    source = str(model_path)
    check_compatible(metadata, source)
    if sha256_of(model_path) != metadata.get("model_sha256"):
        raise ArtifactError(f"{source}: corrupt or replaced model file (sha256 does not match "
                            f"{metadata_path(model_path).name})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", InconsistentVersionWarning)
            model = joblib.load(model_path)
    except InconsistentVersionWarning as err:
        raise ArtifactError(f"{source}: built with another scikit-learn version "
                            f"({err.original_sklearn_version}); retrain the model") from err
    except UNPICKLE_ERRORS as err:
        raise ArtifactError(f"{source}: corrupt model file ({type(err).__name__})") from err
    if not isinstance(model, Pipeline) or not hasattr(model, "predict_proba"):
        raise ArtifactError(f"{source}: does not hold a fitted classification pipeline")
    logger.info("loaded model %s (created %s)", model_path, metadata.get("created_at"))
    return model, metadata


def load_training_rows(model_path: Path, metadata: dict[str, Any]) -> pd.DataFrame:
    """Return the training rows saved beside ``model_path``, in the order the model saw them.

    Categorical columns stay text (``FastingBS`` is ``"0"``/``"1"``, as in the input files).

    Raises:
        ArtifactError: if the file is missing (a model saved before it was written), or its
            sha256 does not match the metadata.
    """
    recorded = metadata.get("training_rows") or {}
    path = model_path.parent / str(recorded.get("file", TRAINING_ROWS_FILE))
    if "sha256" not in recorded or not path.is_file():
        raise ArtifactError(f"{model_path}: --explain needs the training rows "
                            f"({path.name} beside the model), which this model does not have; "
                            "retrain it with this version")
    if sha256_of(path) != recorded["sha256"]:
        raise ArtifactError(f"{path}: corrupt or replaced training rows (sha256 does not "
                            f"match {metadata_path(model_path).name})")
    return pd.read_csv(path, dtype={name: str for name in CATEGORICAL_FEATURES})

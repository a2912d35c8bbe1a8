"""Save and load run artifacts: the fitted pipeline, its metadata and the metrics.

Files are written to a temporary name and renamed, so an interrupted run never leaves a
half-written model. ``load_model`` checks the metadata (scikit-learn version, sha256 of
the model file) *before* unpickling, and refuses anything that does not match.
"""
import hashlib
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

logger = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"
METADATA_FILE = "model.json"
METRICS_FILE = "metrics.json"
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
    tmp_path = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp_path)
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` through a temporary file and a rename."""
    _write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` as indented JSON, atomically."""
    write_text_atomically(path, json.dumps(payload, indent=2) + "\n")


def save_run(output_dir: Path, model: Pipeline, metadata: dict[str, Any],
             metrics: dict[str, Any]) -> dict[str, Path]:
    """Write the model, its metadata and the metrics into ``output_dir``.

    The metadata gets the library versions, the creation time and the model file's
    sha256 added.

    Returns:
        The written paths by name (``model``, ``metadata``, ``metrics``).

    Raises:
        ArtifactError: if the directory or a file cannot be written.
    """
    paths = {"model": output_dir / MODEL_FILE, "metadata": output_dir / METADATA_FILE,
             "metrics": output_dir / METRICS_FILE}
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(paths["model"], lambda tmp: joblib.dump(model, tmp))
        full_metadata = {
            "format_version": FORMAT_VERSION,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "libraries": library_versions(),
            "model_file": MODEL_FILE,
            "model_sha256": sha256_of(paths["model"]),
            **metadata,
        }
        write_json(paths["metadata"], full_metadata)
        write_json(paths["metrics"], metrics)
    except OSError as err:
        raise ArtifactError(f"cannot write run artifacts to {output_dir}: "
                            f"{err.strerror or err}") from err
    return paths


def read_metadata(model_path: Path) -> dict[str, Any]:
    """Return the metadata saved beside ``model_path``.

    Raises:
        ArtifactError: if the model or its metadata is missing or unreadable.
    """
    if not model_path.is_file():
        raise ArtifactError(f"{model_path}: model file not found")
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

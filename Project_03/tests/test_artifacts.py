"""Saved models round-trip; missing, corrupt or incompatible ones are refused."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn

from heart_disease_knn import artifacts, model
from heart_disease_knn.artifacts import ArtifactError
from heart_disease_knn.features import FEATURES, TARGET


def test_saved_model_round_trips(sample_frame: pd.DataFrame, tmp_path: Path) -> None:
    """After saving and loading, the pipeline predicts exactly what it predicted before."""
    X = sample_frame.loc[:, list(FEATURES)]
    fitted = model.build_pipeline(n_neighbors=7).fit(X, sample_frame[TARGET])
    before = fitted.predict_proba(X)
    paths = artifacts.save_run(tmp_path / "run", fitted, {"features": list(FEATURES),
                                                          "target": TARGET}, {})
    loaded, metadata = artifacts.load_model(paths["model"])
    np.testing.assert_array_equal(loaded.predict_proba(X), before)
    assert loaded.get_params()["classifier__n_neighbors"] == 7
    assert metadata["features"] == list(FEATURES)
    assert metadata["target"] == TARGET


def test_metadata_records_versions_data_hash_params_and_metrics(trained_dir: Path,
                                                                sample_csv: Path) -> None:
    """model.json holds what is needed to trust and reproduce the model."""
    metadata = json.loads((trained_dir / "model.json").read_text(encoding="utf-8"))
    assert metadata["libraries"]["scikit-learn"] == sklearn.__version__
    assert metadata["training_data"]["sha256"] == artifacts.sha256_of(sample_csv)
    assert metadata["model_sha256"] == artifacts.sha256_of(trained_dir / "model.joblib")
    assert metadata["params"]["classifier__n_neighbors"] == 5
    assert set(metadata["metrics"]["test"]) >= {"accuracy", "roc_auc", "confusion_matrix"}
    assert metadata["created_at"].endswith("+00:00")


def test_missing_model_file(tmp_path: Path) -> None:
    """A path with no model is named."""
    with pytest.raises(ArtifactError, match="model file not found"):
        artifacts.load_model(tmp_path / "model.joblib")


def test_missing_metadata(model_copy: Path) -> None:
    """Without model.json the version cannot be checked, so the model is refused."""
    artifacts.metadata_path(model_copy).unlink()
    with pytest.raises(ArtifactError, match="metadata file model.json is missing"):
        artifacts.load_model(model_copy)


def test_unreadable_metadata(model_copy: Path) -> None:
    """A metadata file that is not JSON is refused."""
    artifacts.metadata_path(model_copy).write_text("{not json", encoding="utf-8")
    with pytest.raises(ArtifactError, match="unreadable model metadata"):
        artifacts.load_model(model_copy)


def test_truncated_model_is_corrupt(model_copy: Path) -> None:
    """Changed bytes no longer match the recorded sha256."""
    content = model_copy.read_bytes()
    model_copy.write_bytes(content[: len(content) // 2])
    with pytest.raises(ArtifactError, match="corrupt or replaced model file"):
        artifacts.load_model(model_copy)


def test_garbage_with_matching_hash_is_corrupt(model_copy: Path) -> None:
    """Even when the hash is updated, bytes that do not unpickle are refused cleanly."""
    model_copy.write_bytes(b"this is not a pickle at all")
    meta_path = artifacts.metadata_path(model_copy)
    metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    metadata["model_sha256"] = artifacts.sha256_of(model_copy)
    meta_path.write_text(json.dumps(metadata), encoding="utf-8")
    with pytest.raises(ArtifactError, match=r"model.joblib: corrupt model file \("):
        artifacts.load_model(model_copy)


def test_other_scikit_learn_version_is_refused(model_copy: Path) -> None:
    """A model saved by another scikit-learn release names both versions."""
    meta_path = artifacts.metadata_path(model_copy)
    metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    metadata["libraries"]["scikit-learn"] = "0.24.2"
    meta_path.write_text(json.dumps(metadata), encoding="utf-8")
    with pytest.raises(ArtifactError, match=f"saved with scikit-learn 0.24.2, but "
                                            f"{sklearn.__version__} is installed"):
        artifacts.load_model(model_copy)


def test_unwritable_output_dir_is_an_artifact_error(tmp_path: Path) -> None:
    """A file where the output folder should be gives a one-line error."""
    blocker = tmp_path / "blocker"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(ArtifactError, match="cannot write run artifacts to"):
        artifacts.save_run(blocker / "out", model=None, metadata={}, metrics={})


def _edit_metadata(model_path: Path, **changes: object) -> None:
    meta_path = artifacts.metadata_path(model_path)
    metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    metadata.update(changes)
    meta_path.write_text(json.dumps(metadata), encoding="utf-8")


@pytest.mark.parametrize("version", [2, None, "1"])
def test_other_format_version_is_refused(version: object, model_copy: Path) -> None:
    """Metadata written by another version of this tool is not trusted."""
    _edit_metadata(model_copy, format_version=version)
    with pytest.raises(ArtifactError, match=f"metadata format_version {version!r}, but this "
                                            "tool reads 1"):
        artifacts.load_model(model_copy)


def test_model_option_pointing_at_a_folder_json_or_csv_says_what_it_is(
        model_copy: Path, sample_csv: Path, tmp_path: Path) -> None:
    """The usual mix-ups are named instead of failing as "corrupt"."""
    with pytest.raises(ArtifactError, match=f"is a directory, not a model file; pass "
                                            f"{model_copy}"):
        artifacts.load_model(model_copy.parent)
    with pytest.raises(ArtifactError, match="is a JSON file .*pass the model.joblib beside it"):
        artifacts.load_model(artifacts.metadata_path(model_copy))
    with pytest.raises(ArtifactError, match="is a CSV file, not a model; --model takes"):
        artifacts.load_model(sample_csv)
    renamed = tmp_path / "patients.joblib"
    renamed.write_bytes(sample_csv.read_bytes())
    with pytest.raises(ArtifactError, match="is a CSV file, not a model"):
        artifacts.load_model(renamed)

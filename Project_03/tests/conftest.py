"""Fixtures shared by the Project_03 tests."""
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from heart_disease_knn import workflow
from heart_disease_knn.dataset import load_dataset

DATA_DIR = Path(__file__).resolve().parent / "data"
PROJECT_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(name="sample_csv")
def fixture_sample_csv() -> Path:
    """81 real patients (40 without, 41 with heart disease; 14 unmeasured cholesterols)."""
    return DATA_DIR / "heart_sample.csv"


@pytest.fixture(name="bundled_csv")
def fixture_bundled_csv() -> Path:
    """The full bundled data set (918 patients)."""
    return PROJECT_DIR / "data" / "heart.csv"


@pytest.fixture(name="sample_text")
def fixture_sample_text(sample_csv: Path) -> str:
    """The sample CSV as text, to derive broken variants from."""
    return sample_csv.read_text(encoding="utf-8")


@pytest.fixture(name="sample_frame")
def fixture_sample_frame(sample_csv: Path) -> pd.DataFrame:
    """The validated sample (numeric columns as float, target as int)."""
    return load_dataset(sample_csv).frame


@pytest.fixture(name="write_file")
def fixture_write_file(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Return a function that writes text or bytes to ``tmp_path/name`` and returns the path."""
    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path
    return write


@pytest.fixture(name="replace_cell")
def fixture_replace_cell(sample_text: str) -> Callable[[int, str, str], str]:
    """Return a function giving the sample text with one cell (CSV line, column) replaced."""
    def replace(line: int, column: str, value: str) -> str:
        rows = [row.split(",") for row in sample_text.splitlines()]
        rows[line - 1][rows[0].index(column)] = value
        return "\n".join(",".join(row) for row in rows) + "\n"
    return replace


@pytest.fixture(name="small_grid")
def fixture_small_grid() -> dict[str, list[Any]]:
    """A 4-candidate grid with the same keys as the shipped one (keeps tests fast)."""
    return {
        "preprocess__numeric__scale": [MinMaxScaler(), StandardScaler()],
        "classifier__n_neighbors": [3, 7],
        "classifier__weights": ["uniform"],
        "classifier__p": [1],
    }


@pytest.fixture(name="trained_dir", scope="session")
def fixture_trained_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding a model trained once on the sample (shared, do not modify)."""
    output_dir = tmp_path_factory.mktemp("trained")
    workflow.run_training(workflow.TrainingOptions(
        data_path=DATA_DIR / "heart_sample.csv", output_dir=output_dir, cv=3))
    return output_dir


@pytest.fixture(name="model_copy")
def fixture_model_copy(trained_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the trained model and its metadata, safe to damage."""
    copy_dir = tmp_path / "model"
    copy_dir.mkdir()
    for name in ("model.joblib", "model.json"):
        (copy_dir / name).write_bytes((trained_dir / name).read_bytes())
    return copy_dir / "model.joblib"

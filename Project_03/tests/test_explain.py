"""predict --explain: the nearest training patients, by the fitted pipeline's own kneighbors."""
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from heart_disease import main
from heart_disease_knn import artifacts, explain, workflow
from heart_disease_knn.features import FEATURES, TARGET


def _training_rows(trained_dir: Path) -> pd.DataFrame:
    metadata = artifacts.read_metadata(trained_dir / "model.joblib")
    return artifacts.load_training_rows(trained_dir / "model.joblib", metadata)


def _unique_training_line(trained_dir: Path) -> int:
    """A training row whose features no other training row repeats (no ties at distance 0)."""
    rows = _training_rows(trained_dir)
    unique = rows[~rows.duplicated(subset=list(FEATURES), keep=False)]
    return int(unique["line"].iloc[3])


def _copy_of_line(sample_csv: Path, line: int, write_file: Any) -> Path:
    """Write a predict input holding only ``line`` of the training file, as written there."""
    lines = sample_csv.read_text(encoding="utf-8").splitlines()
    return write_file("one_patient.csv", f"{lines[0]}\n{lines[line - 1]}\n")


def test_a_training_patient_is_its_own_nearest_neighbour(trained_dir: Path, sample_csv: Path,
                                                         write_file: Any) -> None:
    """A patient identical to a training row has that row first, at distance 0."""
    line = _unique_training_line(trained_dir)
    patient = _copy_of_line(sample_csv, line, write_file)
    predictions = workflow.run_prediction(trained_dir / "model.joblib", patient, explain=True)
    (explanation,) = predictions.explanations
    nearest = explanation.closest[0]
    assert nearest.line == line
    assert nearest.distance == pytest.approx(0.0, abs=1e-6)  # euclidean rounding
    assert nearest.features == explanation.patient
    assert explanation.closest[1].distance > 0
    assert [neighbour.distance for neighbour in explanation.closest] == sorted(
        neighbour.distance for neighbour in explanation.closest)


def test_neighbour_counts_and_lines_are_those_kneighbors_returns(
        trained_dir: Path, sample_csv: Path) -> None:
    """k, the diseased count and the three closest lines come straight from kneighbors."""
    pipeline, _ = artifacts.load_model(trained_dir / "model.joblib")
    rows = _training_rows(trained_dir)
    patients = pd.read_csv(sample_csv, dtype={"FastingBS": str}).head(10)
    explanations = explain.explain(pipeline, patients, rows)
    distances, indices = pipeline[-1].kneighbors(pipeline[:-1].transform(patients))
    k = pipeline[-1].n_neighbors
    for explanation, row_distances, row_indices in zip(explanations, distances, indices):
        assert explanation.k == k == len(row_indices)
        assert explanation.with_heart_disease == int(rows[TARGET].iloc[row_indices].sum())
        assert [n.line for n in explanation.closest] == rows["line"].iloc[row_indices[:3]].tolist()
        np.testing.assert_allclose([n.distance for n in explanation.closest], row_distances[:3])
    # Uniform weights: the probability is the share of diseased neighbours.
    np.testing.assert_allclose(pipeline.predict_proba(patients)[:, 1],
                               [e.with_heart_disease / e.k for e in explanations])


@pytest.mark.parametrize("power", [1, 2])
def test_feature_shares_add_up_to_the_kneighbors_distance(trained_dir: Path, sample_csv: Path,
                                                          power: int) -> None:
    """Per-feature parts of distance ** p sum to the mean distance ** p kneighbors reports."""
    rows = _training_rows(trained_dir)
    pipeline, _ = artifacts.load_model(trained_dir / "model.joblib")
    pipeline.set_params(classifier__p=power).fit(rows.loc[:, list(FEATURES)], rows[TARGET])
    assert explain.minkowski_power(pipeline[-1]) == power
    preprocess = pipeline[:-1]
    patients = preprocess.transform(pd.read_csv(sample_csv, dtype={"FastingBS": str}).tail(5))
    known = preprocess.transform(rows.loc[:, list(FEATURES)])
    groups = explain.column_groups(preprocess)
    assert sorted(np.concatenate(list(groups.values()))) == list(range(known.shape[1]))
    distances, indices = pipeline[-1].kneighbors(patients)
    for patient, row_distances, row_indices in zip(patients, distances, indices):
        shares = explain.distance_shares(patient, known[row_indices], groups, power)
        assert sum(shares.values()) == pytest.approx(float(np.mean(row_distances ** power)))


def test_differs_most_names_the_feature_that_was_changed(trained_dir: Path, sample_csv: Path,
                                                         write_file: Any) -> None:
    """A training patient with one value moved far away differs most in that feature."""
    line = _unique_training_line(trained_dir)
    patient = _copy_of_line(sample_csv, line, write_file)
    frame = pd.read_csv(patient, dtype=str)
    frame["MaxHR"] = "240"
    frame.to_csv(patient, index=False)
    (explanation,) = workflow.run_prediction(trained_dir / "model.joblib", patient,
                                             explain=True).explanations
    top = explanation.differs_most[0]
    assert (top.feature, top.patient) == ("MaxHR", 240)
    assert top.neighbours_same == 0
    assert 0 < top.distance_share <= 1
    assert len(explanation.differs_most) == 3


def test_predict_explain_table_and_json_carry_the_same_content(
        trained_dir: Path, sample_csv: Path, write_file: Any,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The table shows the summary, the closest rows and the differences that JSON holds."""
    line = _unique_training_line(trained_dir)
    patient = _copy_of_line(sample_csv, line, write_file)
    argv = ["predict", "--model", str(trained_dir / "model.joblib"), "--input", str(patient),
            "--explain"]
    assert main([*argv, "--format", "json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    explanation = record["explanation"]
    assert explanation["closest"][0]["line"] == line
    assert explanation["closest"][0]["distance"] == pytest.approx(0.0, abs=1e-6)
    assert explanation["with_heart_disease"] + explanation["without_heart_disease"] == 5
    assert explanation["minkowski_p"] == 2
    assert main(argv) == 0
    table = capsys.readouterr().out
    ill = explanation["with_heart_disease"]
    assert f"5 nearest training patients: {ill} with heart disease, {5 - ill} without" in table
    nearest_row = next(row for row in table.splitlines() if "nearest 1" in row)
    assert nearest_row.split()[2:4] == [str(line), "0.0000"]
    for difference in explanation["differs_most"]:
        assert f"{difference['feature']:<15}{difference['distance_share']:>4.0%}" in table


def test_explain_refuses_a_model_without_or_with_damaged_training_rows(
        trained_dir: Path, model_copy: Path, sample_csv: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """No training rows, or rows that do not match the metadata: one line, exit 1."""
    argv = ["predict", "--model", str(model_copy), "--input", str(sample_csv),
            "--log-level", "WARNING", "--explain"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert "--explain needs the training rows (training_rows.csv" in err
    assert len(err.splitlines()) == 1
    rows = (trained_dir / "training_rows.csv").read_text(encoding="utf-8")
    (model_copy.parent / "training_rows.csv").write_text(rows.replace(",0\n", ",1\n", 1),
                                                         encoding="utf-8")
    assert main(argv) == 1
    assert "corrupt or replaced training rows" in capsys.readouterr().err
    # Without --explain the training rows are not needed.
    assert main(argv[:-1]) == 0

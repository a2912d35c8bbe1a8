"""Command-line behaviour of heart_disease.py."""
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from heart_disease import main
from heart_disease_knn import model

SCRIPT = Path(__file__).resolve().parents[1] / "heart_disease.py"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SUMMARY_KEYS = {"mode", "data", "split", "params", "cross_validation", "test", "baseline",
                "feature_importance", "artifacts"}
METRIC_KEYS = {"accuracy", "precision", "recall", "f1", "roc_auc", "brier", "confusion_matrix"}


def _train(sample_csv: Path, output_dir: Path, *extra: str) -> list[str]:
    return ["--data", str(sample_csv), "--output-dir", str(output_dir), "--cv", "3", *extra]


def test_help_exits_zero_and_lists_options(capsys: pytest.CaptureFixture[str]) -> None:
    """``--help`` prints every option, the defaults and the data rules, and exits 0."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--data", "--test-size", "--tune", "--cv", "--seed", "--n-jobs",
                   "--output-dir", "--plots", "--format", "--log-level", "predict"):
        assert option in out
    assert "default: 0.2" in out and "Cholesterol 50..700 mg/dl" in out


def test_predict_help_lists_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    """``predict --help`` documents --model, --input and --output."""
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--model" in out and "--input" in out and "--output" in out


@pytest.mark.parametrize("argv", [
    ["--no-such-option"],
    ["--test-size", "1.5"],
    ["--test-size", "0"],
    ["--test-size", "1"],
    ["--test-size", "half"],
    ["--cv", "1"],
    ["--n-jobs", "0"],
    ["--seed", "-1"],
    ["--format", "xml"],
    ["--tune", "False"],
    ["predict", "--input", "x.csv"],
], ids=" ".join)
def test_bad_arguments_exit_two(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """argparse rejects bad values with exit code 2; --tune takes no value."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_default_run_prints_table_and_writes_artifacts(
        sample_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Default training prints the metrics table and saves model, metadata and metrics."""
    output_dir = tmp_path / "run"
    assert main(_train(sample_csv, output_dir)) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("KNN with default settings")
    assert "majority baseline" in captured.out and "roc_auc" in captured.out
    assert "INFO" in captured.err and "INFO" not in captured.out
    # Exactly these files: no temporary file, lock file or plot is left behind.
    assert sorted(path.name for path in output_dir.iterdir()) == [
        "metrics.json", "model.joblib", "model.json", "model_card.md", "training_rows.csv"]
    metrics = json.loads((output_dir / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["mode"] == "default"
    assert metrics["split"] == {"test_size": 0.2, "seed": 42, "train_rows": 64, "test_rows": 17}


def test_json_output_has_documented_keys(sample_csv: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """``--format json`` prints one valid JSON document matching metrics.json."""
    output_dir = tmp_path / "run"
    assert main(_train(sample_csv, output_dir, "--format", "json")) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == SUMMARY_KEYS
    assert set(summary["test"]) == METRIC_KEYS
    assert set(summary["baseline"]) == METRIC_KEYS | {"majority_class"}
    assert summary["test"]["confusion_matrix"][0][0] + summary["test"]["confusion_matrix"][0][1]\
        + summary["test"]["confusion_matrix"][1][0] + summary["test"]["confusion_matrix"][1][1]\
        == summary["split"]["test_rows"]
    saved = json.loads((output_dir / "metrics.json").read_text(encoding="utf-8"),
                       parse_constant=lambda name: pytest.fail(f"not strict JSON: {name}"))
    assert saved == {key: value for key, value in summary.items() if key != "artifacts"}


def test_tune_is_a_flag_and_reports_best_params_and_test_metrics(
        sample_csv: Path, tmp_path: Path, small_grid: dict[str, list[Any]],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``--tune`` grid-searches (a small grid here) and reports the tuned test metrics."""
    monkeypatch.setattr(model, "PARAM_GRID", small_grid)
    assert main(_train(sample_csv, tmp_path / "run", "--tune", "--format", "json")) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["mode"] == "tuned"
    assert summary["cross_validation"]["candidates"] == 4
    assert summary["cross_validation"]["selection"] == \
        "best of 4 candidates, optimistic (chosen on these folds)"
    assert summary["cross_validation"]["nested_cv"] is None  # measured on the bundled data only
    assert summary["params"]["classifier__n_neighbors"] in (3, 7)
    assert 0.0 <= summary["test"]["accuracy"] <= 1.0


def test_model_card_describes_data_split_metrics_and_limits(
        sample_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every run writes model_card.md with the run's own figures."""
    output_dir = tmp_path / "run"
    assert main(_train(sample_csv, output_dir, "--format", "json")) == 0
    summary = json.loads(capsys.readouterr().out)
    card = (output_dir / "model_card.md").read_text(encoding="utf-8")
    metadata = json.loads((output_dir / "model.json").read_text(encoding="utf-8"))
    assert summary["artifacts"]["model_card"] == str(output_dir / "model_card.md")
    assert f"sha256 `{metadata['model_sha256']}`" in card
    assert f"81 rows, sha256 `{summary['data']['sha256']}`" in card
    assert "40 without and 41 with heart disease" in card
    assert "provenance was not recorded" in card  # not the bundled file
    assert "test size 0.2, seed 42: 64 training and 17 test rows" in card
    assert f"| accuracy | {summary['test']['accuracy']:.4f} | " \
           f"{summary['baseline']['accuracy']:.4f} |" in card
    top = summary["feature_importance"][0]
    assert f"| {top['feature']} | {top['mean']:+.4f} ± {top['std']:.4f} |" in card
    assert "**Not a diagnostic device**" in card and "five sources" in card


def test_training_rows_keep_their_file_lines(sample_csv: Path, tmp_path: Path) -> None:
    """training_rows.csv holds the training split with each row's line in the data file."""
    output_dir = tmp_path / "run"
    assert main(_train(sample_csv, output_dir)) == 0
    rows = pd.read_csv(output_dir / "training_rows.csv", dtype=str)
    original = pd.read_csv(sample_csv, dtype=str)
    assert len(rows) == 64 and rows["line"].nunique() == 64
    for _, row in rows.head(5).iterrows():
        source = original.iloc[int(row["line"]) - 2]
        assert float(row["Age"]) == float(source["Age"])
        assert row["ST_Slope"] == source["ST_Slope"]
        assert row["HeartDisease"] == source["HeartDisease"]


def test_tuned_run_on_the_bundled_data_points_to_the_nested_estimate(
        tmp_path: Path, small_grid: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The grid's best CV score is labelled optimistic and the nested figure is shown."""
    monkeypatch.setattr(model, "PARAM_GRID", small_grid)
    assert main(["--tune", "--output-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[3].endswith("best of 4 candidates, optimistic (chosen on these folds)")
    assert lines[4].startswith(
        f"honest estimate: nested CV accuracy {model.NESTED_CV_ESTIMATE['accuracy']:.4f}, "
        f"ROC AUC {model.NESTED_CV_ESTIMATE['roc_auc']:.4f}")


def test_plots_are_written_as_png(sample_csv: Path, tmp_path: Path) -> None:
    """``--plots`` writes the six figures."""
    output_dir = tmp_path / "run"
    assert main(_train(sample_csv, output_dir, "--plots", "--log-level", "WARNING")) == 0
    pngs = sorted((output_dir / "plots").iterdir())
    assert [png.name for png in pngs] == ["categories_by_class.png", "class_balance.png",
                                          "confusion_matrix.png", "feature_importance.png",
                                          "reliability.png", "roc_curve.png"]
    assert all(png.read_bytes().startswith(PNG_SIGNATURE) for png in pngs)


def test_bundled_data_default_run_known_answer(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The bundled data with seed 42 give the figures documented in the README."""
    assert main(["--output-dir", str(tmp_path), "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["data"]["rows"] == 918
    assert summary["test"]["accuracy"] == pytest.approx(0.8804, abs=1e-4)
    assert summary["test"]["confusion_matrix"] == [[67, 15], [7, 95]]
    assert summary["baseline"]["accuracy"] == pytest.approx(102 / 184)


def test_predict_round_trips_a_saved_model(trained_dir: Path, sample_csv: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The scored CSV is the input as written (columns, order, values) plus the scores."""
    output = tmp_path / "scored.csv"
    assert main(["predict", "--model", str(trained_dir / "model.joblib"),
                 "--input", str(sample_csv), "--output", str(output)]) == 0
    scored = pd.read_csv(output, dtype=str, keep_default_na=False)
    original = pd.read_csv(sample_csv, dtype=str, keep_default_na=False)
    assert list(scored.columns) == [*original.columns, "probability", "predicted"]
    pd.testing.assert_frame_equal(scored[list(original.columns)], original)
    assert output.read_text(encoding="utf-8").splitlines()[1].startswith(
        sample_csv.read_text(encoding="utf-8").splitlines()[1] + ",")
    probability = scored["probability"].astype(float)
    assert set(scored["predicted"]) <= {"0", "1"}
    assert probability.between(0, 1).all()
    assert ((probability > 0.5) <= (scored["predicted"] == "1")).all()
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[0] == "line"
    assert len(table.splitlines()) == len(original) + 1


def test_predict_input_with_its_own_line_column(trained_dir: Path, sample_csv: Path,
                                                write_file: Any,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A ``line`` column in the input is kept; the CSV line number becomes ``csv_line``."""
    frame = pd.read_csv(sample_csv, dtype=str).head(3)
    frame.insert(0, "line", ["x", "y", "z"])
    path = write_file("lined.csv", frame.to_csv(index=False))
    assert main(["predict", "--model", str(trained_dir / "model.joblib"), "--input", str(path),
                 "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [(record["csv_line"], record["line"]) for record in records] == [
        (2, "x"), (3, "y"), (4, "z")]


def test_output_equal_to_input_is_an_argument_error(trained_dir: Path, sample_csv: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Scoring a file onto itself would destroy the input: exit 2, the file untouched."""
    before = sample_csv.read_bytes()
    same = sample_csv.parent / ".." / "data" / sample_csv.name
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", "--model", str(trained_dir / "model.joblib"), "--input",
              str(sample_csv), "--output", str(same)])
    assert exit_info.value.code == 2
    assert "is the --input file" in capsys.readouterr().err
    assert sample_csv.read_bytes() == before


@pytest.mark.parametrize("argv", [
    ["--data", ""], ["--output-dir", " "],
    ["predict", "--model", "", "--input", "x.csv"],
    ["predict", "--model", "m.joblib", "--input", ""],
    ["predict", "--model", "m.joblib", "--input", "x.csv", "--output", ""],
], ids=" ".join)
def test_empty_paths_are_argument_errors(argv: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """An empty path would silently mean the working directory."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "must not be empty" in capsys.readouterr().err


def test_predict_without_target_in_json(trained_dir: Path, sample_csv: Path,
                                        write_file: Any,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The target column is optional; extra columns come back with the predictions."""
    frame = pd.read_csv(sample_csv).drop(columns="HeartDisease").head(3)
    frame.insert(0, "patient_id", ["a", "b", "c"])
    path = write_file("new.csv", frame.to_csv(index=False))
    assert main(["predict", "--model", str(trained_dir / "model.joblib"), "--input", str(path),
                 "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [record["patient_id"] for record in records] == ["a", "b", "c"]
    assert [record["line"] for record in records] == [2, 3, 4]
    assert all(set(record) >= {"probability", "predicted"} for record in records)


@pytest.mark.parametrize(("damage", "fragment"), [
    ("delete", "model file not found"),
    ("truncate", "corrupt or replaced model file"),
    ("old_version", "saved with scikit-learn 1.0.0"),
])
def test_predict_refuses_unusable_models(damage: str, fragment: str, model_copy: Path,
                                         sample_csv: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Missing, corrupt and incompatible models give exit 1 and one error line."""
    if damage == "delete":
        model_copy.unlink()
    elif damage == "truncate":
        model_copy.write_bytes(model_copy.read_bytes()[:100])
    else:
        meta_path = model_copy.with_suffix(".json")
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
        metadata["libraries"]["scikit-learn"] = "1.0.0"
        meta_path.write_text(json.dumps(metadata), encoding="utf-8")
    assert main(["predict", "--model", str(model_copy), "--input", str(sample_csv)]) == 1
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and fragment in errors[0]
    assert "Traceback" not in err


def test_predict_applies_the_same_data_checks(trained_dir: Path, write_file: Any,
                                              replace_cell: Any, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Bad patient data are refused with the training rules; no output file appears."""
    path = write_file("bad.csv", replace_cell(4, "ST_Slope", "Sideways"))
    output = tmp_path / "scored.csv"
    assert main(["predict", "--model", str(trained_dir / "model.joblib"), "--input", str(path),
                 "--output", str(output)]) == 1
    assert "column 'ST_Slope' has an unknown value (allowed: Down, Flat, Up): 'Sideways' at " \
           "line 4" in capsys.readouterr().err
    assert not output.exists()


@pytest.mark.parametrize("cwd", [SCRIPT.parents[1], SCRIPT.parent])
def test_script_runs_from_any_directory(cwd: Path) -> None:
    """The script imports its package from the repo root and from its own folder."""
    result = subprocess.run([sys.executable, str(SCRIPT), "--help"], cwd=cwd,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_script_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    """As a real process: exit 1, one stderr line, nothing on stdout."""
    result = subprocess.run([sys.executable, str(SCRIPT), "--data", str(tmp_path / "no.csv"),
                             "--output-dir", str(tmp_path / "out")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"ERROR __main__: {tmp_path / 'no.csv'}: "
                                                  "file not found"]


def test_ctrl_c_during_training_ends_with_one_line_and_exit_130(
        sample_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C in the last step before saving: one stderr line, exit 130, no folder created."""
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(model, "evaluate_baseline", interrupted)
    output_dir = tmp_path / "run"
    assert main(_train(sample_csv, output_dir)) == 130
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines()[-1] == \
        "ERROR heart_disease: interrupted: every file is written whole or not at all"
    assert "Traceback" not in captured.err
    assert not output_dir.exists()


def test_ctrl_c_while_saving_keeps_the_previous_run_whole(
        sample_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the files are written: the earlier run's files stay, byte for byte."""
    output_dir = tmp_path / "run"
    assert main(_train(sample_csv, output_dir, "--seed", "1")) == 0
    before = {path.name: path.read_bytes() for path in output_dir.iterdir()}
    real_write_bytes = Path.write_bytes

    def interrupt_on_metrics(path: Path, data: bytes) -> int:
        if path.name.startswith(".metrics.json"):
            raise KeyboardInterrupt
        return real_write_bytes(path, data)

    monkeypatch.setattr(Path, "write_bytes", interrupt_on_metrics)
    assert main(_train(sample_csv, output_dir, "--seed", "2")) == 130
    monkeypatch.undo()
    assert {path.name: path.read_bytes() for path in output_dir.iterdir()} == before

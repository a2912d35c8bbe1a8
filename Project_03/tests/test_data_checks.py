"""Every bad-input path: one precise line on stderr, exit code 1, nothing written."""
import io
import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from heart_disease import main
from heart_disease_knn.dataset import load_dataset
from heart_disease_knn.validation import DatasetError, validate_frame

XLSX_START = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00"
PARQUET_START = b"PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00\x12\x00\x00"
GARBAGE = bytes(range(256)) * 4

# (file name, how to build its content from the sample text, expected message fragment)
BAD_CONTENT: list[tuple[str, Callable[[str], str | bytes], str]] = [
    ("empty.csv", lambda text: "", "empty.csv: file is empty"),
    ("blank_lines.csv", lambda text: "\n\n  \n", "blank_lines.csv: file is empty"),
    ("header_only.csv", lambda text: text.splitlines()[0] + "\n",
     "header_only.csv: has a header but no data rows"),
    ("workbook.csv", lambda text: XLSX_START + b"\x00" * 40,
     "workbook.csv: is an Excel workbook or other zip archive (.xlsx), not CSV text"),
    ("legacy.csv", lambda text: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40,
     "legacy.csv: is a legacy Excel workbook (.xls), not CSV text"),
    ("table.csv", lambda text: PARQUET_START, "table.csv: is a Parquet file, not CSV text"),
    ("garbage.csv", lambda text: GARBAGE, "garbage.csv: is binary, not CSV text (NUL byte at"),
    ("latin1.csv", lambda text: text.replace("Normal", "Normál", 1).encode("latin-1"),
     "latin1.csv: is not UTF-8 text (undecodable byte at offset"),
    ("columns.csv", lambda text: "\n".join(",".join(line.split(",")[:3])
                                         for line in text.splitlines()),
     "columns.csv: missing required column(s): RestingBP, Cholesterol, MaxHR, Oldpeak, "
     "FastingBS, RestingECG, ExerciseAngina, ST_Slope, HeartDisease (found: Age, Sex, "
     "ChestPainType)"),
    ("ragged.csv", lambda text: text + "1,2,3,4,5,6,7,8,9,10,11,12,13,14\n",
     "ragged.csv: is not a well-formed CSV file"),
    ("short_row.csv", lambda text: text + "50,M,ASY\n",
     "short_row.csv: column 'RestingBP' has a blank or missing value '' at line 83"),
]

# (CSV line, column, new value, expected message fragment)
BAD_CELLS = [
    (2, "Age", "fifty", "column 'Age' has a non-numeric value 'fifty' at line 2"),
    (3, "MaxHR", "", "column 'MaxHR' has a blank or missing value '' at line 3"),
    (4, "Cholesterol", "NaN", "column 'Cholesterol' has a blank or missing value 'NaN' at line 4"),
    (5, "Oldpeak", "inf", "column 'Oldpeak' has an infinite value 'inf' at line 5"),
    (6, "Age", "230", "column 'Age' has an impossible value (allowed 1..120 years): '230' "
                      "at line 6"),
    (7, "Cholesterol", "5.2", "column 'Cholesterol' has an impossible value (allowed 50..700 "
                              "mg/dl or 0 (not measured)): '5.2' at line 7"),
    (8, "MaxHR", "0", "column 'MaxHR' has an impossible value (allowed 40..250 beats/min): '0'"),
    (9, "RestingBP", "-120", "column 'RestingBP' has an impossible value"),
    (10, "Sex", "m", "column 'Sex' has an unknown value (allowed: F, M): 'm' at line 10"),
    (11, "ChestPainType", "XYZ",
     "column 'ChestPainType' has an unknown value (allowed: ASY, ATA, NAP, TA): 'XYZ' at line 11"),
    (12, "ST_Slope", "up", "column 'ST_Slope' has an unknown value (allowed: Down, Flat, Up)"),
    (13, "FastingBS", "2", "column 'FastingBS' has an unknown value (allowed: 0, 1): '2'"),
    (14, "HeartDisease", "yes",
     "column 'HeartDisease' has a label that is not 0 or 1: 'yes' at line 14"),
]


def _assert_one_error(capsys: pytest.CaptureFixture[str], fragment: str) -> None:
    """stderr holds exactly one ERROR line, containing ``fragment``, and no traceback."""
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, err
    assert fragment in errors[0]
    assert "Traceback" not in err


@pytest.mark.parametrize(("name", "build", "fragment"), BAD_CONTENT,
                         ids=[case[0] for case in BAD_CONTENT])
def test_bad_file_content_is_refused(name: str, build: Callable[[str], str | bytes],
                                     fragment: str, sample_text: str,
                                     write_file: Callable[[str, str | bytes], Path],
                                     tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each malformed file gives exit 1, its own one-line message, and no artifacts."""
    path = write_file(name, build(sample_text))
    output_dir = tmp_path / "out"
    assert main(["--data", str(path), "--output-dir", str(output_dir)]) == 1
    _assert_one_error(capsys, fragment)
    assert not output_dir.exists()


@pytest.mark.parametrize("case", BAD_CELLS, ids=[f"{case[1]}={case[2]!r}" for case in BAD_CELLS])
def test_bad_cell_is_named_with_column_value_and_line(
        case: tuple[int, str, str, str], replace_cell: Callable[[int, str, str], str],
        write_file: Callable[[str, str | bytes], Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A single bad value is reported with its column, value and CSV line."""
    line, column, value, fragment = case
    path = write_file("bad.csv", replace_cell(line, column, value))
    output_dir = tmp_path / "out"
    assert main(["--data", str(path), "--output-dir", str(output_dir)]) == 1
    _assert_one_error(capsys, f"bad.csv: {fragment}")
    assert not output_dir.exists()


def test_missing_file_and_directory_are_refused(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A path that does not exist, or is a folder, is named in the message."""
    assert main(["--data", str(tmp_path / "nope.csv"), "--output-dir", str(tmp_path / "o")]) == 1
    _assert_one_error(capsys, "nope.csv: file not found")
    assert main(["--data", str(tmp_path), "--output-dir", str(tmp_path / "o")]) == 1
    _assert_one_error(capsys, "is a directory, not a CSV file")
    assert not (tmp_path / "o").exists()


def test_single_class_target_is_refused(sample_text: str,
                                        write_file: Callable[[str, str | bytes], Path],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Training needs both classes; the message says which one is alone."""
    lines = sample_text.splitlines()
    positives = [line for line in lines[1:] if line.endswith(",1")]
    path = write_file("ones.csv", "\n".join([lines[0], *positives]) + "\n")
    assert main(["--data", str(path), "--output-dir", str(path.parent / "o")]) == 1
    _assert_one_error(capsys, f"column 'HeartDisease' has only class 1 in {len(positives)} rows")


@pytest.mark.parametrize(("rows", "extra_args", "fragment"), [
    (6, [], "too few rows: the training split holds about 2 row(s) of the smaller class, "
            "fewer than --cv 5 folds"),
    (3, [], "too few rows: 3 rows (1 in the smaller class) cannot be split"),
    (20, ["--cv", "10"], "fewer than --cv 10 folds"),
])
def test_too_few_rows_for_split_or_folds(rows: int, extra_args: list[str], fragment: str,
                                         sample_text: str,
                                         write_file: Callable[[str, str | bytes], Path],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Data too small for the split or the number of folds is refused before training."""
    lines = sample_text.splitlines()
    negatives = [line for line in lines[1:] if line.endswith(",0")]
    positives = [line for line in lines[1:] if line.endswith(",1")]
    half = rows // 2
    body = negatives[:half] + positives[:rows - half]
    path = write_file("small.csv", "\n".join([lines[0], *body]) + "\n")
    assert main(["--data", str(path), "--output-dir", str(path.parent / "o"), *extra_args]) == 1
    _assert_one_error(capsys, fragment)


def test_bom_extra_columns_and_any_column_order_are_accepted(
        sample_csv: Path, write_file: Callable[[str, str | bytes], Path]) -> None:
    """A UTF-8 BOM, reordered columns and extra columns give the same validated data."""
    original = load_dataset(sample_csv).frame
    shuffled = pd.read_csv(sample_csv, dtype=str)
    shuffled.insert(0, "patient_id", [f"p{i}" for i in range(len(shuffled))])
    shuffled = shuffled[list(reversed(shuffled.columns))]
    text = "\ufeff" + shuffled.to_csv(index=False)
    path = write_file("bom.csv", text.encode("utf-8"))
    loaded = load_dataset(path)
    pd.testing.assert_frame_equal(loaded.frame, original)
    assert list(loaded.extra_columns.columns) == ["patient_id"]


def test_duplicate_rows_are_kept_with_a_warning(
        sample_text: str, write_file: Callable[[str, str | bytes], Path],
        caplog: pytest.LogCaptureFixture) -> None:
    """Duplicates are legal (patients can share values) but worth a warning."""
    lines = sample_text.splitlines()
    path = write_file("dup.csv", "\n".join([*lines, lines[5]]) + "\n")
    with caplog.at_level(logging.WARNING):
        dataset = load_dataset(path)
    assert dataset.rows == len(lines)
    assert f"1 duplicate row(s) (kept; first at line {len(lines) + 1})" in caplog.text


def test_zero_means_not_measured_only_where_documented(replace_cell: Callable[[int, str, str],
                                                                               str]) -> None:
    """0 is accepted in RestingBP/Cholesterol (not measured) but not in, e.g., Age."""
    raw = pd.read_csv(io.StringIO(replace_cell(2, "RestingBP", "0")), dtype=str,
                      keep_default_na=False)
    assert validate_frame(raw, "t.csv").loc[0, "RestingBP"] == 0
    raw.loc[0, "Age"] = "0"
    with pytest.raises(DatasetError, match=r"column 'Age' has an impossible value"):
        validate_frame(raw, "t.csv")


def test_predict_input_without_target_is_valid_but_training_requires_it(
        sample_csv: Path, write_file: Callable[[str, str | bytes], Path]) -> None:
    """The target column is optional only when scoring."""
    frame = pd.read_csv(sample_csv, dtype=str).drop(columns="HeartDisease")
    path = write_file("unlabelled.csv", frame.to_csv(index=False))
    assert load_dataset(path, require_target=False).rows == len(frame)
    with pytest.raises(DatasetError, match="missing required column.*: HeartDisease"):
        load_dataset(path)


def test_validation_does_not_mutate_its_input(sample_csv: Path) -> None:
    """The raw table is left as read."""
    raw = pd.read_csv(sample_csv, dtype=str, keep_default_na=False)
    before = raw.copy()
    validate_frame(raw, "sample")
    assert raw.equals(before)

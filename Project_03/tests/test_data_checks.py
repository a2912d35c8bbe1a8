"""Every bad-input path: one precise line on stderr, exit code 1, nothing written."""
import io
import logging
import subprocess
import sys
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
PROJECT_DIR = Path(__file__).resolve().parents[1]

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
     "short_row.csv: 1 row(s) with fewer fields than the header's 12: line 83 has 3"),
]

# (CSV line, column, new value, expected message fragment)
BAD_CELLS = [
    (2, "Age", "fifty", "column 'Age' has a value that is not a number: 'fifty' at line 2"),
    (3, "MaxHR", "", "column 'MaxHR' has a blank cell: '' at line 3"),
    (4, "Cholesterol", "n/a",
     "column 'Cholesterol' has a value that is not a number: 'n/a' at line 4"),
    (5, "Oldpeak", "inf", "column 'Oldpeak' has a value that is not finite: 'inf' at line 5"),
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
     "column 'HeartDisease' has a label that is not 0 or 1 (values found: 0, 1, yes); write "
     "1 for yes/true and 0 for no/false: 'yes' at line 14"),
]


def _edit(text: str, cells: list[tuple[int, str, str]]) -> str:
    """Return ``text`` with each (CSV line, column) cell replaced by its value."""
    rows = [row.split(",") for row in text.splitlines()]
    for line, column, value in cells:
        rows[line - 1][rows[0].index(column)] = value
    return "\n".join(",".join(row) for row in rows) + "\n"


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


def test_duplicate_rows_are_kept_with_a_warning_or_dropped(
        sample_text: str, write_file: Callable[[str, str | bytes], Path],
        caplog: pytest.LogCaptureFixture) -> None:
    """Duplicates are legal but inflate the metrics; the warning names --drop-duplicates."""
    lines = sample_text.splitlines()
    path = write_file("dup.csv", "\n".join([*lines, lines[5]]) + "\n")
    with caplog.at_level(logging.WARNING):
        dataset = load_dataset(path)
    assert dataset.rows == len(lines)
    assert (f"1 duplicate row(s), first at line {len(lines) + 1}: a copy on each side of the "
            "train/test split inflates the test metrics; --drop-duplicates removes them"
            ) in caplog.text
    dropped = load_dataset(path, drop_duplicates=True)
    assert dropped.rows == len(lines) - 1
    assert dropped.lines == tuple(range(2, len(lines) + 1))


def test_every_problem_is_reported_in_one_run(sample_text: str,
                                              write_file: Callable[[str, str | bytes], Path],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Blanks in several columns, text, 1e400 and a bad category: all named at once."""
    path = write_file("many.csv", _edit(sample_text, [
        (2, "Age", ""), (5, "Age", ""), (3, "MaxHR", ""), (4, "Cholesterol", "n/a"),
        (6, "Oldpeak", "1e400"), (7, "Sex", "m"), (8, "Sex", ""), (9, "RestingBP", "900")]))
    assert main(["--data", str(path), "--output-dir", str(path.parent / "o")]) == 1
    err = capsys.readouterr().err
    assert "many.csv: 8 bad cells in 6 column(s); fix them all, then rerun:" in err
    for fragment in ["column 'Age' has 2 blank cells: '' (line 2), '' (line 5)",
                     "column 'MaxHR' has a blank cell: '' at line 3",
                     "column 'Cholesterol' has a value that is not a number: 'n/a' at line 4",
                     "column 'Oldpeak' has a value that is not finite: '1e400' at line 6",
                     "column 'Sex' has a blank cell: '' at line 8",
                     "column 'Sex' has an unknown value (allowed: F, M): 'm' at line 7",
                     "column 'RestingBP' has an impossible value (allowed 50..250 mm Hg or 0 "
                     "(not measured)): '900' at line 9"]:
        assert fragment in err
    assert "Traceback" not in err
    assert not (path.parent / "o").exists()


def test_a_million_bad_rows_give_a_short_report(sample_text: str) -> None:
    """Each problem shows three examples and a count, whatever the number of bad rows."""
    lines = sample_text.splitlines()
    body = lines[1:] * 300
    raw = pd.read_csv(io.StringIO("\n".join([lines[0], *body])), dtype=str,
                      keep_default_na=False)
    raw["Age"] = "old"
    raw["ST_Slope"] = "up"
    with pytest.raises(DatasetError) as error:
        validate_frame(raw, "big.csv")
    message = str(error.value).splitlines()
    assert message[0] == f"big.csv: {2 * len(raw)} bad cells in 2 column(s); fix them all, " \
                         "then rerun:"
    assert message[1] == ("  column 'Age' has 24300 values that are not a number: 'old' "
                          f"(line 2), 'old' (line 3), 'old' (line 4) and {len(raw) - 3} more")
    assert len(message) == 3


@pytest.mark.parametrize(("content", "fragment"), [
    ("Age;Sex;ChestPainType\n40;M;ATA\n",
     "the file looks ';'-delimited: save it with ',' as the separator"),
    (" Age,Sex ,ChestPainType\n40,M,ATA\n",
     "column names have spaces around them (' Age', 'Sex '): remove the spaces from the header"),
    ("age,sex,cp,trestbps,chol,fbs,restecg,thalach,exang,oldpeak,slope,ca,thal,num\n"
     "63,1,1,145,233,1,2,150,0,2.3,3,0,6,0\n",
     "this looks like the UCI layout (age, sex, cp, trestbps, …, num) with numeric codes"),
    ("age,Sex,ChestPainType\n40,M,ATA\n", "column names are case-sensitive: 'age' for 'Age'"),
], ids=["semicolon", "spaces", "uci", "case"])
def test_recognisable_header_mistakes_get_a_hint(
        content: str, fragment: str, write_file: Callable[[str, str | bytes], Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    """A missing-columns error says why, when the cause is a known mistake."""
    path = write_file("hint.csv", content)
    assert main(["--data", str(path), "--output-dir", str(path.parent / "o")]) == 1
    _assert_one_error(capsys, fragment)


def test_multiclass_target_names_the_values_found(
        sample_text: str, write_file: Callable[[str, str | bytes], Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    """A UCI-style 0-4 label lists the set of values and how to map them."""
    path = write_file("multi.csv", _edit(sample_text, [(3, "HeartDisease", "2"),
                                                       (5, "HeartDisease", "4")]))
    assert main(["--data", str(path), "--output-dir", str(path.parent / "o")]) == 1
    _assert_one_error(capsys, "column 'HeartDisease' has 2 labels that are not 0 or 1 (values "
                              "found: 0, 1, 2, 4); in the UCI 'num' coding 1-4 all mean "
                              "disease: map them to 1: '2' (line 3), '4' (line 5)")


def test_blank_lines_do_not_shift_line_numbers(
        sample_text: str, write_file: Callable[[str, str | bytes], Path]) -> None:
    """Line numbers are those of the file, even after blank lines."""
    lines = sample_text.splitlines()
    bad = lines[3].replace(",M,", ",m,", 1) if ",M," in lines[3] else lines[3].replace(
        ",F,", ",f,", 1)
    path = write_file("gaps.csv", "\n".join([lines[0], lines[1], "", "", bad]) + "\n")
    with pytest.raises(DatasetError, match="at line 5$"):
        load_dataset(path)


def test_a_bad_file_is_refused_before_scikit_learn_is_imported(
        sample_text: str, write_file: Callable[[str, str | bytes], Path]) -> None:
    """Validation needs only pandas: the ~1 s scikit-learn import comes after it."""
    path = write_file("bad.csv", sample_text.replace(",M,", ",m,", 1))
    probe = ("import sys; from heart_disease import main; "
             f"code = main(['--data', {str(path)!r}, '--output-dir', {str(path.parent / 'o')!r}]);"
             " print(code, 'sklearn' in sys.modules, 'matplotlib' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True,
                            text=True, check=False)
    assert result.stdout.split() == ["1", "False", "False"], result.stderr


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

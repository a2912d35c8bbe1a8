"""Check a raw table of patients and convert it to model input (pure: no file access).

Every cell is checked before anything is reported, so one run names every problem:
:class:`DatasetError` lists them grouped by column and kind, each with its count and the
first few values and CSV lines (line 1 is the header), capped so a file with a million
bad rows still gives a short report. Where the cause is recognisable (a ``;``-delimited
file, spaces around the header names, the UCI column layout) the message says so.

The rules are a small table of our own (:data:`RULES`), not a schema library: pandera's
lazy validation would collect the failures too, but it costs a heavy dependency and
its import time, and its messages would still need this wording layer on top.
"""
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from heart_disease_knn import HeartDiseaseError
from heart_disease_knn.features import (ALLOWED_CATEGORIES, FEATURES, NUMERIC_FEATURES, TARGET,
                                        VALID_RANGES, ZERO_MEANS_MISSING)

logger = logging.getLogger(__name__)

HEADER_LINES = 1
EXAMPLES = 3  # values shown per problem; the rest are counted
MAX_GROUPS = 12  # problem lines shown; the rest are counted
# The processed UCI files (processed.cleveland.data and kin) with their usual header.
UCI_COLUMNS = ("age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach", "exang",
               "oldpeak", "slope", "ca", "thal", "num")


class DatasetError(HeartDiseaseError):
    """The data file cannot be used as it is (wrong format, columns or values)."""


@dataclass(frozen=True)
class Problem:
    """Every cell of one column that breaks one rule."""

    column: str
    singular: str  # "a blank cell"
    plural: str  # "blank cells"
    lines: tuple[int, ...]
    values: tuple[str, ...]
    count: int

    def describe(self) -> str:
        """Return e.g. ``column 'Age' has 2 blank cells: '' (line 3), '' (line 9)``."""
        if self.count == 1:
            return (f"column {self.column!r} has {self.singular}: {self.values[0]!r} "
                    f"at line {self.lines[0]}")
        shown = ", ".join(f"{value!r} (line {line})"
                          for value, line in zip(self.values, self.lines))
        more = f" and {self.count - len(self.values)} more" if self.count > len(self.values) \
            else ""
        return f"column {self.column!r} has {self.count} {self.plural}: {shown}{more}"


def _problem(column: str, mask: pd.Series, raw: pd.Series, singular: str,
             plural: str) -> list[Problem]:
    """Return the problem of the cells selected by ``mask`` (none if the mask is empty)."""
    bad = raw[mask.to_numpy()]
    if bad.empty:
        return []
    first = bad.iloc[:EXAMPLES]
    return [Problem(column, singular, plural, tuple(int(i) + HEADER_LINES + 1 for i in first.index),
                    tuple(first.tolist()), len(bad))]


def _blank(raw: pd.Series) -> pd.Series:
    return raw.str.strip() == ""


def _check_number(column: str, raw: pd.Series) -> tuple[list[Problem], pd.Series]:
    """Parse a numeric column: text, infinities and impossible values are problems."""
    blank = _blank(raw)
    values = pd.to_numeric(raw.str.strip(), errors="coerce")
    # pandas reads an overflowing literal such as 1e400 as NaN; Python's float gives inf.
    unparsed = values.isna() & ~blank
    values[unparsed] = raw[unparsed].map(_python_float)
    not_a_number = values.isna() & ~blank
    infinite = pd.Series(np.isinf(values.to_numpy()), index=raw.index)
    valid = VALID_RANGES[column]
    allowed = valid.contains(values) | values.isna() | infinite
    if column in ZERO_MEANS_MISSING:
        allowed |= values == 0
    zero_note = " or 0 (not measured)" if column in ZERO_MEANS_MISSING else ""
    limits = f"(allowed {valid.low:g}..{valid.high:g} {valid.unit}{zero_note})"
    problems = (_problem(column, blank, raw, "a blank cell", "blank cells")
                + _problem(column, not_a_number, raw, "a value that is not a number",
                           "values that are not a number")
                + _problem(column, infinite, raw, "a value that is not finite",
                           "values that are not finite")
                + _problem(column, ~allowed, raw, f"an impossible value {limits}",
                           f"impossible values {limits}"))
    return problems, values.astype(float)


def _python_float(text: str) -> float:
    """Return ``float(text)``, or NaN when it is not a number at all."""
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _check_category(column: str, raw: pd.Series) -> tuple[list[Problem], pd.Series]:
    """Categories must match exactly (case-sensitive); the allowed values are named."""
    blank = _blank(raw)
    allowed = ", ".join(ALLOWED_CATEGORIES[column])
    unknown = ~raw.isin(ALLOWED_CATEGORIES[column]) & ~blank
    problems = (_problem(column, blank, raw, "a blank cell", "blank cells")
                + _problem(column, unknown, raw, f"an unknown value (allowed: {allowed})",
                           f"unknown values (allowed: {allowed})"))
    return problems, raw


def _check_target(column: str, raw: pd.Series) -> tuple[list[Problem], pd.Series]:
    """The label must be 0 or 1; otherwise the set of values found is named."""
    stripped = raw.str.strip()
    blank = stripped == ""
    other = ~stripped.isin(("0", "1")) & ~blank
    found = ", ".join(sorted(set(stripped[~blank]), key=_natural))
    hint = ""
    if other.any():
        hint = f" (values found: {_capped(found)}){_target_hint(set(stripped[~blank]))}"
    problems = (_problem(column, blank, raw, "a blank cell", "blank cells")
                + _problem(column, other, raw, f"a label that is not 0 or 1{hint}",
                           f"labels that are not 0 or 1{hint}"))
    return problems, pd.to_numeric(stripped, errors="coerce")


def _natural(value: str) -> tuple[int, float, str]:
    """Sort key putting numbers first, in numeric order."""
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def _capped(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _target_hint(found: set[str]) -> str:
    """Name the usual cause of a non-binary label."""
    if found <= {"0", "1", "2", "3", "4"}:
        return "; in the UCI 'num' coding 1-4 all mean disease: map them to 1"
    if {value.lower() for value in found - {"0", "1"}} <= {"yes", "no", "y", "n", "true", "false"}:
        return "; write 1 for yes/true and 0 for no/false"
    return ""


Rule = Callable[[str, pd.Series], tuple[list[Problem], pd.Series]]
# The rule of every column, in the order they are reported.
RULES: dict[str, Rule] = {
    **{column: _check_number for column in NUMERIC_FEATURES},
    **{column: _check_category for column in ALLOWED_CATEGORIES},
    TARGET: _check_target,
}


def _header_hints(columns: list[str]) -> list[str]:
    """Recognisable causes of missing columns: ``;`` delimiter, spaces, UCI layout, case."""
    hints = []
    required = set(FEATURES) | {TARGET}
    if len(columns) == 1 and ";" in columns[0]:
        hints.append("the file looks ';'-delimited: save it with ',' as the separator")
    spaced = [name for name in columns if name != name.strip() and name.strip() in required]
    if spaced:
        hints.append("column names have spaces around them ("
                     + ", ".join(repr(name) for name in spaced[:EXAMPLES])
                     + "): remove the spaces from the header")
    lower = {name.strip().lower() for name in columns}
    if len(lower & set(UCI_COLUMNS)) >= 8:
        hints.append("this looks like the UCI layout (" + ", ".join(UCI_COLUMNS[:4])
                     + ", …, num) with numeric codes; this tool reads the Kaggle layout ("
                     + ", ".join(FEATURES[:4]) + ", …, HeartDisease) with text categories, "
                     "as in data/heart.csv: convert the file first")
    else:
        cased = {name.strip().lower(): name for name in columns}
        wrong_case = [f"{cased[name.lower()]!r} for {name!r}" for name in sorted(required)
                      if name not in columns and name.lower() in cased
                      and cased[name.lower()].strip() != name]
        if wrong_case:
            hints.append("column names are case-sensitive: " + ", ".join(wrong_case[:EXAMPLES]))
    return hints


def _check_columns(raw: pd.DataFrame, source: str, require_target: bool) -> None:
    required = list(FEATURES) + ([TARGET] if require_target else [])
    missing = [column for column in required if column not in raw.columns]
    if missing:
        found = ", ".join(map(str, raw.columns)) or "none"
        hints = "".join(f"; {hint}" for hint in _header_hints(list(map(str, raw.columns))))
        raise DatasetError(f"{source}: missing required column(s): {', '.join(missing)} "
                           f"(found: {_capped(found, 200)}){hints}")
    if raw.empty:
        raise DatasetError(f"{source}: has a header but no data rows")


def report(source: str, problems: list[Problem]) -> str:
    """Return the message for ``problems``: one line for one, a short list for several."""
    if len(problems) == 1:
        return f"{source}: {problems[0].describe()}"
    cells = sum(problem.count for problem in problems)
    columns = len({problem.column for problem in problems})
    lines = [f"{source}: {cells} bad cells in {columns} column(s); fix them all, then rerun:"]
    lines += [f"  {problem.describe()}" for problem in problems[:MAX_GROUPS]]
    if len(problems) > MAX_GROUPS:
        lines.append(f"  and {len(problems) - MAX_GROUPS} more kinds of problem")
    return "\n".join(lines)


def duplicate_rows(clean: pd.DataFrame) -> pd.Series:
    """Return the mask of rows that repeat an earlier row exactly."""
    return clean.duplicated()


def validate_frame(raw: pd.DataFrame, source: str, require_target: bool = True) -> pd.DataFrame:
    """Check a table read as text and return the model's columns with proper types.

    Extra columns are dropped and column order does not matter. The target column is
    kept when present; ``require_target`` also demands both classes (for training).
    The index of ``raw`` is the row's position in the file (line = index + 2).

    Args:
        raw: every cell as a string, as read by :func:`heart_disease_knn.dataset.read_csv_text`.
        source: name of the file, used in messages.
        require_target: True for training data, False for patients to score.

    Returns:
        A new DataFrame with the index of ``raw``: numeric columns as float,
        categories as str, target as int.

    Raises:
        DatasetError: naming every problem found, grouped by column.
    """
    _check_columns(raw, source, require_target)
    columns = list(FEATURES) + ([TARGET] if TARGET in raw.columns else [])
    problems: list[Problem] = []
    clean = pd.DataFrame(index=raw.index)
    for column in columns:
        found, clean[column] = RULES[column](column, raw[column].fillna("").astype(str))
        problems += found
    if problems:
        raise DatasetError(report(source, problems))
    if TARGET in clean.columns:
        clean[TARGET] = clean[TARGET].astype(int)
        if require_target and clean[TARGET].nunique() < 2:
            raise DatasetError(f"{source}: column {TARGET!r} has only class "
                               f"{clean[TARGET].iloc[0]} in {len(clean)} rows; training needs "
                               "both 0 and 1")
    return clean

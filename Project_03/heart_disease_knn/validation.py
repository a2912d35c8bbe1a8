"""Check a raw table of patients and convert it to model input (pure: no file access).

Every problem raises :class:`DatasetError` with one line naming the source, the column,
the offending value and its line in the CSV file (line 1 is the header).
"""
import logging

import numpy as np
import pandas as pd

from heart_disease_knn import HeartDiseaseError
from heart_disease_knn.features import (ALLOWED_CATEGORIES, CATEGORICAL_FEATURES, FEATURES,
                                        NUMERIC_FEATURES, TARGET, VALID_RANGES,
                                        ZERO_MEANS_MISSING)

logger = logging.getLogger(__name__)

HEADER_LINES = 1
# Spellings that pandas would read as "missing" if we let it; we read every cell as text
# and report these ourselves, so a blank is never silently imputed.
MISSING_SPELLINGS = frozenset({"", "na", "n/a", "nan", "null", "none", "-"})


class DatasetError(HeartDiseaseError):
    """The data file cannot be used as it is (wrong format, columns or values)."""


def _line(index: int) -> int:
    """Return the CSV line number of the data row at positional ``index``."""
    return index + HEADER_LINES + 1


def _first_offender(source: str, column: str, mask: pd.Series, raw: pd.Series,
                    problem: str) -> DatasetError:
    """Build the error for the rows selected by ``mask`` (count + first example)."""
    positions = np.flatnonzero(mask.to_numpy())
    first = int(positions[0])
    count = len(positions)
    more = f" ({count} rows in total)" if count > 1 else ""
    return DatasetError(f"{source}: column {column!r} has {problem} {raw.iloc[first]!r} "
                        f"at line {_line(first)}{more}")


def _check_columns(raw: pd.DataFrame, source: str, require_target: bool) -> None:
    required = list(FEATURES) + ([TARGET] if require_target else [])
    missing = [column for column in required if column not in raw.columns]
    if missing:
        raise DatasetError(f"{source}: missing required column(s): {', '.join(missing)} "
                           f"(found: {', '.join(map(str, raw.columns)) or 'none'})")
    if raw.empty:
        raise DatasetError(f"{source}: has a header but no data rows")


def _check_blanks(raw: pd.DataFrame, source: str, columns: list[str]) -> None:
    for column in columns:
        blank = raw[column].str.strip().str.lower().isin(MISSING_SPELLINGS)
        if blank.any():
            raise _first_offender(source, column, blank, raw[column],
                                  "a blank or missing value")


def _to_number(raw: pd.Series, source: str, column: str) -> pd.Series:
    """Parse one numeric column, rejecting text, infinities and impossible values."""
    values = pd.to_numeric(raw.str.strip(), errors="coerce")
    if values.isna().any():
        raise _first_offender(source, column, values.isna(), raw, "a non-numeric value")
    infinite = np.isinf(values)
    if infinite.any():
        raise _first_offender(source, column, infinite, raw, "an infinite value")
    valid_range = VALID_RANGES[column]
    allowed = valid_range.contains(values)
    if column in ZERO_MEANS_MISSING:
        allowed |= values == 0
    if not allowed.all():
        zero_note = " or 0 (not measured)" if column in ZERO_MEANS_MISSING else ""
        raise _first_offender(
            source, column, ~allowed, raw,
            f"an impossible value (allowed {valid_range.low:g}..{valid_range.high:g} "
            f"{valid_range.unit}{zero_note}):")
    return values.astype(float)


def _to_category(raw: pd.Series, source: str, column: str) -> pd.Series:
    allowed = ALLOWED_CATEGORIES[column]
    known = raw.isin(allowed)
    if not known.all():
        raise _first_offender(source, column, ~known, raw,
                              f"an unknown value (allowed: {', '.join(allowed)}):")
    return raw


def _to_target(raw: pd.Series, source: str, require_two_classes: bool) -> pd.Series:
    stripped = raw.str.strip()
    binary = stripped.isin(("0", "1"))
    if not binary.all():
        raise _first_offender(source, TARGET, ~binary, raw, "a label that is not 0 or 1:")
    target = stripped.astype(int)
    if require_two_classes and target.nunique() < 2:
        raise DatasetError(f"{source}: column {TARGET!r} has only class {target.iloc[0]} "
                           f"in {len(target)} rows; training needs both 0 and 1")
    return target


def validate_frame(raw: pd.DataFrame, source: str, require_target: bool = True) -> pd.DataFrame:
    """Check a table read as text and return the model's columns with proper types.

    Extra columns are dropped and column order does not matter. The target column is
    kept when present; ``require_target`` also demands both classes (for training).

    Args:
        raw: every cell as a string, as read by :func:`heart_disease_knn.dataset.read_csv_text`.
        source: name of the file, used in messages.
        require_target: True for training data, False for patients to score.

    Returns:
        A new DataFrame: numeric columns as float, categories as str, target as int.

    Raises:
        DatasetError: on the first problem found, named precisely.
    """
    _check_columns(raw, source, require_target)
    has_target = TARGET in raw.columns
    columns = list(FEATURES) + ([TARGET] if has_target else [])
    _check_blanks(raw, source, columns)
    clean = pd.DataFrame(index=raw.index)
    for column in NUMERIC_FEATURES:
        clean[column] = _to_number(raw[column], source, column)
    for column in CATEGORICAL_FEATURES:
        clean[column] = _to_category(raw[column], source, column)
    if has_target:
        clean[TARGET] = _to_target(raw[TARGET], source, require_target)
    duplicates = int(clean.duplicated().sum())
    if duplicates:
        logger.warning("%s: %d duplicate row(s) (kept; first at line %d)", source, duplicates,
                       _line(int(np.flatnonzero(clean.duplicated().to_numpy())[0])))
    return clean.reset_index(drop=True)

"""Read a patients CSV file from disk, refusing anything that is not CSV text."""
import csv
import hashlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from heart_disease_knn.validation import DatasetError, duplicate_rows, validate_frame

logger = logging.getLogger(__name__)

# Leading bytes of the formats people most often save under a .csv name by mistake.
BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "an Excel workbook or other zip archive (.xlsx)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Excel workbook (.xls)"),
    (b"PAR1", "a Parquet file"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"%PDF", "a PDF document"),
)


@dataclass(frozen=True)
class Dataset:
    """A validated table of patients, where it came from, and the table as written."""

    frame: pd.DataFrame
    path: Path
    sha256: str
    raw: pd.DataFrame
    lines: tuple[int, ...]

    @property
    def extra_columns(self) -> pd.DataFrame:
        """The columns the model ignores (such as an id), as written."""
        return self.raw.drop(columns=[column for column in self.frame.columns
                                      if column in self.raw.columns])

    @property
    def rows(self) -> int:
        """Number of patients."""
        return len(self.frame)


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise DatasetError(f"{path}: file not found")
    if path.is_dir():
        raise DatasetError(f"{path}: is a directory, not a CSV file")
    try:
        return path.read_bytes()
    except OSError as err:
        raise DatasetError(f"{path}: cannot be read ({err.strerror or err})") from err


def decode_csv_bytes(content: bytes, source: str) -> str:
    """Return the text of a CSV file, or raise if the bytes are not UTF-8 text.

    A UTF-8 byte-order mark is accepted and removed.
    """
    if not content.strip():
        raise DatasetError(f"{source}: file is empty")
    for signature, kind in BINARY_SIGNATURES:
        if content.startswith(signature):
            raise DatasetError(f"{source}: is {kind}, not CSV text; export it as CSV")
    if b"\x00" in content:
        offset = content.index(b"\x00")
        raise DatasetError(f"{source}: is binary, not CSV text (NUL byte at offset {offset})")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DatasetError(f"{source}: is not UTF-8 text (undecodable byte at offset "
                           f"{err.start}); save it as UTF-8 CSV") from err


def _check_short_rows(text: str, fields: int, source: str) -> None:
    """Refuse rows with fewer fields than the header (pandas would pad them with blanks)."""
    reader = csv.reader(io.StringIO(text))
    short = []
    for row in reader:
        if row and any(cell.strip() for cell in row) and len(row) < fields:
            short.append((reader.line_num, len(row)))
    if short:
        shown = ", ".join(f"line {line} has {count}" for line, count in short[:3])
        more = f" and {len(short) - 3} more" if len(short) > 3 else ""
        raise DatasetError(f"{source}: {len(short)} row(s) with fewer fields than the header's "
                           f"{fields}: {shown}{more}")


def read_csv_text(text: str, source: str) -> pd.DataFrame:
    """Parse CSV text with every cell kept as a string (no silent NaN conversion).

    Blank lines are dropped, but the index keeps each row's position in the file, so
    row ``i`` is on line ``i + 2``.
    """
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                          skip_blank_lines=False)
    except pd.errors.EmptyDataError as err:
        raise DatasetError(f"{source}: file is empty") from err
    except (pd.errors.ParserError, csv.Error) as err:
        raise DatasetError(f"{source}: is not a well-formed CSV file ({err})".replace("\n", " "))\
            from err
    _check_short_rows(text, len(raw.columns), source)
    raw = raw.fillna("")
    blank_rows = (raw.apply(lambda column: column.str.strip()) == "").all(axis=1)
    return raw[~blank_rows.to_numpy()] if len(raw.columns) else raw


def load_dataset(path: Path, require_target: bool = True,
                 drop_duplicates: bool = False) -> Dataset:
    """Read and validate a patients CSV file.

    Args:
        path: the CSV file.
        require_target: True for training data (HeartDisease with both classes; duplicate
            rows are counted and reported), False for patients to score (HeartDisease
            optional).
        drop_duplicates: remove rows that repeat an earlier row (training only).

    Returns:
        The validated :class:`Dataset` with the file's sha256.

    Raises:
        DatasetError: naming the file and every problem found.
    """
    content = _read_bytes(path)
    source = str(path)
    raw = read_csv_text(decode_csv_bytes(content, source), source)
    frame = validate_frame(raw, source, require_target=require_target)
    if require_target:
        duplicates = duplicate_rows(frame)
        if duplicates.any():
            first = int(frame.index[duplicates.to_numpy()][0]) + 2
            if drop_duplicates:
                frame, raw = frame[~duplicates.to_numpy()], raw[~duplicates.to_numpy()]
                logger.info("%s: dropped %d duplicate row(s) (first at line %d)", source,
                            int(duplicates.sum()), first)
            else:
                logger.warning("%s: %d duplicate row(s), first at line %d: a copy on each side "
                               "of the train/test split inflates the test metrics; "
                               "--drop-duplicates removes them", source, int(duplicates.sum()),
                               first)
    logger.info("loaded %d rows from %s", len(frame), path)
    return Dataset(frame=frame.reset_index(drop=True), path=path,
                   sha256=hashlib.sha256(content).hexdigest(), raw=raw.reset_index(drop=True),
                   lines=tuple(int(index) + 2 for index in frame.index))

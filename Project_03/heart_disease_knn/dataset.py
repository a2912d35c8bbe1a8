"""Read a patients CSV file from disk, refusing anything that is not CSV text."""
import csv
import hashlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from heart_disease_knn.validation import DatasetError, validate_frame

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


def read_csv_text(text: str, source: str) -> pd.DataFrame:
    """Parse CSV text with every cell kept as a string (no silent NaN conversion)."""
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                           skip_blank_lines=True)
    except pd.errors.EmptyDataError as err:
        raise DatasetError(f"{source}: file is empty") from err
    except (pd.errors.ParserError, csv.Error) as err:
        raise DatasetError(f"{source}: is not a well-formed CSV file ({err})".replace("\n", " "))\
            from err


def load_dataset(path: Path, require_target: bool = True) -> Dataset:
    """Read and validate a patients CSV file.

    Args:
        path: the CSV file.
        require_target: True for training data (HeartDisease with both classes),
            False for patients to score (HeartDisease optional).

    Returns:
        The validated :class:`Dataset` with the file's sha256.

    Raises:
        DatasetError: with one line naming the file and the problem.
    """
    content = _read_bytes(path)
    source = str(path)
    raw = read_csv_text(decode_csv_bytes(content, source), source)
    frame = validate_frame(raw, source, require_target=require_target)
    logger.info("loaded %d rows from %s", len(frame), path)
    return Dataset(frame=frame, path=path, sha256=hashlib.sha256(content).hexdigest(),
                   raw=raw.reset_index(drop=True))

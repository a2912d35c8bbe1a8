"""Read a person's ratings export (Letterboxd, IMDb or a plain CSV) into uniform rows (I/O).

The format is recognised from the header row (case and spaces around names ignored):

- ``letterboxd``: ``Date,Name,Year,Letterboxd URI[,Rating]`` (ratings.csv, diary.csv, and
  watched.csv, which has no rating), stars 0.5-5;
- ``imdb``: ``Const,Your Rating,Date Rated,Title,...,Year,...``, 1-10 (halved here);
- ``movieid``: ``movieId,rating[,timestamp]`` and ``title``: ``title,rating[,year][,date]``,
  0.5-5 as MovieLens.

The file is read line by line (UTF-8, with or without a BOM; a line that is not UTF-8 is
read as Latin-1), so a large file needs memory only for its distinct rows: a row that
repeats an earlier movie (a diary's rewatch) replaces it when it is newer and is counted
in ``Export.duplicates``. At most ``MAX_DISTINCT_ROWS`` distinct rows are kept.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from movie_recommender import MovieRecommenderError

MAX_DISTINCT_ROWS = 100_000
"""More distinct movies than any person has rated: the file is not a personal export."""

HEADER_SHOWN = 200
"""An unknown header is quoted up to this many characters (control bytes as "?")."""

LETTERBOXD, IMDB, PLAIN_ID, PLAIN_TITLE = "letterboxd", "imdb", "movieid", "title"
FORMATS = {
    LETTERBOXD: ("date", "name", "year", "letterboxd uri"),
    IMDB: ("const", "your rating", "title", "year"),
    PLAIN_ID: ("movieid", "rating"),
    PLAIN_TITLE: ("title", "rating"),
}
"""Each format and the header fields that identify it (checked in this order)."""

ACCEPTED = ("Letterboxd (Date,Name,Year,Letterboxd URI,Rating), IMDb (Const,Your Rating,"
            "Date Rated,Title,...,Year), movieId,rating[,timestamp] or "
            "title,rating[,year][,date]")
_IMDB_ID = re.compile(r"^tt(\d+)$")
_STAR_STEPS = 2  # Letterboxd and MovieLens ratings come in half stars


class RatingsFileError(MovieRecommenderError):
    """A ratings export that cannot be read or is not in an accepted format."""


@dataclasses.dataclass(frozen=True)
class ExportRow:
    """One rated (or watched) movie of an export.

    Attributes:
        line: line number in the file (the header is line 1).
        title: the title as written ("" for a movieId row).
        year: release year, if the file gives one.
        movie_id: MovieLens id (``movieid`` format), else None.
        imdb_id: numeric IMDb id (``imdb`` format: "tt0111161" -> 111161), else None.
        rating: on the 0.5-5 scale; None for a watched-only row.
        timestamp: when it was rated or watched (seconds since 1970, UTC), if known.
    """

    line: int
    title: str
    year: int | None
    movie_id: int | None
    imdb_id: int | None
    rating: float | None
    timestamp: int | None

    def key(self) -> tuple:
        """What makes two rows the same movie (before matching)."""
        if self.movie_id is not None:
            return ("id", self.movie_id)
        if self.imdb_id is not None:
            return ("imdb", self.imdb_id)
        return ("title", self.title.casefold().strip(), self.year)


@dataclasses.dataclass(frozen=True)
class Export:
    """The distinct rows of an export, in file order, and what was merged."""

    format: str
    rows: list[ExportRow]
    duplicates: int


def recognise(header: list[str]) -> str:
    """The format a header row announces.

    >>> recognise(["Date", "Name", "Year", "Letterboxd URI", "Rating"])
    'letterboxd'
    >>> recognise(["movieId", "rating", "timestamp"])
    'movieid'

    Raises:
        RatingsFileError: for any other header, listing the fields found.
    """
    fields = {name.strip().casefold() for name in header}
    for name, needed in FORMATS.items():
        if fields.issuperset(needed):
            return name
    found = "".join(char if char.isprintable() else "?" for char in ",".join(header))
    raise RatingsFileError(f"unknown ratings format (header: {found[:HEADER_SHOWN]}); "
                           f"accepted: {ACCEPTED}")


def decoded_lines(stream: io.BufferedIOBase) -> Iterator[str]:
    """The text lines of a byte stream: UTF-8 (a BOM dropped), else Latin-1 per line."""
    first = True
    for raw in stream:
        if first and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        first = False
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            yield raw.decode("latin-1")


def read_export(path: Path, on_progress: Callable[[int], None] | None = None) -> Export:
    """Read and check a ratings export.

    Args:
        path: the CSV file.
        on_progress: called with the number of bytes read so far, now and then.

    Raises:
        RatingsFileError: for a missing file, a directory, an empty file, a header only,
            an unknown format, a bad rating, year or id, or too many distinct rows.
    """
    if path.is_dir():
        raise RatingsFileError(f"{path} is a directory, not a ratings export")
    try:
        with path.open("rb") as stream:
            return _read_rows(path, stream, on_progress)
    except FileNotFoundError as err:
        raise RatingsFileError(f"ratings file {path} not found") from err
    except OSError as err:
        raise RatingsFileError(f"cannot read ratings file {path}: {err.strerror}") from err
    except csv.Error as err:
        raise RatingsFileError(f"{path} is not a readable CSV file: {err}") from err


def _read_rows(path: Path, stream: io.BufferedIOBase,
               on_progress: Callable[[int], None] | None) -> Export:
    reader = csv.reader(decoded_lines(stream))
    header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    if header is None:
        raise RatingsFileError(f"{path} is empty")
    kind = recognise(header)
    kept: dict[tuple, ExportRow] = {}
    duplicates = 0
    for number, row in enumerate(_parsed_rows(path, reader, header, kind), start=1):
        if on_progress is not None and number % 1000 == 0:
            on_progress(stream.tell())
        key = row.key()
        if key in kept:
            duplicates += 1
            if (row.timestamp or 0) < (kept[key].timestamp or 0):
                continue
            del kept[key]  # the newer row takes the older one's place at the end
        elif len(kept) >= MAX_DISTINCT_ROWS:
            raise RatingsFileError(f"{path} has more than {MAX_DISTINCT_ROWS:,} distinct "
                                   "movies: not one person's ratings export")
        kept[key] = row
    if on_progress is not None:
        on_progress(stream.tell())
    if not kept:
        raise RatingsFileError(f"{path} has a header but no rows")
    return Export(kind, list(kept.values()), duplicates)


def _parsed_rows(path: Path, reader: Iterator[list[str]], header: list[str],
                 kind: str) -> Iterator[ExportRow]:
    """The non-blank rows after the header, parsed and checked (line numbers from 2)."""
    column = {name.strip().casefold(): i for i, name in reversed(list(enumerate(header)))}
    parse = _ROW_PARSERS[kind]
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if any("\n" in cell for cell in cells):  # titles never hold a line break
            raise RatingsFileError(f"{path}, line {number}: a quote opened here is never "
                                   "closed")
        fields = {name: cells[i].strip() if i < len(cells) else ""
                  for name, i in column.items()}
        try:
            yield parse(number, fields)
        except ValueError as err:
            raise RatingsFileError(f"{path}, line {number}: {err}") from None


def parse_rating(text: str, low: float, high: float, steps: int) -> float | None:
    """A rating checked against its scale (``steps`` values per point), or None if blank.

    >>> parse_rating("4.5", 0.5, 5.0, 2), parse_rating("", 0.5, 5.0, 2)
    (4.5, None)

    Raises:
        ValueError: for text that is not a number, or a value off the scale.
    """
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"rating {text!r} is not a number") from None
    if not low <= value <= high or abs(value * steps - round(value * steps)) > 1e-9:
        raise ValueError(f"rating {text} is outside its scale {low:g}-{high:g}")
    return value


def parse_year(text: str) -> int | None:
    """A release year, or None if blank.

    Raises:
        ValueError: for text that is not a plausible year.
    """
    if not text:
        return None
    if not text.isdigit() or not 1870 <= int(text) <= 2100:
        raise ValueError(f"year {text!r} is not a year")
    return int(text)


def parse_time(text: str) -> int | None:
    """Seconds since 1970 of a date ("2021-03-14") or a Unix timestamp; None if blank.

    >>> parse_time("1970-01-02"), parse_time("964982703")
    (86400, 964982703)

    Raises:
        ValueError: for anything else.
    """
    if not text:
        return None
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"date {text!r} is not YYYY-MM-DD") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return int(moment.timestamp())


def _letterboxd_row(line: int, fields: dict[str, str]) -> ExportRow:
    if not fields["name"]:
        raise ValueError("the Name field is empty")
    return ExportRow(line, fields["name"], parse_year(fields["year"]), None, None,
                     parse_rating(fields.get("rating", ""), 0.5, 5.0, _STAR_STEPS),
                     parse_time(fields.get("watched date") or fields["date"]))


def _imdb_row(line: int, fields: dict[str, str]) -> ExportRow:
    match = _IMDB_ID.match(fields["const"])
    if match is None and not fields["title"]:
        raise ValueError(f"Const {fields['const']!r} is not an IMDb id (tt...) and there is "
                         "no title")
    rating = parse_rating(fields["your rating"], 1.0, 10.0, 1)
    return ExportRow(line, fields["title"], parse_year(fields["year"]), None,
                     int(match.group(1)) if match else None,
                     None if rating is None else rating / 2,
                     parse_time(fields.get("date rated", "")))


def _movie_id_row(line: int, fields: dict[str, str]) -> ExportRow:
    if not fields["movieid"].isdigit():
        raise ValueError(f"movieId {fields['movieid']!r} is not a number")
    return ExportRow(line, "", None, int(fields["movieid"]), None,
                     parse_rating(fields["rating"], 0.5, 5.0, _STAR_STEPS),
                     parse_time(fields.get("timestamp", "")))


def _title_row(line: int, fields: dict[str, str]) -> ExportRow:
    if not fields["title"]:
        raise ValueError("the title field is empty")
    return ExportRow(line, fields["title"], parse_year(fields.get("year", "")), None, None,
                     parse_rating(fields["rating"], 0.5, 5.0, _STAR_STEPS),
                     parse_time(fields.get("date", "") or fields.get("timestamp", "")))


_ROW_PARSERS: dict[str, Callable[[int, dict[str, str]], ExportRow]] = {
    LETTERBOXD: _letterboxd_row, IMDB: _imdb_row, PLAIN_ID: _movie_id_row,
    PLAIN_TITLE: _title_row}

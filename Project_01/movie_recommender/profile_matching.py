"""Match the rows of a ratings export to catalogue movies (pure: no files, no printing).

A row is matched by its MovieLens id, by its IMDb id through the data set's ``links.csv``
(when the caller passes that map), else by title and year: first an exact lookup of the
normalised title among every movie's aliases ("The Godfather" is "Godfather, The",
original-language titles in parentheses count too), then the same search as
``--movie-title``. A year may be off by one (release dates differ between countries);
a match in the exact year wins.
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping

import numpy as np

from movie_recommender import MovieRecommenderError
from movie_recommender.catalog import Catalog
from movie_recommender.ratings_export import ExportRow
from movie_recommender.title_search import MIN_MATCH_SCORE, TitleIndex, normalize

YEAR_TOLERANCE = 1
"""A matched movie's year may differ from the file's by this much."""

SEARCHED = 10
"""Candidates of the title search checked against the row's year."""

OFF_BY_A_YEAR = 0.95
"""The score of an exact title whose year is one off."""


class NothingMatchedError(MovieRecommenderError):
    """No row of the ratings export matched a movie of the data set."""


@dataclasses.dataclass(frozen=True)
class MatchedRow:
    """An export row and the movie it matched (``position`` None when none did)."""

    row: ExportRow
    position: int | None
    score: float


@dataclasses.dataclass(frozen=True)
class ProfileMatcher:
    """Matches export rows to catalogue positions (see the module docstring).

    Attributes:
        catalog: the data set's movies.
        titles: its title search.
        imdb_to_movie: IMDb id -> movieId from ``links.csv`` (empty when it has none).
    """

    catalog: Catalog
    titles: TitleIndex
    imdb_to_movie: Mapping[int, int] = dataclasses.field(default_factory=dict)

    @functools.cached_property
    def _by_alias(self) -> dict[bytes, list[int]]:
        """Movie positions of each normalised alias (as UTF-8 bytes: nothing to decode)."""
        table = self.titles.alias_text
        blob = table.blob.tobytes()
        offsets = table.offsets.tolist()
        found: dict[bytes, list[int]] = {}
        for start, stop, owner in zip(offsets[:-1], offsets[1:],
                                      self.titles.alias_movie.tolist()):
            found.setdefault(blob[start:stop], []).append(owner)
        return found

    def match(self, row: ExportRow) -> MatchedRow:
        """The movie of one row (by id, else by title and year)."""
        position = None
        if row.movie_id is not None:
            position = self.catalog.position(row.movie_id)
        elif row.imdb_id is not None and row.imdb_id in self.imdb_to_movie:
            position = self.catalog.position(self.imdb_to_movie[row.imdb_id])
        if position is not None:
            return MatchedRow(row, position, 1.0)
        if not row.title:
            return MatchedRow(row, None, 0.0)
        return self._match_title(row)

    def _match_title(self, row: ExportRow) -> MatchedRow:
        exact = self._by_alias.get(normalize(row.title).encode("utf-8"), [])
        best = self._closest_year(exact, row.year)
        if best is not None:
            off = row.year is not None and self.catalog.year(best) != row.year
            return MatchedRow(row, best, OFF_BY_A_YEAR if off else 1.0)
        catalog = self.catalog
        found = self.titles.search(row.title, catalog.n_ratings, catalog.years, k=SEARCHED)
        found = [m for m in found if m.score >= MIN_MATCH_SCORE
                 and self._year_fits(m.position, row.year)]
        if not found:
            return MatchedRow(row, None, 0.0)
        if row.year is not None:  # the same score in the exact year wins
            found.sort(key=lambda m: (-m.score, catalog.year(m.position) != row.year))
        return MatchedRow(row, found[0].position, found[0].score)

    def _year_fits(self, position: int, year: int | None) -> bool:
        movie_year = self.catalog.year(position)
        return year is None or movie_year is None or abs(movie_year - year) <= YEAR_TOLERANCE

    def _closest_year(self, positions: list[int], year: int | None) -> int | None:
        """Of movies with the same title: the exact year, else one year off, else
        (without a year) the most rated one; ties to the more rated."""
        fitting = [p for p in positions if self._year_fits(p, year)]
        if not fitting:
            return None
        return min(fitting, key=lambda p: (
            0 if year is None else abs((self.catalog.year(p) or year) - year),
            -int(self.catalog.n_ratings[p]), p))


def match_rows(matcher: ProfileMatcher, rows: Iterable[ExportRow]) -> list[MatchedRow]:
    """Match every row; a movie matched twice keeps only its newest row.

    Raises:
        NothingMatchedError: when no row matched, naming the first unmatched one.
    """
    matched = [matcher.match(row) for row in rows]
    hits = [m for m in matched if m.position is not None]
    if not hits:
        first = matched[0].row
        what = first.title or f"movieId {first.movie_id}"
        if first.year is not None:
            what += f" ({first.year})"
        raise NothingMatchedError(f"none of the {len(matched):,} titles matched; "
                                  f"first unmatched: {what}")
    return matched


def profile_arrays(matched: Iterable[MatchedRow]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions, ratings (NaN when watched only) and timestamps (0 when unknown) of the
    matched rows; a movie matched by several rows keeps the newest."""
    newest: dict[int, MatchedRow] = {}
    for item in matched:
        if item.position is None:
            continue
        old = newest.get(item.position)
        if old is None or (item.row.timestamp or 0) >= (old.row.timestamp or 0):
            newest[item.position] = item
    rows = list(newest.values())
    positions = np.array([m.position for m in rows], dtype=np.int64)
    ratings = np.array([np.nan if m.row.rating is None else m.row.rating for m in rows])
    times = np.array([m.row.timestamp or 0 for m in rows], dtype=np.int64)
    return positions, ratings, times

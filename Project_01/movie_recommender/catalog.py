"""The movie catalogue as plain numpy arrays: ids, titles, years, genres and rating counts.

Everything here is made of flat arrays (no pickles, no pandas) so the on-disk index can
save it with ``np.save`` and later runs can open it memory-mapped.
"""
from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from movie_recommender import ArraysMismatchError, MovieRecommenderError

_YEAR_SUFFIX = re.compile(r"\s*\((\d{4})(?:\s*[-\u2013]\s*(?:\d{4})?)?\)\s*$")
MAX_GENRES = 64


class UnknownGenreError(MovieRecommenderError):
    """A ``--genre`` value that no movie in the data set has."""


def split_year(title: str) -> tuple[str, int | None]:
    """Split a MovieLens title into the title proper and its year.

    >>> split_year("Matrix, The (1999)")
    ('Matrix, The', 1999)
    >>> split_year("Babylon 5")
    ('Babylon 5', None)
    """
    match = _YEAR_SUFFIX.search(title)
    if match is None:
        return title.strip(), None
    return title[:match.start()].strip(), int(match.group(1))


@dataclasses.dataclass(frozen=True)
class StringTable(Sequence[str]):
    """Strings kept as one UTF-8 byte blob plus offsets, so they can be memory-mapped.

    Attributes:
        offsets: ``len + 1`` int64 offsets into ``blob``.
        blob: the concatenated UTF-8 bytes (uint8).
    """

    offsets: np.ndarray
    blob: np.ndarray

    @classmethod
    def from_strings(cls, strings: Iterable[str]) -> StringTable:
        """Pack ``strings`` (in the given order) into a table."""
        encoded = [text.encode("utf-8") for text in strings]
        lengths = np.fromiter((len(item) for item in encoded), dtype=np.int64, count=len(encoded))
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        return cls(offsets, blob)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        start, stop = int(self.offsets[index]), int(self.offsets[index + 1])
        return self.blob[start:stop].tobytes().decode("utf-8")

    @functools.cached_property
    def _buffer(self) -> memoryview:
        return memoryview(self.blob)

    def find(self, text: str) -> int:
        """Position of ``text`` in a table sorted in code-point order, or -1 if absent.

        A binary search on the UTF-8 bytes (their order is the code-point order), so
        no string is decoded on the way.
        """
        key, buffer, offsets = text.encode("utf-8"), self._buffer, self.offsets
        low, high = 0, len(self)
        while low < high:
            middle = (low + high) // 2
            if bytes(buffer[offsets[middle]:offsets[middle + 1]]) < key:
                low = middle + 1
            else:
                high = middle
        if low < len(self) and bytes(buffer[offsets[low]:offsets[low + 1]]) == key:
            return low
        return -1


@dataclasses.dataclass(frozen=True)
class Catalog:
    """Movies at dense positions ``0..n-1``, ordered by ``movieId``.

    Attributes:
        movie_ids: ascending MovieLens ids (int64).
        titles: full MovieLens titles, year included ("Matrix, The (1999)").
        years: release year per movie, 0 when the title has none (int16).
        genre_bits: bit ``g`` set when the movie has genre ``genre_names[g]`` (uint64).
        genre_names: the genre vocabulary.
        n_ratings: number of ratings per movie (int32).
    """

    movie_ids: np.ndarray
    titles: StringTable
    years: np.ndarray
    genre_bits: np.ndarray
    genre_names: StringTable
    n_ratings: np.ndarray

    @classmethod
    def from_columns(cls, movie_ids: Sequence[int], titles: Sequence[str],
                     genres: Sequence[str], n_ratings: Sequence[int]) -> Catalog:
        """Build a catalogue from MovieLens columns (genres are ``|``-separated).

        Raises:
            MovieRecommenderError: when there are more than ``MAX_GENRES`` genres.
        """
        order = np.argsort(np.asarray(movie_ids, dtype=np.int64), kind="stable")
        title_list = [titles[i] for i in order]
        names, bits = _genre_bits([genres[i] for i in order])
        years = np.array([split_year(title)[1] or 0 for title in title_list], dtype=np.int16)
        return cls(np.asarray(movie_ids, dtype=np.int64)[order],
                   StringTable.from_strings(title_list), years, bits,
                   StringTable.from_strings(names),
                   np.asarray(n_ratings, dtype=np.int32)[order])

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The catalogue as named arrays (see ``from_arrays``)."""
        return {"movie_ids": self.movie_ids, "title_offsets": self.titles.offsets,
                "title_blob": self.titles.blob, "years": self.years,
                "genre_bits": self.genre_bits, "genre_offsets": self.genre_names.offsets,
                "genre_blob": self.genre_names.blob, "n_ratings": self.n_ratings}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Catalog:
        """Rebuild a catalogue from ``to_arrays`` output (arrays may be memory-mapped).

        Raises:
            ArraysMismatchError: when the arrays do not fit together.
        """
        catalog = cls(arrays["movie_ids"],
                      StringTable(arrays["title_offsets"], arrays["title_blob"]),
                      arrays["years"], arrays["genre_bits"],
                      StringTable(arrays["genre_offsets"], arrays["genre_blob"]),
                      arrays["n_ratings"])
        size = len(catalog.movie_ids)
        if not (len(catalog.titles) == len(catalog.years) == len(catalog.genre_bits)
                == len(catalog.n_ratings) == size):
            raise ArraysMismatchError("catalogue arrays differ in length")
        return catalog

    def __len__(self) -> int:
        return len(self.movie_ids)

    def position(self, movie_id: int) -> int | None:
        """Position of ``movie_id``, or None when the catalogue does not have it."""
        pos = int(np.searchsorted(self.movie_ids, movie_id))
        if pos < len(self.movie_ids) and self.movie_ids[pos] == movie_id:
            return pos
        return None

    def title_without_year(self, pos: int) -> str:
        """The title with its trailing "(year)" removed."""
        return split_year(self.titles[pos])[0]

    def year(self, pos: int) -> int | None:
        """Release year, or None when unknown."""
        return int(self.years[pos]) or None

    def genres(self, pos: int) -> list[str]:
        """Genre names of the movie at ``pos``, alphabetical."""
        bits = int(self.genre_bits[pos])
        return [self.genre_names[g] for g in range(len(self.genre_names)) if bits >> g & 1]

    def genre_mask(self, names: Iterable[str]) -> np.uint64:
        """Bit mask of the given genre names (case-insensitive).

        Raises:
            UnknownGenreError: for a name no movie has, listing the known genres.
        """
        known = {name.casefold(): g for g, name in enumerate(self.genre_names)}
        mask = 0
        for name in names:
            if name.casefold() not in known:
                raise UnknownGenreError(
                    f"unknown genre {name!r}; choose from {', '.join(self.genre_names)}")
            mask |= 1 << known[name.casefold()]
        return np.uint64(mask)


def _genre_bits(genres: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Genre vocabulary and per-movie bit masks of ``|``-separated genre strings.

    Raises:
        MovieRecommenderError: when there are more than ``MAX_GENRES`` genres.
    """
    genre_lists = [text.split("|") if text else [] for text in genres]
    names = sorted({name for names in genre_lists for name in names})
    if len(names) > MAX_GENRES:
        raise MovieRecommenderError(
            f"the data set has {len(names)} genres; at most {MAX_GENRES} are supported")
    bit_of = {name: 1 << bit for bit, name in enumerate(names)}
    # distinct bits, so their sum is their bitwise OR (Python ints: fast, no overflow)
    bits = [sum(bit_of[name] for name in set(movie_genres)) for movie_genres in genre_lists]
    return names, np.array(bits, dtype=np.uint64)

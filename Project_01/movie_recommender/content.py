"""Content-based recommendations, for a movie with too few fans to learn from.

A candidate's score adds three parts, each between 0 and 1:

- the genres it shares with the query movie (Jaccard overlap of the genre sets);
- ``TAG_WEIGHT`` times the cosine of their MovieLens tags (TF-IDF over the movies'
  tag sets, fitted at index build; only where the data set has ``tags.csv``);
- ``POPULARITY_WEIGHT`` times its popularity (log of its number of ratings, scaled to
  the most rated movie), so that among equally similar movies the known ones come first.

Numpy only, on the memory-mapped index (the same warm-query figure as ``liked``).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from movie_recommender import ArraysMismatchError
from movie_recommender.catalog import Catalog, StringTable
from movie_recommender.reasons import content as content_reason
from movie_recommender.scorers import Recommendation
from movie_recommender.topk import top_k

TAG_WEIGHT = 1.0
POPULARITY_WEIGHT = 0.25
SHOWN_TAGS = 3
"""A reason names at most this many shared tags, the most telling first."""

_ARRAY_NAMES = ("indptr", "term", "weight", "vocabulary_offsets", "vocabulary_blob")


@dataclasses.dataclass(frozen=True)
class TagMatrix:
    """Each movie's tags as an L2-normalised TF-IDF row (CSR arrays), plus the tag names.

    Attributes:
        indptr: ``n_movies + 1`` row offsets into ``term``/``weight`` (int64).
        term: tag number of each entry (int32), ascending within a row.
        weight: TF-IDF weight of each entry (float32).
        vocabulary: the tag names (lower case), by tag number.
    """

    indptr: np.ndarray
    term: np.ndarray
    weight: np.ndarray
    vocabulary: StringTable

    @classmethod
    def empty(cls, n_movies: int) -> TagMatrix:
        """No tags at all (a data set without ``tags.csv``)."""
        return cls(np.zeros(n_movies + 1, dtype=np.int64), np.zeros(0, dtype=np.int32),
                   np.zeros(0, dtype=np.float32), StringTable.from_strings([]))

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The matrix as named arrays (see ``from_arrays``)."""
        return {"indptr": self.indptr, "term": self.term, "weight": self.weight,
                "vocabulary_offsets": self.vocabulary.offsets,
                "vocabulary_blob": self.vocabulary.blob}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> TagMatrix:
        """Rebuild from ``to_arrays`` output (arrays may be memory-mapped).

        Raises:
            ArraysMismatchError: if an array is missing or they do not fit together.
        """
        missing = [name for name in _ARRAY_NAMES if name not in arrays]
        if missing:
            raise ArraysMismatchError(f"tag arrays lack {', '.join(missing)}")
        matrix = cls(arrays["indptr"], arrays["term"], arrays["weight"],
                     StringTable(arrays["vocabulary_offsets"], arrays["vocabulary_blob"]))
        if not (len(matrix.term) == len(matrix.weight) == matrix.indptr[-1]
                and (len(matrix.term) == 0 or int(matrix.term.max()) < len(matrix.vocabulary))):
            raise ArraysMismatchError("tag arrays do not fit together")
        return matrix

    @property
    def n_movies(self) -> int:
        """Number of movie rows."""
        return len(self.indptr) - 1

    def row(self, movie: int) -> tuple[np.ndarray, np.ndarray]:
        """Tag numbers and weights of one movie."""
        start, stop = self.indptr[movie], self.indptr[movie + 1]
        return self.term[start:stop], self.weight[start:stop]

    def cosines(self, movie: int) -> np.ndarray:
        """Cosine of every movie's tags with ``movie``'s (rows are unit length)."""
        terms, weights = self.row(movie)
        scores = np.zeros(self.n_movies)
        if len(terms) == 0:
            return scores
        query = np.zeros(len(self.vocabulary), dtype=np.float64)
        query[terms] = weights
        hits = np.flatnonzero(query[self.term])
        owners = np.searchsorted(self.indptr, hits, side="right") - 1
        return np.bincount(owners, weights=query[self.term[hits]] * self.weight[hits],
                           minlength=self.n_movies)

    def shared_tags(self, movie: int, other: int) -> list[str]:
        """Tags both movies have, the heaviest in ``other`` first."""
        terms, _ = self.row(movie)
        other_terms, other_weights = self.row(other)
        shared = np.isin(other_terms, terms)
        order = np.argsort(-other_weights[shared], kind="stable")
        return [self.vocabulary[int(t)] for t in other_terms[shared][order]]


def content_scores(catalog: Catalog, tags: TagMatrix, movie: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score of every movie as a content-based answer for ``movie`` (see the module doc).

    Returns:
        The scores (rounded to 1e-9 so that float noise never decides a tie), the genre
        overlaps and the tag cosines.
    """
    bits = catalog.genre_bits
    shared = np.bitwise_count(bits & bits[movie]).astype(np.float64)
    union = np.bitwise_count(bits | bits[movie]).astype(np.float64)
    genre_overlap = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
    tag_cosine = tags.cosines(movie)
    ratings = np.log1p(catalog.n_ratings.astype(np.float64))
    popularity = ratings / ratings.max() if len(ratings) and ratings.max() > 0 else ratings
    related = (genre_overlap > 0) | (tag_cosine > 0)  # popularity alone is no reason
    scores = np.where(related, genre_overlap + TAG_WEIGHT * tag_cosine
                      + POPULARITY_WEIGHT * popularity, 0.0)
    return np.round(scores, 9), genre_overlap, tag_cosine


def recommend_by_content(catalog: Catalog, tags: TagMatrix, movie: int, top: int,
                         exclude: np.ndarray) -> list[Recommendation]:
    """The ``top`` best content-based matches for ``movie``, never ``movie`` itself.

    Args:
        catalog: the movies.
        tags: their tags (``TagMatrix.empty`` when the data set has none).
        movie: position of the query movie.
        top: how many recommendations.
        exclude: boolean mask; True means never recommend (the filters).
    """
    scores, _, _ = content_scores(catalog, tags, movie)
    allowed = ~np.asarray(exclude)
    allowed[movie] = False
    chosen = top_k(scores, top, allowed, prefer=catalog.n_ratings)
    movie_genres = set(catalog.genres(movie))
    return [Recommendation(int(j), float(scores[j]), content_reason(
        [g for g in catalog.genres(int(j)) if g in movie_genres],
        tags.shared_tags(movie, int(j))[:SHOWN_TAGS], int(catalog.n_ratings[j])))
        for j in chosen]

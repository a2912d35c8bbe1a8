"""Answer one query: find the movie by title, then recommend what its fans also liked.

Ties the catalogue, the title search and the liked matrices (all plain arrays,
usually memory-mapped from the index) together; no I/O and no printing here.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from movie_recommender import ArraysMismatchError, MovieRecommenderError, liked, scorers
from movie_recommender.catalog import Catalog
from movie_recommender.scorers import Recommendation
from movie_recommender.topk import top_k
from movie_recommender.title_search import (MIN_MATCH_SCORE, TitleIndex, TitleMatch,
                                            title_aliases)

SHOWN_MATCHES = 5
SUGGESTIONS = 3
FALLBACK_TITLE_WEIGHT = 0.5
"""In the no-fans fallback, title similarity counts half as much as shared genres."""


class MovieNotFoundError(MovieRecommenderError):
    """No movie matches the query (the message lists the closest titles, if any)."""


@dataclasses.dataclass(frozen=True)
class Answer:
    """Everything one query produced.

    Attributes:
        matches: the best title matches, the chosen movie first.
        method: the collaborative-filtering method used.
        fallback: True when the movie had no fans and the recommendations come from
            genres and title similarity instead.
        recommendations: best first.
    """

    matches: list[TitleMatch]
    method: str
    fallback: bool
    recommendations: list[Recommendation]

    @property
    def movie(self) -> int:
        """Catalogue position of the matched movie."""
        return self.matches[0].position


@dataclasses.dataclass(frozen=True)
class Recommender:
    """A data set's catalogue, title search and liked matrices."""

    catalog: Catalog
    titles: TitleIndex
    model: liked.LikedMatrices

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Recommender:
        """Assemble from the index's ``catalog.*``, ``title.*`` and ``model.*`` arrays.

        Raises:
            ArraysMismatchError: if a part is missing or the parts do not fit together.
        """
        parts: dict[str, dict[str, np.ndarray]] = {"catalog": {}, "title": {}, "model": {}}
        for key, array in arrays.items():
            part, _, name = key.partition(".")
            parts.setdefault(part, {})[name] = array
        try:
            recommender = cls(Catalog.from_arrays(parts["catalog"]),
                              TitleIndex.from_arrays(parts["title"]),
                              liked.from_arrays(parts["model"]))
        except KeyError as err:
            raise ArraysMismatchError(f"index lacks the array {err}") from err
        except ValueError as err:  # from the title search's own check
            raise ArraysMismatchError(str(err)) from err
        n_movies = len(recommender.catalog)
        if recommender.model.n_items != n_movies or (
                len(recommender.titles.alias_movie)
                and int(recommender.titles.alias_movie.max()) >= n_movies):
            raise ArraysMismatchError("catalogue, title search and model disagree on the movies")
        return recommender

    def find(self, query: str, year: int | None = None) -> list[TitleMatch]:
        """The best title matches for ``query`` (the chosen movie first).

        Raises:
            MovieNotFoundError: when even the best candidate scores below
                ``MIN_MATCH_SCORE``; the message suggests the closest titles.
        """
        catalog = self.catalog
        matches = self.titles.search(query, catalog.n_ratings, catalog.years, year=year,
                                     k=SHOWN_MATCHES)
        if matches and matches[0].score >= MIN_MATCH_SCORE:
            return matches
        if year is not None:
            close = self.titles.search(query, catalog.n_ratings, catalog.years,
                                       k=SUGGESTIONS)
            what = f"no movie from {year} matches {query!r}"
        else:
            close, what = matches[:SUGGESTIONS], f"no movie matches {query!r}"
        if close:
            what += "; closest: " + "; ".join(catalog.titles[m.position] for m in close)
        raise MovieNotFoundError(what)

    def find_id(self, movie_id: int) -> list[TitleMatch]:
        """The movie with this MovieLens id, as a perfect match.

        Raises:
            MovieNotFoundError: when the data set has no such movie.
        """
        position = self.catalog.position(movie_id)
        if position is None:
            raise MovieNotFoundError(f"no movie has movieId {movie_id}")
        return [TitleMatch(position, 1.0)]

    def recommend(self, matches: list[TitleMatch], *, method: str, top: int,
                  genres: Sequence[str] = (), min_ratings: int = 0) -> Answer:
        """Recommend ``top`` movies for the first of ``matches``.

        Args:
            matches: from ``find``/``find_id``.
            method: one of ``scorers.METHODS``.
            top: how many recommendations.
            genres: keep only movies with at least one of these genres (any case).
            min_ratings: skip movies with fewer ratings than this.

        Raises:
            UnknownGenreError: for a genre no movie has.
        """
        movie = matches[0].position
        exclude = self.catalog.n_ratings < min_ratings
        if genres:
            exclude |= (self.catalog.genre_bits & self.catalog.genre_mask(genres)) == 0
        found = scorers.recommend(self.model, movie, method, k=top, exclude=exclude)
        if found:
            return Answer(matches, method, False, found)
        return Answer(matches, method, True, self.fallback(movie, top, exclude))

    def fallback(self, movie: int, top: int, exclude: np.ndarray) -> list[Recommendation]:
        """Movies sharing genres with ``movie`` and with similar titles (for a fan-less movie).

        Score: genre overlap (Jaccard) + ``FALLBACK_TITLE_WEIGHT`` x title cosine; ties go to
        the more rated movie.
        """
        scores, title_similarity = self._fallback_scores(movie)
        allowed = ~exclude
        allowed[movie] = False
        chosen = top_k(scores, top, allowed, prefer=self.catalog.n_ratings)
        return [Recommendation(int(j), float(scores[j]),
                               self._fallback_reason(movie, int(j), title_similarity[j]))
                for j in chosen]

    def _fallback_scores(self, movie: int) -> tuple[np.ndarray, np.ndarray]:
        """Fallback score of every movie (rounded to 1e-9), and its title similarity."""
        bits = self.catalog.genre_bits
        shared = np.bitwise_count(bits & bits[movie]).astype(np.float64)
        union = np.bitwise_count(bits | bits[movie]).astype(np.float64)
        genre_overlap = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
        title_text = title_aliases(self.catalog.titles[movie])[0]
        title_similarity = self.titles.scores(title_text, len(self.catalog))
        scores = genre_overlap + FALLBACK_TITLE_WEIGHT * title_similarity
        return np.round(scores, 9), title_similarity

    def _fallback_reason(self, movie: int, other: int, title_similarity: float) -> str:
        shared = [g for g in self.catalog.genres(other) if g in self.catalog.genres(movie)]
        parts = []
        if shared:
            parts.append(f"shares {', '.join(shared)}")
        if title_similarity >= MIN_MATCH_SCORE:
            parts.append(f"similar title ({title_similarity:.2f})")
        return "no fans to learn from; " + " and ".join(parts or ["closest by genre"])

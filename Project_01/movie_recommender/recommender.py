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
from movie_recommender.content import TagMatrix, recommend_by_content
from movie_recommender.scorers import Recommendation
from movie_recommender.title_search import MIN_MATCH_SCORE, TitleIndex, TitleMatch

SHOWN_MATCHES = 5
SUGGESTIONS = 3
MIN_FANS = 5
"""A movie liked by fewer users than this gets content-based recommendations instead
(``content``): what one to four people also liked is an anecdote, not a pattern."""

NO_FANS = "no_fans"
TOO_FEW_FANS = "too_few_fans"
FILTERED_OUT = "filtered_out"
NO_CANDIDATES = "no_candidates"
FALLBACKS = (NO_FANS, TOO_FEW_FANS, FILTERED_OUT, NO_CANDIDATES)
"""Why an answer is content-based rather than collaborative (``Answer.fallback``)."""


class MovieNotFoundError(MovieRecommenderError):
    """No movie matches the query (the message lists the closest titles, if any)."""


@dataclasses.dataclass(frozen=True)
class Answer:
    """Everything one query produced.

    Attributes:
        matches: the best title matches, the chosen movie first.
        method: the collaborative-filtering method asked for.
        fallback: None for a collaborative answer; else why the recommendations are
            content-based instead, one of ``FALLBACKS``: nobody liked the movie, fewer
            than ``MIN_FANS`` did, the filters removed every collaborative candidate,
            or the method found none (``lift`` when no fan rated it above 4).
        recommendations: best first.
        n_fans: how many users liked the matched movie.
    """

    matches: list[TitleMatch]
    method: str
    fallback: str | None
    recommendations: list[Recommendation]
    n_fans: int = 0

    def fallback_note(self) -> str | None:
        """What happened, in words, when the answer is content-based (else None)."""
        if self.fallback is None:
            return None
        what = {NO_FANS: "nobody liked this movie (rated it 4 or more)",
                TOO_FEW_FANS: f"only {self.n_fans} {'user' if self.n_fans == 1 else 'users'} "
                              f"liked this movie, fewer than {MIN_FANS}",
                FILTERED_OUT: "nothing its fans liked passes --genre / --min-ratings",
                NO_CANDIDATES: f"the {self.method} method finds nothing for this movie",
                }[self.fallback]
        return f"FALLBACK: {what}; content-based instead (genres, tags if any, popularity)"

    @property
    def movie(self) -> int:
        """Catalogue position of the matched movie."""
        return self.matches[0].position


@dataclasses.dataclass(frozen=True)
class Recommender:
    """A data set's catalogue, title search, liked matrices and tags."""

    catalog: Catalog
    titles: TitleIndex
    model: liked.LikedMatrices
    tags: TagMatrix

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Recommender:
        """Assemble from the index's ``catalog.*``, ``title.*``, ``model.*`` and ``tags.*``.

        Raises:
            ArraysMismatchError: if a part is missing or the parts do not fit together.
        """
        parts: dict[str, dict[str, np.ndarray]] = {"catalog": {}, "title": {}, "model": {},
                                                   "tags": {}}
        for key, array in arrays.items():
            part, _, name = key.partition(".")
            parts.setdefault(part, {})[name] = array
        try:
            recommender = cls(Catalog.from_arrays(parts["catalog"]),
                              TitleIndex.from_arrays(parts["title"]),
                              liked.from_arrays(parts["model"]),
                              TagMatrix.from_arrays(parts["tags"]))
        except KeyError as err:
            raise ArraysMismatchError(f"index lacks the array {err}") from err
        except ValueError as err:  # from the title search's own check
            raise ArraysMismatchError(str(err)) from err
        n_movies = len(recommender.catalog)
        if n_movies not in (recommender.model.n_items, recommender.tags.n_movies) or (
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
        n_fans = len(self.model.fans(movie))
        if method != "popular" and n_fans < MIN_FANS:
            why = NO_FANS if n_fans == 0 else TOO_FEW_FANS
        else:
            found = scorers.recommend(self.model, movie, method, k=top, exclude=exclude)
            if found:
                return Answer(matches, method, None, found, n_fans)
            unfiltered = scorers.recommend(self.model, movie, method, k=1)
            why = FILTERED_OUT if unfiltered else NO_CANDIDATES
        return Answer(matches, method, why, recommend_by_content(
            self.catalog, self.tags, movie, top, exclude), n_fans)

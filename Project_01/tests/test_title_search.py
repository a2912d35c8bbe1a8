"""Title normalisation and TF-IDF title search."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from movie_recommender.index_build import fit_title_index
from movie_recommender.recommender import MovieNotFoundError, Recommender
from movie_recommender.title_search import (normalize, parse_query, title_aliases,
                                            title_features)


@pytest.mark.parametrize(("text", "expected"), [
    ("Matrix, The", "the matrix"),                        # trailing article moved
    ("Misérables, Les", "les miserables"),                # accents folded, French article
    ("Auberge espagnole, L'", "lauberge espagnole"),      # elided article joins its word
    ("Crouching Tiger, Hidden Dragon", "crouching tiger hidden dragon"),  # not an article
    ("AMÉLIE", "amelie"),                                 # case folded
    ("Schindler's List", "schindlers list"),              # apostrophe dropped, not split
    ("Dr. Strangelove: or How I Learned", "dr strangelove or how i learned"),
    ("Harry & Sally", "harry and sally"),
    ("  WALL·E  ", "wall e"),
    ("Straße", "strasse"),
])
def test_normalize(text: str, expected: str) -> None:
    """Case, accents and punctuation are folded; leading-article forms are undone."""
    assert normalize(text) == expected


@pytest.mark.parametrize(("title", "aliases"), [
    ("Toy Story (1995)", ["toy story"]),
    ("Matrix, The (1999)", ["the matrix"]),
    ("Seven (a.k.a. Se7en) (1995)", ["seven", "se7en"]),
    ("Léon: The Professional (a.k.a. The Professional) (Léon) (1994)",
     ["leon the professional", "the professional", "leon"]),
    ("Babylon 5", ["babylon 5"]),
    ("(500) Days of Summer (2009)", ["500 days of summer"]),
])
def test_title_aliases(title: str, aliases: list[str]) -> None:
    """A title goes by its main name and each alternative title in parentheses."""
    assert title_aliases(title) == aliases


@pytest.mark.parametrize(("query", "expected"), [
    ("Hamlet 1996", ("hamlet 1996", "hamlet", 1996)),
    ("Hamlet (1996)", ("hamlet 1996", "hamlet", 1996)),
    ("Blade Runner 2049", ("blade runner 2049", "blade runner", 2049)),
    ("2012", ("2012", "2012", None)),                  # a title that is only a number
    ("Apollo 13", ("apollo 13", "apollo 13", None)),   # not a year
    ("Matrix, The (1999)", ("matrix the 1999", "the matrix", 1999)),
])
def test_parse_query(query: str, expected: tuple) -> None:
    """A trailing year is split off but the full text is kept for titles that end in one."""
    assert parse_query(query) == expected


@pytest.mark.parametrize(("query", "year", "expected"), [
    ("Toy Story", None, "Toy Story (1995)"),
    ("toy story 2", None, "Toy Story 2 (1999)"),
    ("The Matrix", None, "Matrix, The (1999)"),
    ("Matrix", None, "Matrix, The (1999)"),
    ("Amelie", None, "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)"),
    ("Amélie", None, "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)"),
    ("le fabuleux destin d'amelie poulain", None,
     "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)"),
    ("Interstelar", None, "Interstellar (2014)"),           # typo
    ("godfater", None, "Godfather, The (1972)"),            # typo
    ("Shawshank Redemtion", None, "Shawshank Redemption, The (1994)"),
    ("se7en", None, "Seven (a.k.a. Se7en) (1995)"),         # alternative title
    ("Hamlet 1996", None, "Hamlet (1996)"),                 # remake picked by year
    ("Hamlet (1948)", None, "Hamlet (1948)"),
    ("Hamlet", 2000, "Hamlet (2000)"),                      # --year
    ("Blade Runner 2049", None, "Blade Runner 2049 (2017)"),  # the year is in the title
])
def test_search_bundled(bundled: Recommender, query: str, year: int | None,
                        expected: str) -> None:
    """Real queries on the bundled set pick the intended movie first."""
    best = bundled.find(query, year=year)[0]
    assert bundled.catalog.titles[best.position] == expected


def test_candidates_sorted_and_ties_go_to_most_rated(bundled: Recommender) -> None:
    """Candidates come best first; equal scores are ordered by number of ratings."""
    matches = bundled.find("Hamlet")
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)
    hamlets = [m for m in matches if m.score == matches[0].score]
    assert len(hamlets) >= 2  # the plain "Hamlet" remakes tie on title alone
    counts = [int(bundled.catalog.n_ratings[m.position]) for m in hamlets]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] > counts[-1]


def test_search_is_deterministic(bundled: Recommender) -> None:
    """The same query gives the same ranked candidates every time."""
    first = bundled.find("Star Wars")
    assert all(bundled.find("Star Wars") == first for _ in range(3))


def test_no_match_suggests_closest(bundled: Recommender) -> None:
    """A query nothing resembles is reported, with the closest titles when there are any."""
    with pytest.raises(MovieNotFoundError, match="^no movie matches 'qqqq zzzz'"):
        bundled.find("qqqq zzzz")
    with pytest.raises(MovieNotFoundError, match="no movie from 1997 matches 'Hamlet'; "
                                                 "closest: Hamlet"):
        bundled.find("Hamlet", year=1997)


def test_numpy_vectoriser_equals_scikit_learn() -> None:
    """For known features the numpy vectoriser reproduces scikit-learn's TF-IDF transform."""
    titles = ["Toy Story (1995)", "Toy Story 2 (1999)", "Matrix, The (1999)",
              "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)", "Story of Us, The (1999)"]
    index = fit_title_index(titles)
    vectorizer = TfidfVectorizer(analyzer=title_features).fit(
        [alias for title in titles for alias in title_aliases(title)])
    for query in ("toy story", "the matrix", "story", "us", "the story of us"):
        expected = vectorizer.transform([query]).toarray()[0]
        positions, weights = index.vectorize(query)
        got = np.zeros(len(expected))
        got[positions] = weights
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


def test_unseen_features_lower_the_score() -> None:
    """Gibberish that shares a few 3-grams with a title scores far below a typo."""
    index = fit_title_index(["Fuzz (1972)", "Interstellar (2014)", "Toy Story (1995)"])
    n_movies = 3
    assert index.scores("qqqq zzzz", n_movies).max() < 0.2
    assert index.scores("interstelar", n_movies)[1] > 0.5
    assert index.scores("toy story", n_movies)[2] == pytest.approx(1.0)

"""Title normalisation and TF-IDF title search."""
from __future__ import annotations

import doctest

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from movie_recommender.index_build import fit_title_index
from movie_recommender.recommender import MovieNotFoundError, Recommender
from movie_recommender import title_rank, title_search
from movie_recommender.title_search import (canonical_words, normalize, parse_query,
                                            title_aliases, title_features)


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
    # popularity among near-equal matches: the franchise's best-known film
    ("star wars", None, "Star Wars: Episode IV - A New Hope (1977)"),
    ("lord of the rings", None, "Lord of the Rings: The Fellowship of the Ring, The (2001)"),
    ("the hobbit", None, "Hobbit: An Unexpected Journey, The (2012)"),
    # numerals, both ways, and a sequel by its place in the series
    ("godfather 2", None, "Godfather: Part II, The (1974)"),
    ("terminator ii", None, "Terminator 2: Judgment Day (1991)"),
    ("back to the future part 2", None, "Back to the Future Part II (1989)"),
    ("rocky 3", None, "Rocky III (1982)"),
    ("shrek the third", None, "Shrek the Third (2007)"),
    ("harry potter 3", None, "Harry Potter and the Prisoner of Azkaban (2004)"),
    ("die hard 3", None, "Die Hard: With a Vengeance (1995)"),
    ("toy story", None, "Toy Story (1995)"),
    # compounds and punctuation
    ("spiderman", None, "Spider-Man (2002)"),
    ("xmen", None, "X-Men (2000)"),
    ("walle", None, "WALL·E (2008)"),
    ("oceans eleven", None, "Ocean's Eleven (2001)"),
    ("dr strangelove", None,
     "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb (1964)"),
    ("lalaland", None, "La La Land (2016)"),
    # alternative titles, missing and extra words, very short titles
    ("wo hu cang long", None, "Crouching Tiger, Hidden Dragon (Wo hu cang long) (2000)"),
    ("empire strikes back", None, "Star Wars: Episode V - The Empire Strikes Back (1980)"),
    ("the intouchables", None, "Intouchables (2011)"),
    ("up", None, "Up (2009)"),
    ("her", None, "Her (2013)"),
    ("heat", None, "Heat (1995)"),
    ("e.t.", None, "E.T. the Extra-Terrestrial (1982)"),
    ("et", None, "E.T. the Extra-Terrestrial (1982)"),
])
def test_search_bundled(bundled: Recommender, query: str, year: int | None,
                        expected: str) -> None:
    """Real queries on the bundled set pick the intended movie first."""
    best = bundled.find(query, year=year)[0]
    assert bundled.catalog.titles[best.position] == expected


def test_candidates_sorted_and_remakes_ordered_by_ratings(bundled: Recommender) -> None:
    """Candidates come best first; remakes with the same title go by number of ratings."""
    matches = bundled.find("Hamlet")
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)
    hamlets = [m for m in matches if bundled.catalog.title_without_year(m.position) == "Hamlet"]
    assert len(hamlets) >= 2
    counts = [int(bundled.catalog.n_ratings[m.position]) for m in hamlets]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] > counts[-1]


@pytest.mark.parametrize(("popularity", "expected"), [
    ([5, 5, 5], [0, 1, 2]),   # a full tie: catalogue order
    ([1, 9, 5], [1, 2, 0]),   # equal titles: the most rated first
])
def test_search_is_deterministic(popularity: list[int], expected: list[int]) -> None:
    """Equal titles are ordered by ratings, then position, on two separately fitted indexes."""
    titles = ["Hamlet (1948)", "Hamlet (1996)", "Hamlet (2000)", "Toy Story (1995)"]
    years = np.array([1948, 1996, 2000, 1995])
    counts = np.array([*popularity, 100])
    first, second = fit_title_index(titles), fit_title_index(list(titles))
    got = [m.position for m in first.search("hamlet", counts, years, k=3)]
    assert got == expected
    assert second.search("hamlet", counts, years, k=3) == first.search("hamlet", counts,
                                                                      years, k=3)


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


@pytest.mark.parametrize(("text", "expected"), [
    ("godfather part ii", ["godfather", "2"]),
    ("godfather 2", ["godfather", "2"]),
    ("star wars episode iv a new hope", ["star", "wars", "4", "a", "new", "hope"]),
    ("kill bill vol 1", ["kill", "bill", "1"]),
    ("the two towers", ["the", "2", "towers"]),
    ("history of the world part i", ["history", "of", "the", "world", "1"]),
    ("i robot", ["i", "robot"]),                      # "I" is a word here
    ("v for vendetta", ["v", "for", "vendetta"]),
    ("x men", ["x", "men"]),
    ("rocky v", ["rocky", "5"]),
])
def test_canonical_words(text: str, expected: list[str]) -> None:
    """Roman numerals, number words and "Part N" become one form; word numerals stay."""
    assert canonical_words(text) == expected


@pytest.mark.parametrize(("typed", "word", "matches"), [
    ("godfater", "godfather", True), ("interstelar", "interstellar", True),
    ("recieve", "receive", True),      # swapped letters are one edit
    ("her", "hen", False),             # short words must be exact
    ("2", "3", False), ("batman", "superman", False),
])
def test_word_similarity(typed: str, word: str, matches: bool) -> None:
    """Typos of long enough words match partly; numbers and short words only exactly."""
    similarity = title_rank.word_similarity(typed, word)
    assert (0 < similarity < 1) if matches else similarity == 0


def test_compounds_match_both_ways() -> None:
    """Words written together or apart cover each other fully."""
    split = title_rank.Words(["spider", "man", "2"], [1.0, 1.0, 1.0])
    joined = title_rank.Words(["spiderman", "2"], [1.0, 1.0])
    assert title_rank.coverage(joined, split) == (1.0, 1.0)
    assert title_rank.coverage(split, joined) == (1.0, 1.0)


def test_popularity_decides_only_among_near_matches() -> None:
    """A better-known movie wins a near tie but cannot lift a poor match above a good one."""
    near = title_rank.with_popularity([0.95, 1.0], [200, 15])
    assert near[0] > near[1]
    far = title_rank.with_popularity([0.4, 1.0], [10_000, 15])
    assert far[1] > far[0] and far[1] == 1.0


def test_number_no_title_has_picks_the_film_at_that_place() -> None:
    """"harry potter 3" is the third film by year; an explicit "3" in a title wins."""
    index = fit_title_index(["Harry Potter and the Chamber of Secrets (2002)",
                             "Harry Potter and the Sorcerer's Stone (2001)",
                             "Harry Potter and the Deathly Hallows: Part 2 (2011)",
                             "Harry Potter and the Prisoner of Azkaban (2004)",
                             "Potter 3 (1990)"])
    counts, years = np.array([90, 100, 50, 90, 1]), np.array([2002, 2001, 2011, 2004, 1990])
    assert index.search("harry potter 3", counts, years)[0].position == 3
    assert index.search("harry potter 2", counts, years)[0].position == 0  # not "Part 2"
    assert index.search("potter 3", counts, years)[0].position == 4


@pytest.mark.parametrize("module", [title_rank, title_search])
def test_doctests(module) -> None:
    """The docstring examples of the search modules hold."""
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0

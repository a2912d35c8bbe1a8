"""Rank title-search candidates the way people type: whole words, typos, compounds, popularity.

The TF-IDF search (``title_search``) finds the candidates; this module orders them. A
candidate alias is compared word by word with the query:

- each query word is matched to its best alias word: 1 for the same word, less for a
  typo (an edit or two, or two swapped letters), 1 for a compound written apart or
  together ("spiderman" = "spider man", "lalaland" = "la la land");
- *query coverage* is the idf-weighted share of the query's words the alias matches (a
  number the user typed weighs double), and *title coverage* the share of the alias's
  words the query matches; missing query words cost a lot, extra title words ("the
  Fellowship of the Ring") only a little;
- among near-equal matches the better-known movie wins: the similarity is scaled down
  by how many times fewer ratings a movie has than the best-known near match (on a log
  scale, so the prior does not depend on the data set's size);
- a query ending in a number that no title has after the franchise's name ("harry
  potter 3") means the film at that place in the series, by release year.

The weights were chosen on ``benchmarks/bench_search.py`` (top-1 and top-3 rates on
ml-latest-small).
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

EXTRA_WORDS_WEIGHT = 0.25
"""How much title words missing from the query lower the similarity (0..1)."""

POPULARITY_WEIGHT = 0.4
"""Share of the score that popularity decides (the best-known near match keeps all of it)."""

POPULARITY_RANGE = math.log(100.0)
"""A movie with this many times (log) fewer ratings than the best-known loses all of it."""

NEAR_MATCH = 0.75
"""Candidates this close to the best similarity set the popularity scale."""

COSINE_SHARE = 0.8
"""A candidate no query word matches still scores this share of its TF-IDF cosine."""

NUMBER_WEIGHT = 2.0
"""A number in the query ("toy story 2") weighs this many times its idf."""

TYPO_COST = 1.5
"""Each edit of a typo costs this many letters' share of the word."""

SERIES_SHARE = 0.05
"""A film counts in a series with this share of its best-known film's ratings."""

UNWEIGHTED = frozenset({"the", "a", "an"})
"""Words that weigh nothing: "the intouchables" is "Intouchables"."""

MAX_SEQUEL = 20
MIN_TYPO_LENGTH = 4
"""Shorter words must match exactly: "her" is not a typo of "hen"."""


class Candidate(NamedTuple):
    """What ranking knows of one candidate movie."""

    aliases: list[Words]
    cosine: float
    n_ratings: int
    year: int


class Words(NamedTuple):
    """Canonical words of a query or alias, their weights, and the numbers after a marker.

    Attributes:
        words: canonical words (``title_search.canonical_words``).
        weights: per word, its weight in the coverage shares.
        marked: positions of numbers that followed "part", "vol", "episode"...
    """

    words: list[str]
    weights: list[float]
    marked: tuple[int, ...] = ()

    @classmethod
    def of(cls, words: list[str], idf: Callable[[str], float], *, query: bool = False,
           marked: tuple[int, ...] = ()) -> Words:
        """The words weighted by ``idf``: a query's numbers weigh ``NUMBER_WEIGHT`` times
        more, a title's "1" nothing ("Kill Bill: Vol. 1" is just "Kill Bill"), nor do
        articles (``UNWEIGHTED``)."""
        weights = []
        for word in words:
            weight = 0.0 if word in UNWEIGHTED else idf(word)
            if word.isdigit():
                weight = weight * NUMBER_WEIGHT if query else weight * (word != "1")
            weights.append(weight)
        return cls(words, weights, marked)


@functools.lru_cache(maxsize=1 << 16)
def word_similarity(typed: str, word: str) -> float:
    """How well a typed word matches a title word: 1 equal, less for a typo, else 0.

    >>> round(word_similarity("godfater", "godfather"), 3)
    0.833
    >>> word_similarity("her", "hen"), word_similarity("2", "3")
    (0.0, 0.0)
    """
    if typed == word:
        return 1.0
    if not (typed.isalpha() and word.isalpha()):  # "2" is no typo of "3", nor "se7en"
        return 0.0
    longest = max(len(typed), len(word))
    if min(len(typed), len(word)) < MIN_TYPO_LENGTH or abs(len(typed) - len(word)) > 2:
        return 0.0
    allowed = 1 if longest <= 6 else 2
    if len(set(typed) ^ set(word)) > 2 * allowed:  # each edit changes at most two letters
        return 0.0
    distance = edit_distance(typed, word, allowed)
    return max(0.0, 1.0 - TYPO_COST * distance / longest) if distance <= allowed else 0.0


def edit_distance(first: str, second: str, limit: int) -> int:
    """Optimal-string-alignment distance (edits and swaps of neighbours), capped at limit + 1.

    >>> edit_distance("recieve", "receive", 2)
    1
    """
    previous2: list[int] = []
    previous = list(range(len(second) + 1))
    for i, char in enumerate(first, 1):
        current = [i] + [0] * len(second)
        for j, other in enumerate(second, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (char != other))
            if i > 1 and j > 1 and char == second[j - 2] and first[i - 2] == other:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def coverage(query: Words, alias: Words) -> tuple[float, float]:
    """(Query coverage, title coverage) of an alias, both weighted shares in 0..1.

    >>> coverage(Words(["spiderman"], [1.0]), Words(["spider", "man"], [1.0, 1.0]))
    (1.0, 1.0)
    >>> coverage(Words(["star", "wars"], [1.0, 1.0]),
    ...          Words(["star", "wars", "4", "a", "new", "hope"], [1, 1, 1, 0, 1, 1]))
    (1.0, 0.4)
    """
    typed = [0.0] * len(query.words)
    found = [0.0] * len(alias.words)
    for i, word in enumerate(query.words):
        for j, other in enumerate(alias.words):
            match = word_similarity(word, other)
            if match > 0:
                typed[i] = max(typed[i], match)
                found[j] = max(found[j], match)
    _match_compounds(query.words, alias.words, typed, found)
    _match_compounds(alias.words, query.words, found, typed)
    words = [i for i, word in enumerate(query.words) if not word.isdigit() and query.weights[i]]
    if words and not any(typed[i] for i in words):  # a shared number alone is no match
        return 0.0, 0.0
    return _share(typed, query.weights), _share(found, alias.weights)


def _match_compounds(split: Sequence[str], joined: Sequence[str], split_match: list[float],
                     joined_match: list[float]) -> None:
    """Mark two or three neighbouring words of ``split`` that form a word of ``joined``."""
    targets = {word: j for j, word in enumerate(joined) if len(word) > 1}
    for size in (2, 3):
        for i in range(len(split) - size + 1):
            j = targets.get("".join(split[i:i + size]))
            if j is not None:
                split_match[i:i + size] = [1.0] * size
                joined_match[j] = 1.0


def _share(matches: Sequence[float], weights: Sequence[float]) -> float:
    total = sum(weights)
    return sum(m * w for m, w in zip(matches, weights)) / total if total > 0 else 0.0


def similarity(query_coverage: float, title_coverage: float) -> float:
    """Title similarity (0..1): query coverage, lowered a little by extra title words."""
    return query_coverage * (1.0 - EXTRA_WORDS_WEIGHT + EXTRA_WORDS_WEIGHT * title_coverage)


def with_popularity(similarities: Sequence[float], n_ratings: Sequence[int]) -> list[float]:
    """Scale each similarity down by how much less known its movie is than the best-known
    near-equal candidate (within ``NEAR_MATCH`` of the best similarity).

    >>> with_popularity([1.0, 1.0, 0.2], [99, 0, 10_000])
    [1.0, 0.6, 0.2]
    """
    cut = NEAR_MATCH * max(similarities, default=0.0)
    top = max((math.log1p(n) for s, n in zip(similarities, n_ratings) if s >= cut),
              default=0.0)
    return [s * (1.0 - POPULARITY_WEIGHT * min(1.0, max(0.0, top - math.log1p(n))
                                                / POPULARITY_RANGE))
            for s, n in zip(similarities, n_ratings)]


def rank(query: Words, candidates: Sequence[Candidate]) -> list[float]:
    """Score (0..1) of each candidate for the query: its best alias similarity (at least
    ``COSINE_SHARE`` of its cosine), the series rule, then the popularity prior."""
    similarities = [max(max((similarity(*coverage(query, alias)) for alias in c.aliases),
                            default=0.0), COSINE_SHARE * c.cosine) for c in candidates]
    sequel = nth_in_series(query, candidates)
    if sequel is not None:  # no title has the number: the series' n-th film is meant
        similarities[sequel[0]] = max(*similarities, sequel[1])
    return with_popularity(similarities, [c.n_ratings for c in candidates])


def nth_in_series(query: Words, candidates: Sequence[Candidate]) -> tuple[int, float] | None:
    """The film a query ending in a number means by its place in a series, if no title says.

    "harry potter 3" means the third Harry Potter film by release year, because no title
    has a 3 right after "potter" (a "Part 2" later in a title does not count). Series
    members are the candidates whose title covers every other query word, and have at
    least ``SERIES_SHARE`` of the best-known member's ratings.

    Args:
        query: the query's words, the number last.
        candidates: the candidate movies.

    Returns:
        (candidate index, its similarity with the number counted as matched), or None.
        Remakes with the same title count once (the best-known).
    """
    if len(query.words) < 2 or not query.words[-1].isdigit():
        return None
    number, base = query.words[-1], Words(query.words[:-1], query.weights[:-1])
    if not 1 <= int(number) <= MAX_SEQUEL:
        return None
    members = _series(base, number, candidates)
    if members is None or len(members) < int(number):
        return None
    return members[int(number) - 1]


def _series(base: Words, number: str,
            candidates: Sequence[Candidate]) -> list[tuple[int, float]] | None:
    """(Index, similarity) of the series members by year; None if a title has the number."""
    members = []
    for i, candidate in enumerate(candidates):
        best = 0.0
        for alias in candidate.aliases:
            query_coverage, title_coverage = coverage(base, alias)
            if query_coverage >= 0.99:
                if _numbered(alias, base.words[-1], number):
                    return None
                best = max(best, similarity(query_coverage, title_coverage))
        if best > 0:
            members.append((i, best))
    most = max((candidates[i].n_ratings for i, _ in members), default=0)
    best_known: dict[tuple[str, ...], int] = {}  # of remakes with one title, the best known
    for i, _ in members:
        title = tuple(candidates[i].aliases[0].words)
        if title not in best_known or \
                candidates[i].n_ratings > candidates[best_known[title]].n_ratings:
            best_known[title] = i
    kept = [(candidates[i].year, i, best) for i, best in members
            if candidates[i].n_ratings >= SERIES_SHARE * most
            and best_known[tuple(candidates[i].aliases[0].words)] == i]
    return [(i, best) for _, i, best in sorted(kept)]


def _numbered(alias: Words, last: str, number: str) -> bool:
    """Whether the alias has ``number`` as a sequel number: right after the word ``last``
    (or a typo of it), or anywhere but after "part"/"vol" ("the two towers", not the
    "Part 2" of "deathly hallows part 2")."""
    return any(word == number and (j not in alias.marked
                                   or (j > 0 and word_similarity(last, alias.words[j - 1]) > 0))
               for j, word in enumerate(alias.words))

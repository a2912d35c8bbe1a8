"""Main's title search before issue 17, copied unchanged as the baseline of ``bench_search.py``.

Copied from ``movie_recommender/title_search.py`` at commit b669139 (plus its fit from
``index_build.fit_title_index``): TF-IDF over word 1-2 grams and character 3-grams of
each alias, the best alias cosine per movie, ties broken by number of ratings. Not used
by the tool itself.
"""
from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from movie_recommender.catalog import StringTable, split_year

ARTICLES = frozenset({
    "the", "a", "an",                                  # English
    "le", "la", "les", "l'", "un", "une",              # French
    "il", "lo", "gli", "i",                            # Italian
    "el", "los", "las",                                # Spanish
    "der", "die", "das", "den", "det", "ein", "eine",  # German, Scandinavian
    "o", "os", "as", "de", "het",                      # Portuguese, Dutch
})
"""Leading articles that MovieLens moves to the end of a title ("Matrix, The")."""

MIN_MATCH_SCORE = 0.3
"""Below this cosine the best candidate is only a suggestion, not a match."""

_TRAILING_ARTICLE = re.compile(r"^(?P<body>.*\S)\s*,\s*(?P<article>[^\s,]+)$")
_TRAILING_PARENS = re.compile(r"\s*\(([^()]*)\)\s*$")
_AKA = re.compile(r"^\s*a\.?\s?k\.?\s?a\.?\s+", re.IGNORECASE)
_QUERY_YEAR = re.compile(r"(?:^|\s)\(?(\d{4})\)?\s*$")
_APOSTROPHES = re.compile(r"['\u2019`\u00b4]")
_NOT_WORD = re.compile(r"[\W_]+")
FIRST_YEAR, LAST_YEAR = 1870, 2100


def normalize(text: str) -> str:
    """Fold one title (or alias, or query) to lower-case ASCII-ish words.

    >>> normalize("Matrix, The")
    'the matrix'
    >>> normalize("Auberge espagnole, L'")
    'lauberge espagnole'
    >>> normalize("Amélie & Nino: Part II")
    'amelie and nino part ii'
    """
    text = _AKA.sub("", text)
    match = _TRAILING_ARTICLE.match(text.strip())
    if match and match.group("article").casefold() in ARTICLES:
        article = match.group("article")
        separator = "" if article.endswith("'") else " "
        text = f"{article}{separator}{match.group('body')}"
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    folded = _APOSTROPHES.sub("", folded.replace("&", " and "))
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def title_aliases(title: str) -> list[str]:
    """Normalised names a MovieLens title goes by: the main title, then alternatives.

    >>> title_aliases("Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)")
    ['amelie', 'le fabuleux destin damelie poulain']
    """
    rest, _ = split_year(title)
    alternatives = []
    while (match := _TRAILING_PARENS.search(rest)) and match.start() > 0:
        alternatives.insert(0, match.group(1))
        rest = rest[:match.start()]
    aliases = []
    for alias in (normalize(rest), *(normalize(alt) for alt in alternatives)):
        if alias and alias not in aliases:
            aliases.append(alias)
    return aliases or [normalize(title)]


def parse_query(query: str) -> tuple[str, str, int | None]:
    """Split a query into (full text, text without a trailing year, that year).

    >>> parse_query("Hamlet (1996)")
    ('hamlet 1996', 'hamlet', 1996)
    >>> parse_query("Blade Runner 2049")
    ('blade runner 2049', 'blade runner', 2049)
    >>> parse_query("1917")
    ('1917', '1917', None)
    """
    match = _QUERY_YEAR.search(query)
    if match and match.start() > 0 and FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
        stripped = normalize(query[:match.start()])
        if stripped:
            return normalize(query), stripped, int(match.group(1))
    text = normalize(query)
    return text, text, None


def title_features(text: str) -> list[str]:
    """Word 1-2 grams ("w:") and per-word character 3-grams ("c:") of a normalised text.

    >>> title_features("up")
    ['w:up', 'c: up', 'c:up ']
    """
    words = text.split()
    features = [f"w:{word}" for word in words]
    features += [f"w:{first} {second}" for first, second in zip(words, words[1:])]
    for word in words:
        padded = f" {word} "
        features += [f"c:{padded[i:i + 3]}" for i in range(max(len(padded) - 2, 1))]
    return features


@dataclasses.dataclass(frozen=True)
class TitleMatch:
    """A candidate movie (catalogue position) and its title-match score (0..1)."""

    position: int
    score: float


@dataclasses.dataclass(frozen=True)
class TitleIndex:
    """TF-IDF postings of title aliases, searchable with numpy alone.

    Attributes:
        vocabulary: the sorted feature strings of ``title_features``.
        idf: the inverse document frequency of each feature (float32).
        indptr: ``n_features + 1`` offsets into ``alias``/``weight`` (a CSC matrix).
        alias: alias rows holding each feature (int32).
        weight: L2-normalised TF-IDF weight of that feature in that alias (float32).
        alias_movie: catalogue position of each alias (int32).
    """

    vocabulary: StringTable
    idf: np.ndarray
    indptr: np.ndarray
    alias: np.ndarray
    weight: np.ndarray
    alias_movie: np.ndarray

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The index as named arrays (see ``from_arrays``)."""
        return {"vocab_offsets": self.vocabulary.offsets, "vocab_blob": self.vocabulary.blob,
                "idf": self.idf, "indptr": self.indptr, "alias": self.alias,
                "weight": self.weight, "alias_movie": self.alias_movie}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> TitleIndex:
        """Rebuild the index from ``to_arrays`` output (arrays may be memory-mapped).

        Raises:
            ValueError: when the arrays do not fit together.
        """
        index = cls(StringTable(arrays["vocab_offsets"], arrays["vocab_blob"]), arrays["idf"],
                    arrays["indptr"], arrays["alias"], arrays["weight"], arrays["alias_movie"])
        if not (len(index.vocabulary) == len(index.idf) == len(index.indptr) - 1
                and len(index.alias) == len(index.weight) == index.indptr[-1]):
            raise ValueError("title-search arrays do not fit together")
        return index

    def vectorize(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """TF-IDF vector of a normalised text: (feature positions, weights).

        For a text whose features are all in the vocabulary this is exactly the fitted
        scikit-learn ``TfidfVectorizer.transform``. Unlike it, features never seen in a
        title still count in the norm, weighted as the rarest possible feature; otherwise
        gibberish sharing two character 3-grams with a title would look like a match.
        """
        counts = Counter(title_features(text))
        unseen_idf = np.log(1.0 + len(self.alias_movie)) + 1.0  # smooth idf of df = 0
        positions, weights, norm = [], [], 0.0
        for feature, count in counts.items():
            pos = self.vocabulary.find(feature)
            weight = count * (float(self.idf[pos]) if pos >= 0 else unseen_idf)
            norm += weight * weight
            if pos >= 0:
                positions.append(pos)
                weights.append(weight)
        if not positions:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.array(positions, dtype=np.int64), np.array(weights) / np.sqrt(norm)

    @functools.cached_property
    def alias_starts(self) -> np.ndarray:
        """Index of each movie's first alias (a movie's aliases are consecutive rows)."""
        return np.flatnonzero(np.diff(self.alias_movie, prepend=-1))

    def scores(self, text: str, n_movies: int) -> np.ndarray:
        """Cosine between ``text`` and each movie's best-matching alias (0 when unrelated)."""
        positions, weights = self.vectorize(text)
        if len(positions) == 0:
            return np.zeros(n_movies)
        starts, stops = self.indptr[positions], self.indptr[positions + 1]
        rows = np.concatenate([self.alias[start:stop] for start, stop in zip(starts, stops)])
        values = np.concatenate([self.weight[start:stop] * w
                                 for start, stop, w in zip(starts, stops, weights)])
        alias_scores = np.bincount(rows, weights=values, minlength=len(self.alias_movie))
        movie_scores = np.zeros(n_movies)
        movie_scores[self.alias_movie[self.alias_starts]] = np.maximum.reduceat(
            alias_scores, self.alias_starts)
        return movie_scores

    def search(self, query: str, popularity: np.ndarray, years: np.ndarray, *,
               year: int | None = None, k: int = 5) -> list[TitleMatch]:
        """The ``k`` best candidates for ``query``, best first.

        Candidates are sorted by score (rounded to 1e-6 so float noise cannot decide),
        then by ``popularity`` (descending), then by position: the same query always
        picks the same movie. A year (``year``, or one at the end of the query) keeps
        only that year's movies; a year in the query is dropped when no movie of that
        year matches, because it may belong to the title ("Blade Runner 2049").

        Args:
            query: what the user typed.
            popularity: per movie, e.g. its number of ratings (breaks ties).
            years: per movie release year (0 when unknown).
            year: only movies from this year, when given.
            k: how many candidates.

        Returns:
            Up to ``k`` candidates with a positive score; the caller decides whether the
            first is good enough (``MIN_MATCH_SCORE``).
        """
        full_text, stripped, query_year = parse_query(query)
        n_movies = len(popularity)
        if year is not None:
            text = stripped if query_year == year else full_text
            return _ranked(self.scores(text, n_movies), popularity, years == year, k)
        if query_year is not None:
            in_year = _ranked(self.scores(stripped, n_movies), popularity,
                              years == query_year, k)
            if in_year and in_year[0].score >= MIN_MATCH_SCORE:
                return in_year
        return _ranked(self.scores(full_text, n_movies), popularity, None, k)


def _ranked(scores: np.ndarray, popularity: np.ndarray, allowed: np.ndarray | None,
            k: int) -> list[TitleMatch]:
    rounded = np.round(scores, 6)
    if allowed is not None:
        rounded[~allowed] = 0.0
    candidates = np.flatnonzero(rounded > 0)
    if len(candidates) > k:  # keep the k best scores and everything tied with the k-th
        kth = np.partition(rounded[candidates], len(candidates) - k)[len(candidates) - k]
        candidates = candidates[rounded[candidates] >= kth]
    order = np.lexsort((candidates, -popularity[candidates].astype(np.int64),
                        -rounded[candidates]))
    return [TitleMatch(int(candidates[i]), float(rounded[candidates[i]])) for i in order[:k]]


def alias_table(titles: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """All aliases of ``titles`` and the position of the title each belongs to."""
    aliases: list[str] = []
    owners: list[int] = []
    for pos, title in enumerate(titles):
        for alias in title_aliases(title):
            aliases.append(alias)
            owners.append(pos)
    return aliases, np.asarray(owners, dtype=np.int32)


def fit_title_index(titles: list[str]) -> TitleIndex:
    """Fit TF-IDF on the aliases of ``titles`` (as ``index_build`` did at b669139)."""
    aliases, owners = alias_table(titles)
    vectorizer = TfidfVectorizer(analyzer=title_features, dtype=np.float32)
    weights = vectorizer.fit_transform(aliases).tocsc()
    weights.sort_indices()
    return TitleIndex(
        vocabulary=StringTable.from_strings(vectorizer.get_feature_names_out().tolist()),
        idf=vectorizer.idf_.astype(np.float32),
        indptr=weights.indptr.astype(np.int64),
        alias=weights.indices.astype(np.int32),
        weight=weights.data.astype(np.float32),
        alias_movie=owners,
    )

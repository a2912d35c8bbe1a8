"""Find a movie by its title: normalisation, n-gram features and TF-IDF search.

A MovieLens title such as ``"Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)"`` is
split into its year and its aliases (the main title and each alternative title in
parentheses), each alias normalised (accents and case folded, punctuation dropped, a
trailing article moved to the front). Each alias is described by word 1-2 grams and
character 3-grams, weighted by TF-IDF, after numerals are made one form ("II", "Part 2"
and "two" are all "2") and each pair of neighbouring words is also joined into one
("spider man" also gives "spiderman"). The best cosines give the candidates, which
``title_rank`` orders by whole-word coverage of the query, typos and popularity.

The TF-IDF weights are fitted once with scikit-learn (``index_build.fit_title_index``);
queries are vectorised here with numpy from the stored vocabulary and idf, so a query
never imports scikit-learn (importing it costs more than a second).
"""
from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from movie_recommender import title_rank
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
CANDIDATES = 48
"""How many best TF-IDF cosines ``title_rank`` re-ranks."""

ROMAN_NUMERALS = {numeral: str(value) for value, numeral in enumerate(
    ("", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii",
     "xiv", "xv", "xvi", "xvii", "xviii", "xix", "xx")) if value}
NUMBER_WORDS = {word: str(value) for value, word in enumerate(
    ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
     "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
     "eighteen", "nineteen", "twenty"))} | {word: str(value) for value, word in enumerate(
         ("", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
          "ninth", "tenth"), ) if value}
SEQUEL_MARKERS = frozenset({"part", "episode", "vol", "volume", "chapter"})
"""Words dropped before a number: "Part II", "Part 2", "2" and "II" are one form."""
_AMBIGUOUS_NUMERALS = frozenset({"i", "v", "x"})
"""Roman numerals that are also words ("I, Robot", "V for Vendetta", "X-Men")."""

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


def canonical_words(text: str) -> list[str]:
    """Words of a normalised text with numerals in one form (digits), sequel markers dropped.

    >>> canonical_words("the godfather part ii")
    ['the', 'godfather', '2']
    >>> canonical_words("oceans eleven"), canonical_words("shrek the third")
    (['oceans', '11'], ['shrek', 'the', '3'])
    >>> canonical_words("i robot"), canonical_words("rocky v")
    (['i', 'robot'], ['rocky', '5'])
    """
    return marked_words(text).words


def marked_words(text: str) -> title_rank.Words:
    """``canonical_words`` of a normalised text, and which numbers followed a sequel marker.

    >>> marked_words("harry potter and the deathly hallows part 2").marked
    (6,)
    """
    words = text.split()
    result: list[str] = []
    marked: list[int] = []
    for i, word in enumerate(words):
        after_marker = i > 0 and words[i - 1] in SEQUEL_MARKERS
        if _is_numeral(word, after_marker, last=0 < i == len(words) - 1):
            word = ROMAN_NUMERALS[word]
        else:
            word = NUMBER_WORDS.get(word, word)
        if after_marker and word.isdigit():
            result.pop()
            marked.append(len(result))
        result.append(word)
    return title_rank.Words(result, [], tuple(marked))


def _is_numeral(word: str, after_marker: bool, last: bool) -> bool:
    """Whether a word is a Roman numeral here: "I", "V" and "X" only after "Part" and
    the like, "V" also as the last word ("Rocky V")."""
    if word not in ROMAN_NUMERALS:
        return False
    return word not in _AMBIGUOUS_NUMERALS or after_marker or (word == "v" and last)


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
    """Word 1-2 grams and joined pairs ("w:") and per-word character 3-grams ("c:").

    The words are ``canonical_words`` of the normalised text.

    >>> title_features("up")
    ['w:up', 'c: up', 'c:up ']
    >>> title_features("x men")[:4]
    ['w:x', 'w:men', 'w:x men', 'w:xmen']
    """
    words = canonical_words(text)
    features = [f"w:{word}" for word in words]
    for first, second in zip(words, words[1:]):
        features += [f"w:{first} {second}", f"w:{first}{second}"]
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
        alias_text: each alias, normalised (``title_aliases``).
    """

    vocabulary: StringTable
    idf: np.ndarray
    indptr: np.ndarray
    alias: np.ndarray
    weight: np.ndarray
    alias_movie: np.ndarray
    alias_text: StringTable

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The index as named arrays (see ``from_arrays``)."""
        return {"vocab_offsets": self.vocabulary.offsets, "vocab_blob": self.vocabulary.blob,
                "idf": self.idf, "indptr": self.indptr, "alias": self.alias,
                "weight": self.weight, "alias_movie": self.alias_movie,
                "alias_text_offsets": self.alias_text.offsets,
                "alias_text_blob": self.alias_text.blob}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> TitleIndex:
        """Rebuild the index from ``to_arrays`` output (arrays may be memory-mapped).

        Raises:
            ValueError: when the arrays do not fit together.
        """
        index = cls(StringTable(arrays["vocab_offsets"], arrays["vocab_blob"]), arrays["idf"],
                    arrays["indptr"], arrays["alias"], arrays["weight"], arrays["alias_movie"],
                    StringTable(arrays["alias_text_offsets"], arrays["alias_text_blob"]))
        if not (len(index.vocabulary) == len(index.idf) == len(index.indptr) - 1
                and len(index.alias) == len(index.weight) == index.indptr[-1]
                and len(index.alias_text) == len(index.alias_movie)):
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
        unseen_idf = self.unseen_idf
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
    def unseen_idf(self) -> float:
        """The idf of a feature no title has (scikit-learn's smooth idf of df = 0)."""
        return float(np.log(1.0 + len(self.alias_movie)) + 1.0)

    @functools.cached_property
    def _word_idf(self) -> dict[str, float]:
        return {}

    def word_idf(self, word: str) -> float:
        """Idf of a (canonical) word; a word no title has counts as the rarest."""
        cache = self._word_idf
        if word not in cache:
            pos = self.vocabulary.find(f"w:{word}")
            cache[word] = float(self.idf[pos]) if pos >= 0 else self.unseen_idf
        return cache[word]

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

        The ``CANDIDATES`` best TF-IDF cosines are re-ranked by ``title_rank`` (word
        coverage and popularity); scores are rounded to 1e-6 so float noise cannot
        decide, and ties go to the more popular movie, then to the lower position: the
        same query always picks the same movie. A year (``year``, or one at the end of
        the query) keeps only that year's movies; a year in the query is dropped when no
        movie of that year matches, because it may belong to the title ("Blade Runner
        2049").

        Args:
            query: what the user typed.
            popularity: per movie, e.g. its number of ratings (the prior).
            years: per movie release year (0 when unknown).
            year: only movies from this year, when given.
            k: how many candidates.

        Returns:
            Up to ``k`` candidates with a positive score; the caller decides whether the
            first is good enough (``MIN_MATCH_SCORE``).
        """
        full_text, stripped, query_year = parse_query(query)
        if year is not None:
            text = stripped if query_year == year else full_text
            return self._ranked(text, popularity, years, years == year, k)
        if query_year is not None:
            in_year = self._ranked(stripped, popularity, years, years == query_year, k)
            if in_year and in_year[0].score >= MIN_MATCH_SCORE:
                return in_year
        return self._ranked(full_text, popularity, years, None, k)

    def _ranked(self, text: str, popularity: np.ndarray, years: np.ndarray,
                allowed: np.ndarray | None, k: int) -> list[TitleMatch]:
        cosines = self.scores(text, len(popularity))
        if allowed is not None:
            cosines[~allowed] = 0.0
        candidates = np.flatnonzero(cosines > 0)
        if len(candidates) > CANDIDATES:
            best = np.argpartition(-cosines[candidates], CANDIDATES - 1)[:CANDIDATES]
            candidates = np.sort(candidates[best])
        counts = popularity[candidates].astype(np.int64)
        scores = np.round(title_rank.rank(
            title_rank.Words.of(canonical_words(text), self.word_idf, query=True),
            [title_rank.Candidate(self._aliases(int(pos)), float(cosines[pos]),
                                  int(popularity[pos]), int(years[pos]))
             for pos in candidates]), 6)
        order = np.lexsort((candidates, -counts, -scores))
        return [TitleMatch(int(candidates[i]), float(scores[i]))
                for i in order[:k] if scores[i] > 0]

    @functools.cached_property
    def _alias_cache(self) -> dict[int, list[title_rank.Words]]:
        return {}

    def _aliases(self, position: int) -> list[title_rank.Words]:
        """The movie's aliases as ``marked_words`` with idf weights (cached)."""
        if position not in self._alias_cache:
            first = int(np.searchsorted(self.alias_movie, position))
            stop = first
            while stop < len(self.alias_movie) and self.alias_movie[stop] == position:
                stop += 1
            aliases = []
            for row in range(first, stop):
                words, _, marked = marked_words(self.alias_text[row])
                aliases.append(title_rank.Words.of(words, self.word_idf, marked=marked))
            self._alias_cache[position] = aliases
        return self._alias_cache[position]


def alias_table(titles: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """All aliases of ``titles`` and the position of the title each belongs to."""
    aliases: list[str] = []
    owners: list[int] = []
    for pos, title in enumerate(titles):
        for alias in title_aliases(title):
            aliases.append(alias)
            owners.append(pos)
    return aliases, np.asarray(owners, dtype=np.int32)

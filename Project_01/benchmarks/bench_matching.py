"""How many rows of a Letterboxd export match the right movie: every rated title, written
the way Letterboxd writes it.

Letterboxd names a film by its main title with the article in front and no alternative
titles ("Matrix, The (1999)" is ``The Matrix``, 1999; "Amelie (Fabuleux destin d'Amélie
Poulain, Le) (2001)" is ``Amelie``, 2001). This script turns every rated movie of the data
set into such a row, optionally with every fifth year one off (``--shift-years``: the two
sites disagree by a year now and then), matches them the way ``--ratings-file`` does and
prints the share matched to the right movie, the share matched to another one and the
share left unmatched, then the misses::

    python Project_01/benchmarks/bench_matching.py --shift-years    # about 20 s
"""
from __future__ import annotations

import argparse
import csv
import importlib
import re
import sys
from collections.abc import Callable
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
BUNDLED_DIR = PROJECT_DIR / "data" / "ml-latest-small"
GOAL = 0.98
ARTICLES = ("The", "A", "An", "Les", "Le", "La", "L'", "Il", "Der", "Die", "Das", "El", "Los",
            "Las")
TITLE_AND_YEAR = re.compile(r"^(?P<name>.*) \((?P<year>\d{4})\)\s*$")
TRAILING_ARTICLE = re.compile(rf"^(?P<rest>.*), (?P<article>{'|'.join(ARTICLES)})$")


def letterboxd_name(title: str) -> tuple[str, int] | None:
    """(name, year) as Letterboxd writes a MovieLens title; None when it has no year.

    >>> letterboxd_name("Matrix, The (1999)")
    ('The Matrix', 1999)
    >>> letterboxd_name("Seven (a.k.a. Se7en) (1995)")
    ('Seven', 1995)
    """
    whole = TITLE_AND_YEAR.match(title.strip())
    if whole is None:
        return None
    name = whole["name"].split(" (", 1)[0]  # the main title, without alternative ones
    moved = TRAILING_ARTICLE.match(name)
    if moved:
        separator = "" if moved["article"].endswith("'") else " "
        name = f"{moved['article']}{separator}{moved['rest']}"
    return name, int(whole["year"])


def rated_titles(folder: Path) -> dict[int, str]:
    """movieId -> title of every movie with at least one rating."""
    with (folder / "ratings.csv").open(encoding="utf-8", newline="") as lines:
        rated = {int(row["movieId"]) for row in csv.DictReader(lines)}
    with (folder / "movies.csv").open(encoding="utf-8", newline="") as lines:
        return {int(row["movieId"]): row["title"] for row in csv.DictReader(lines)
                if int(row["movieId"]) in rated}


def match_all(folder: Path, shift_years: bool) -> tuple[dict[str, int], list[str]]:
    """Counts of right, wrong and unmatched rows, and a line for each miss."""
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    match = matcher_of(folder)
    counts = {"right": 0, "wrong": 0, "unmatched": 0}
    misses = []
    for line, (movie_id, title) in enumerate(rated_titles(folder).items(), start=2):
        named = letterboxd_name(title)
        if named is None:
            continue
        name, year = named[0], named[1] + int(shift_years and line % 5 == 0)
        found = match(line, name, year)
        outcome = ("right" if found == movie_id else
                   "unmatched" if found is None else "wrong")
        counts[outcome] += 1
        if outcome != "right":
            misses.append(f"  {name!r} ({year}) for {title}: {outcome}, got movieId {found}")
    return counts, misses


def matcher_of(folder: Path) -> Callable[[int, str, int], int | None]:
    """A function (line, name, year) -> the movieId ``--ratings-file`` matches on the data
    set in ``folder``, or None."""
    index_build = importlib.import_module("movie_recommender.index_build")
    recommender = importlib.import_module("movie_recommender.recommender").Recommender
    built = recommender.from_arrays(index_build.build_arrays(folder, progress=False))
    matching = importlib.import_module("movie_recommender.profile_matching")
    export_row = importlib.import_module("movie_recommender.ratings_export").ExportRow
    matcher = matching.ProfileMatcher(built.catalog, built.titles, {})

    def match(line: int, name: str, year: int) -> int | None:
        position = matcher.match(export_row(line, name, year, None, None, 4.0, None)).position
        return None if position is None else int(built.catalog.movie_ids[position])
    return match


def main(argv: list[str] | None = None) -> int:
    """Match every rated title written the Letterboxd way; print the shares and the misses."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=BUNDLED_DIR,
                        help="MovieLens folder (movies.csv, ratings.csv)")
    parser.add_argument("--shift-years", action="store_true",
                        help="write every fifth year one later")
    args = parser.parse_args(argv)
    counts, misses = match_all(args.data_dir, args.shift_years)
    total = sum(counts.values())
    shares = ", ".join(f"{name} {count / total:.2%}" for name, count in counts.items())
    verdict = "met" if counts["right"] / total >= GOAL else "NOT met"
    print(f"{total:,} Letterboxd-style rows on {args.data_dir.name}"
          f"{' (every fifth year one off)' if args.shift_years else ''}: {shares}; "
          f"goal >= {GOAL:.0%} right: {verdict}")
    print("\n".join(misses))
    return 0

if __name__ == "__main__":
    sys.exit(main())

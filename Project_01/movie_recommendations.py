"""Recommend movies that fans of a title also liked.

TF-IDF title search finds the movie you typed; collaborative filtering on MovieLens
ratings recommends what its fans liked too. Works offline on the bundled
ml-latest-small; larger MovieLens sets are downloaded once and indexed in a cache.
"""
from __future__ import annotations

import argparse
import csv
import difflib
import importlib
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

import numpy as np
from dotenv import load_dotenv

from movie_recommender import (ArraysMismatchError, MovieRecommenderError, index, liked, output,
                               profile_ease, profile_matching, profile_output, profile_scorers,
                               ratings_export, scorers)
from movie_recommender.locations import (DATASETS, LINKS_FILE, MOVIES_FILE, RATINGS_FILE,
                                         default_cache_dir)
from movie_recommender.logging_config import LOG_LEVELS, configure_logging
from movie_recommender.recommender import Answer, Recommender

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent
INTERRUPTED = 130  # exit code after Ctrl-C: 128 + SIGINT, as shells report it
BUNDLED_DATASET = "ml-latest-small"
BUNDLED_DIR = PROJECT_DIR / "data" / BUNDLED_DATASET
DEFAULT_MIN_RATINGS = 10
ID_PREFIX = "id:"
EVALUATION_K = 10
BATCH_GIVE_UP = 20
"""A --batch file whose first this many lines all fail is not a list of titles."""
PROTOCOLS = ("last-liked", "profile")
CSV_HEADER_FIELDS = frozenset({"userid", "movieid", "rating", "timestamp", "tag", "genres"})


class BatchFileError(MovieRecommenderError):
    """The ``--batch`` file cannot be read."""


class QueryError(MovieRecommenderError):
    """A query that looks like ``id:<movieId>`` but has no number after the colon."""


def _non_empty(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text.strip()


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None


def _positive(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _not_negative(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (kept apart from ``main`` so tests can inspect it)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    query = parser.add_mutually_exclusive_group(required=True)
    query.add_argument("--movie-title", type=_non_empty,
                       help='a title you liked, e.g. "Toy Story" or "Hamlet 1996"')
    query.add_argument("--batch", type=Path, metavar="FILE",
                       help="answer every line of FILE (a title or id:<movieId>; - reads "
                            "standard input); JSON Lines on stdout")
    query.add_argument("--ratings-file", type=Path, metavar="PATH",
                       help="recommend for you from your ratings export (Letterboxd, IMDb, "
                            "movieId,rating or title,rating[,year][,date])")
    query.add_argument("--evaluate", action="store_true",
                       help="measure every method offline (HR@10, NDCG@10) instead")
    parser.add_argument("--protocol", choices=PROTOCOLS, default=PROTOCOLS[0],
                        help="--evaluate: one liked movie as the query (last-liked), or a "
                             "user's whole history as a --ratings-file profile (profile)")
    parser.add_argument("--year", type=int, help="only match movies from this year")
    parser.add_argument("--top", type=_positive, default=10, help="number of recommendations")
    parser.add_argument("--genre", action="append", default=[], metavar="G",
                        help="only recommend movies of this genre (repeat for any of several)")
    parser.add_argument("--min-ratings", type=_not_negative, default=DEFAULT_MIN_RATINGS,
                        metavar="K", help="skip movies with fewer ratings than K")
    parser.add_argument("--method", choices=scorers.METHODS,
                        default=scorers.DEFAULT_METHOD,
                        help="how to score recommendations")
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="output format of --movie-title, --ratings-file and --evaluate")
    parser.add_argument("--dataset", choices=DATASETS, default=BUNDLED_DATASET,
                        help="MovieLens set; all but the bundled one are downloaded once")
    parser.add_argument("--data-dir", type=Path,
                        help="use this folder with movies.csv and ratings.csv instead")
    parser.add_argument("--cache-dir", type=Path,
                        help="where downloads and indexes are kept (default: $MOVIELENS_CACHE_DIR "
                             "or the user cache folder)")
    parser.add_argument("--rebuild-index", action="store_true",
                        help="rebuild the cached index even if it is up to date")
    parser.add_argument("--eval-users", type=_positive,
                        help="--evaluate on a random sample of this many users")
    parser.add_argument("--seed", type=int, default=0, help="random seed of --eval-users")
    parser.add_argument("--jobs", type=_positive, default=1,
                        help="--evaluate in this many processes (same figures, less time)")
    parser.add_argument("--log-level", default="INFO", choices=LOG_LEVELS,
                        help="how much to log on stderr")
    return parser


def check_options(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """Name a mistyped option ("--movie-titel": did you mean --movie-title?) before
    argparse would only say that a required option is missing."""
    known = [option for action in parser._actions  # pylint: disable=protected-access
             for option in action.option_strings]
    for token in argv:
        if token == "--":
            break
        name = token.split("=", 1)[0]
        if name.startswith("--") and name not in known \
                and not any(option.startswith(name) for option in known):
            close = difflib.get_close_matches(name, known, n=1)
            parser.error(f"unknown option {name}"
                         + (f"; did you mean {close[0]}?" if close else ""))


def data_folder(args: argparse.Namespace, cache_dir: Path) -> Path:
    """The MovieLens folder to use: ``--data-dir``, the bundled set, or a download."""
    if args.data_dir is not None:
        return args.data_dir
    if args.dataset == BUNDLED_DATASET:
        return BUNDLED_DIR
    # imported only to download: requests costs about 0.2 s, half a warm query
    download = importlib.import_module("movie_recommender.download")
    return download.fetch_dataset(args.dataset, cache_dir)


def load_recommender(folder: Path, cache_dir: Path, *, rebuild: bool) -> Recommender:
    """Open (building if needed) the index of ``folder`` and assemble the recommender.

    An index whose arrays do not fit this version of the code (e.g. written before the
    model gained an array) is rebuilt once rather than reported; when the cache cannot
    be written, the index is built in memory for this run (one warning).
    """
    try:
        arrays = index.open_index(folder, cache_dir, rebuild=rebuild)
    except index.IndexWriteError as err:
        logger.warning("%s; answering from an index built in memory (not kept)", err)
        builder = importlib.import_module("movie_recommender.index_build")
        return Recommender.from_arrays(builder.build_arrays(folder))
    try:
        return Recommender.from_arrays(arrays)
    except ArraysMismatchError as err:
        logger.warning("the index does not fit this version (%s); rebuilding it", err)
    try:
        return Recommender.from_arrays(index.open_index(folder, cache_dir, rebuild=True))
    except ArraysMismatchError as err:
        raise MovieRecommenderError(f"the index built from {folder} is inconsistent: {err}") \
            from err


def answer_query(recommender: Recommender, args: argparse.Namespace, text: str,
                 year: int | None) -> Answer:
    """Answer one title (or ``id:<movieId>``) with the options in ``args``.

    Raises:
        MovieRecommenderError: for an unknown title or id, or an unknown genre.
    """
    if text.lower().startswith(ID_PREFIX):
        try:
            movie_id = int(text[len(ID_PREFIX):])
        except ValueError as err:
            raise QueryError(f"{text!r} is not id:<movieId>") from err
        matches = recommender.find_id(movie_id)
    else:
        matches = recommender.find(text, year=year)
    return recommender.recommend(matches, method=args.method, top=args.top,
                                 genres=args.genre, min_ratings=args.min_ratings)


def batch_queries(path: Path) -> Iterator[str]:
    """Non-blank lines of a ``--batch`` file (``-``: standard input), stripped.

    Raises:
        BatchFileError: if the file cannot be read.
    """
    try:
        lines = (sys.stdin.read() if str(path) == "-"
                 else path.read_text(encoding="utf-8")).splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise BatchFileError(f"cannot read --batch file {path}: {err}") from err
    queries = [line.strip() for line in lines if line.strip()]
    if queries and len(set(queries[0].casefold().split(",")) & CSV_HEADER_FIELDS) >= 2:
        raise BatchFileError(f"--batch file {path} looks like a MovieLens CSV "
                             f"({queries[0]!r}), not one title or id:<movieId> per line")
    return iter(queries)


def run_batch(recommender: Recommender, args: argparse.Namespace, queries: Iterable[str],
              out: TextIO) -> int:
    """Answer each query as one JSON line; return 1 if any query failed, else 0.

    Raises:
        BatchFileError: when the first ``BATCH_GIVE_UP`` queries all fail.
    """
    failures = answered = 0
    for text in queries:
        query = output.query_fields(text, args.year)
        try:
            answer = answer_query(recommender, args, text, args.year)
            record = output.answer_to_dict(answer, recommender.catalog, query)
        except MovieRecommenderError as err:
            failures += 1
            if failures == answered + 1 == BATCH_GIVE_UP:
                raise BatchFileError(f"the first {BATCH_GIVE_UP} lines of the --batch file "
                                     "all failed: is it a list of titles?") from err
            logger.warning("%s", err)
            record = output.error_to_dict(query, str(err))
        answered += 1
        out.write(output.to_json(record) + "\n")
    if failures:
        logger.error("%d of the batch queries failed (see their \"error\" field)", failures)
    return 1 if failures else 0


def run_evaluation(folder: Path, args: argparse.Namespace) -> str:
    """Evaluate every method on ``folder``'s ratings; return the rendered report."""
    # the CSV reader (pyarrow), joblib and the progress bar are imported only here and
    # in the index build: a query never needs them
    dataset = importlib.import_module("movie_recommender.dataset")
    holdout = importlib.import_module("movie_recommender.holdout")
    evaluation = importlib.import_module("movie_recommender.evaluation")
    report = importlib.import_module("movie_recommender.report")
    movies = dataset.load_movies(folder / MOVIES_FILE)
    ratings = dataset.load_ratings(folder / RATINGS_FILE, movies.movie_ids)
    if args.protocol == "profile":
        return run_profile_evaluation(ratings, args)
    liked_users = ratings.user_idx[ratings.rating >= liked.LIKED_THRESHOLD]
    if not (np.bincount(liked_users) >= holdout.MIN_LIKED).any():
        raise dataset.DatasetError(f"cannot evaluate {folder}: no user has at least "
                                   f"{holdout.MIN_LIKED} liked ratings")
    measured = evaluation.evaluate(ratings, k=EVALUATION_K, users=holdout.UserSample(
        eval_users=args.eval_users, seed=args.seed), jobs=args.jobs)
    if args.format == "json":
        return output.to_json(report.report_to_dict(measured), indent=2)
    return report.format_table(measured, EVALUATION_K)


def run_profile_evaluation(ratings: liked.Ratings, args: argparse.Namespace) -> str:
    """The user-profile protocol (what ``--ratings-file`` does) on ``ratings``, rendered."""
    profile_evaluation = importlib.import_module("movie_recommender.profile_evaluation")
    report = importlib.import_module("movie_recommender.report")
    measured = profile_evaluation.evaluate_profiles(
        ratings, k=EVALUATION_K, seed=args.seed, max_users=args.eval_users)
    if args.format == "json":
        return output.to_json(report.profile_report_to_dict(measured), indent=2)
    return report.format_profile_table(measured, EVALUATION_K)


def read_links(folder: Path) -> dict[int, int]:
    """IMDb id -> movieId from the data set's ``links.csv`` (empty when it has none)."""
    path = folder / LINKS_FILE
    if not path.is_file():
        return {}
    links: dict[int, int] = {}
    with path.open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            if row.get("imdbId", "").isdigit() and row.get("movieId", "").isdigit():
                links[int(row["imdbId"])] = int(row["movieId"])
    return links


def read_matched(recommender: Recommender, folder: Path, path: Path
                 ) -> tuple[str, list[profile_matching.MatchedRow]]:
    """The format of the export at ``path`` and its rows matched to movies, with
    progress bars on stderr while reading and matching.

    Raises:
        MovieRecommenderError: for an unreadable or unknown file, or when nothing matched.
    """
    tqdm = importlib.import_module("tqdm").tqdm  # only here: a title query never needs it
    size = path.stat().st_size if path.is_file() else 0
    with tqdm(total=size, desc="reading ratings", unit="B", unit_scale=True,
              disable=None) as progress:
        export = ratings_export.read_export(
            path, on_progress=lambda done: progress.update(done - progress.n))
    if export.duplicates:
        logger.warning("%s: %d repeated %s merged (the newest kept)", path,
                       export.duplicates, "row" if export.duplicates == 1 else "rows")
    links = read_links(folder) if export.format == ratings_export.IMDB else {}
    matcher = profile_matching.ProfileMatcher(recommender.catalog, recommender.titles, links)
    return export.format, profile_matching.match_rows(
        matcher, tqdm(export.rows, desc="matching titles", unit="row", disable=None))


def run_profile(recommender: Recommender, folder: Path, cache_dir: Path,
                args: argparse.Namespace) -> str:
    """Recommend for the ratings export in ``args.ratings_file``; return the rendered answer.

    EASE recommends (fitted once per data set and cached beside the index), item-item
    tops the list up when EASE has fewer than ``--top``.

    Raises:
        MovieRecommenderError: for an unreadable or unknown file, or when nothing matched.
    """
    kind, matched = read_matched(recommender, folder, args.ratings_file)
    profile = profile_scorers.make_profile(*profile_matching.profile_arrays(matched),
                                           threshold=liked.LIKED_THRESHOLD)
    if len(profile.liked) == 0:
        raise profile_matching.NothingMatchedError(
            f"no matched movie of {args.ratings_file} is rated {liked.LIKED_THRESHOLD:g} "
            "or more: nothing to recommend from")
    catalog = recommender.catalog
    exclude = catalog.n_ratings < args.min_ratings
    if args.genre:
        exclude |= (catalog.genre_bits & catalog.genre_mask(args.genre)) == 0
    ease = profile_ease.load_or_fit(recommender.model,
                                    profile_ease.cache_folder(folder, cache_dir))
    found = profile_ease.recommend(ease, recommender.model, profile, top=args.top,
                                   exclude=exclude)
    if args.format == "json":
        return output.to_json(profile_output.profile_to_dict(kind, matched, found, catalog),
                              indent=2)
    return profile_output.format_profile_table(kind, matched, found, catalog)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 handled error, 2 usage,
    130 interrupted by Ctrl-C)."""
    parser = build_parser()
    check_options(parser, sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    try:
        code = _run(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except BrokenPipeError:  # the reader left (e.g. "| head -1"): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the exit's flush cannot fail again
        return 0


def _run(args: argparse.Namespace) -> int:
    """Answer the parsed command line (``main`` without the broken-pipe handling)."""
    load_dotenv()
    try:
        cache_dir = args.cache_dir or default_cache_dir()
        folder = data_folder(args, cache_dir)
        if args.evaluate:
            print(run_evaluation(folder, args))
            return 0
        recommender = load_recommender(folder, cache_dir, rebuild=args.rebuild_index)
        if args.batch is not None:
            return run_batch(recommender, args, batch_queries(args.batch), sys.stdout)
        if args.ratings_file is not None:
            print(run_profile(recommender, folder, cache_dir, args))
            return 0
        answer = answer_query(recommender, args, args.movie_title, args.year)
    except MovieRecommenderError as err:
        logger.error("%s", err)
        return 1
    except KeyboardInterrupt:
        logger.error("interrupted")
        return INTERRUPTED
    if args.format == "json":
        query = output.query_fields(args.movie_title, args.year)
        print(output.to_json(output.answer_to_dict(answer, recommender.catalog, query), indent=2))
    else:
        print(output.format_table(answer, recommender.catalog))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fetch podcast RSS feeds, store their episodes in SQLite and download the audio.

Without a mode it syncs: fetch -> parse -> store -> download -> the publishers'
transcripts and chapters (-> transcribe with --transcribe, where no publisher transcript
exists). The modes list, search and export read what is stored; the mode transcribe
transcribes episodes already downloaded.
"""
import argparse
import difflib
import logging
import math
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from tqdm.contrib.logging import logging_redirect_tqdm

from podcast_pipeline import (PodcastError, catalog, cli_output, database, episode_search,
                              pipeline, segment_store, transcription)
from podcast_pipeline.logging_config import LOG_LEVELS, configure_logging
from podcast_pipeline.settings import (DATA_DIR_ENV, DEFAULT_FEED_URL, DEFAULT_MAX_DOWNLOADS,
                                       DEFAULT_MAX_TRANSCRIPTIONS, DEFAULT_TIMEOUT,
                                       DEFAULT_WORKERS, check_data_dir, describe_os_error,
                                       resolve_data_dir)
from podcast_pipeline.subscriptions import read_feed_list
from podcast_pipeline.transcript_export import export_transcripts

logger = logging.getLogger(__name__)
PROJECT_DIR = Path(__file__).resolve().parent
FAILED = 1  # a handled error: a feed could not be fetched or stored, a bad file...
USAGE = 2  # argparse: a bad command line
DOWNLOADS_FAILED = 3  # every feed was stored, but some audio downloads failed
INTERRUPTED = 130  # exit code after Ctrl-C: 128 + SIGINT, as shells report it
MAX_COUNT = 2**63 - 1  # the largest integer SQLite stores (a larger --limit cannot be bound)


def _whole_number(text: str, minimum: int) -> int:
    """Return ``text`` as an int in ``minimum..MAX_COUNT``; raise ArgumentTypeError else.

    >>> _whole_number("0", 1)
    Traceback (most recent call last):
    argparse.ArgumentTypeError: '0' must be a whole number from 1 to 9223372036854775807
    """
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not minimum <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be a whole number from {minimum} to {MAX_COUNT}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: a whole number >= 0 (and small enough for SQLite)."""
    return _whole_number(text, 0)


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1 (and small enough for SQLite)."""
    return _whole_number(text, 1)


def feed_url(text: str) -> str:
    """argparse type: an http(s) URL with a host.

    >>> feed_url(" https://example.com/feed.xml ")
    'https://example.com/feed.xml'
    """
    url = text.strip()
    scheme, _, rest = url.partition("://")
    if scheme.lower() not in ("http", "https") or not rest.split("/")[0]:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL")
    return url


def positive_float(text: str) -> float:
    """argparse type: a number of seconds > 0."""
    try:
        value = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from err
    if value <= 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0")
    return value


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (no usage block), exit 2."""

    def error(self, message: str):  # type: ignore[override]  # argparse's own signature
        """Print ``prog: error: message`` and exit with code 2."""
        self.exit(USAGE, f"{self.prog}: error: {message} (see --help)\n")


def reject_unknown_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """Name a mistyped ``--option`` (argparse would report its value as an invalid mode).

    Any prefix of a known option is accepted, as argparse accepts abbreviations.
    """
    known = _option_strings(parser)
    for token in argv:
        if token == "--":
            break
        name = token.split("=", 1)[0]
        if name.startswith("--") and not any(option.startswith(name) for option in known):
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            parser.error(f"unrecognized option {name}{hint}")


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Every ``--option`` of ``parser`` and of its sub-commands."""
    options = set()
    for action in parser._actions:  # pylint: disable=protected-access  # no public list
        options.update(option for option in action.option_strings if option.startswith("--"))
        if isinstance(action, argparse._SubParsersAction):  # pylint: disable=protected-access
            for sub in action.choices.values():
                options |= _option_strings(sub)
    return options


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show each option's default, except the uninformative None and False."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def _add_common_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """Options every mode takes (SUPPRESS in sub-commands keeps the main parser's value)."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--data-dir", type=Path, default=default, metavar="DIR",
                        help=f"folder of the database and audio (else ${DATA_DIR_ENV}, "
                             "from the environment or Project_02/.env; else Project_02/data)")
    parser.add_argument("--log-level", choices=LOG_LEVELS,
                        default=argparse.SUPPRESS if suppress else "INFO",
                        help="how much to log on stderr")


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (kept apart from ``main`` so tests can inspect it)."""
    parser = Parser(prog="podcast_summary.py", description=__doc__,
                    formatter_class=HelpFormatter)
    _add_common_options(parser, suppress=False)
    sync = parser.add_argument_group("sync (the default run)")
    sync.add_argument("--feed-url", action="append", metavar="URL", type=feed_url,
                      help=f"RSS feed to sync; repeatable (without --feed-url and --feeds-file: "
                           f"{DEFAULT_FEED_URL})")
    sync.add_argument("--feeds-file", type=Path, metavar="FILE",
                      help="file of feeds: one URL a line, or OPML")
    sync.add_argument("--no-download", action="store_true",
                      help="store episodes but download no audio (the publishers' "
                           "transcripts and chapters, small text files, are still fetched)")
    sync.add_argument("--max-downloads", type=non_negative_int, default=DEFAULT_MAX_DOWNLOADS,
                      metavar="N", help="download at most N episodes this run (0: no limit)")
    sync.add_argument("--workers", type=positive_int, default=DEFAULT_WORKERS, metavar="N",
                      help="parallel downloads")
    sync.add_argument("--keep", type=positive_int, metavar="N",
                      help="keep only the newest N downloaded files per podcast")
    sync.add_argument("--timeout", type=positive_float, default=DEFAULT_TIMEOUT, metavar="S",
                      help="seconds to wait for a connection or for data")
    sync.add_argument("--transcribe", action="store_true",
                      help="then transcribe downloaded episodes offline (needs "
                           f"{transcription.INSTALL_HINT})")
    sync.add_argument("--max-transcriptions", type=non_negative_int,
                      default=DEFAULT_MAX_TRANSCRIPTIONS, metavar="N",
                      help="transcribe at most N episodes, newest first (0: no limit)")

    modes = parser.add_subparsers(dest="mode", metavar="MODE", title="modes",
                                  parser_class=Parser,
                                  description="read what is stored (without a mode: sync)")
    formatter = HelpFormatter
    listing = modes.add_parser("list", help="newest stored episodes, or one with its chapters",
                               formatter_class=formatter)
    listing.add_argument("--episode", type=positive_int, metavar="ID",
                         help="show only this episode (the id from --format json), with its "
                              "chapters: start time and title")
    listing.add_argument("--podcast", help="only podcasts whose title or feed URL contains this")
    listing.add_argument("--limit", type=positive_int, default=20, help="rows to show")
    listing.add_argument("--format", choices=("table", "json"), default="table",
                         help="a table for people or JSON for programs")
    search_help = ("full-text search of titles, descriptions and transcripts; each matching "
                   "transcript segment is shown with its start time (12:34 or 1:02:03)")
    search = modes.add_parser("search", formatter_class=formatter, help=search_help,
                              description=search_help)
    search.add_argument("text", help="words that must all appear (in one transcript segment)")
    search.add_argument("--limit", type=positive_int, default=20, help="episodes to show")
    search.add_argument("--format", choices=("table", "json"), default="table",
                        help="a table for people or JSON (with the matching snippet and "
                             "segments, start_seconds and start) for programs")
    export = modes.add_parser("export", help="all stored episodes as CSV or JSON on stdout, "
                                             "or transcripts as .vtt files",
                              formatter_class=formatter)
    export.add_argument("--format", choices=("csv", "json"), default="csv", help="output format")
    export.add_argument("--transcripts", type=Path, metavar="DIR",
                        help="instead, write one WebVTT file per episode with a transcript "
                             "(publisher or generated) into this existing folder")
    export.add_argument("--podcast", help="only podcasts whose title or feed URL contains this")
    transcribe = modes.add_parser(
        "transcribe", formatter_class=formatter,
        help="transcribe downloaded episodes that have no transcript yet, newest first")
    transcribe.add_argument("--max-transcriptions", type=non_negative_int,
                            default=argparse.SUPPRESS, metavar="N",
                            help="transcribe at most N episodes (0: no limit; default "
                                 f"{DEFAULT_MAX_TRANSCRIPTIONS})")
    for sub in (listing, search, export, transcribe):
        _add_common_options(sub, suppress=True)
    return parser


def run_sync(args: argparse.Namespace, data_dir: Path) -> int:
    """Sync the chosen feeds; print the per-feed and total counts.

    Returns:
        0, ``FAILED`` if any feed failed, else ``DOWNLOADS_FAILED`` if any download did.
    """
    if args.transcribe:
        transcription.check_available()  # before anything is fetched or stored
    feed_urls = list(args.feed_url or [])
    if args.feeds_file is not None:
        feed_urls += read_feed_list(args.feeds_file)
    downloads = None if args.no_download else pipeline.DownloadOptions(
        max_downloads=args.max_downloads or None, workers=args.workers, keep=args.keep)
    with logging_redirect_tqdm():  # log lines do not break the download progress bars
        summary = pipeline.sync(data_dir, feed_urls or [DEFAULT_FEED_URL],
                                downloads=downloads, timeout=args.timeout)
    for failure in summary.failed_feeds:  # logged here only (pipeline.py: "Errors")
        logger.error("%s", failure.error)
    if summary.feeds:
        print(cli_output.sync_report(summary))
        if args.transcribe:
            run_transcribe(args, data_dir)
    if summary.failed_feeds:
        return FAILED
    return DOWNLOADS_FAILED if summary.downloads and summary.downloads.failed else 0


def run_transcribe(args: argparse.Namespace, data_dir: Path) -> int:
    """Transcribe downloaded episodes without a transcript; print the counts."""
    transcription.check_available()
    if not pipeline.db_path(data_dir).exists():
        raise PodcastError(f"no database at {pipeline.db_path(data_dir)}; run a sync first")
    with logging_redirect_tqdm():  # log lines do not break the progress bar
        summary = pipeline.transcribe(data_dir,
                                      max_transcriptions=args.max_transcriptions or None)
    print(cli_output.transcription_report(summary))
    return 0


def run_query(args: argparse.Namespace, data_dir: Path) -> int:
    """Run ``list``, ``search`` or ``export`` on the stored episodes."""
    db_file = pipeline.db_path(data_dir)
    if not db_file.exists():
        raise PodcastError(f"no database at {db_file}; run a sync first")
    conn = database.connect(db_file)
    try:
        rows: list[dict[str, Any]]
        if args.mode == "list" and args.episode is not None:
            show_episode(conn, args.episode, args.format)
        elif args.mode in ("search", "list"):
            searching = args.mode == "search"
            rows = (episode_search.search(conn, args.text, limit=args.limit) if searching
                    else catalog.list_episodes(conn, podcast=args.podcast, limit=args.limit))
            if args.format == "json":
                print(cli_output.episodes_json(rows, snippets=searching))
            else:
                print(cli_output.episodes_table(rows, snippets=searching))
        elif args.transcripts is not None:
            if not args.transcripts.is_dir():
                raise PodcastError(f"{args.transcripts} is not a folder; create it first")
            written = export_transcripts(conn, args.transcripts, podcast=args.podcast)
            print(f"{len(written)} transcripts written to {args.transcripts}")
        else:
            rows = catalog.list_episodes(conn, podcast=args.podcast, limit=None)
            render = cli_output.episodes_json if args.format == "json" else cli_output.episodes_csv
            sys.stdout.write(render(rows) + ("\n" if args.format == "json" else ""))
    finally:
        conn.close()
    return 0


def show_episode(conn: sqlite3.Connection, episode_id: int, output_format: str) -> None:
    """Print one stored episode with its chapters (``list --episode ID``)."""
    row = catalog.episodes_by_id(conn, [episode_id]).get(episode_id)
    if row is None:
        raise PodcastError(f"no episode with id {episode_id}; see list --format json")
    row["chapters"] = segment_store.chapters_of(conn, episode_id)
    print(cli_output.episodes_json([row]) if output_format == "json"
          else cli_output.episode_table(row))


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code: 0 ok, 1 (``FAILED``) handled error,
    2 usage, 3 (``DOWNLOADS_FAILED``) some downloads failed, 130 interrupted by Ctrl-C."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    reject_unknown_options(parser, argv)
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    load_dotenv(PROJECT_DIR / ".env")  # never overrides variables already set
    data_dir = resolve_data_dir(args.data_dir)
    try:
        check_data_dir(data_dir)
        if args.mode is None:
            return run_sync(args, data_dir)
        if args.mode == "transcribe":
            return run_transcribe(args, data_dir)
        return run_query(args, data_dir)
    except PodcastError as err:
        logger.error("%s", err)
        return FAILED
    except (OSError, sqlite3.Error) as err:  # e.g. a read-only data folder or database
        logger.error("%s", describe_os_error(err))
        return FAILED
    except KeyboardInterrupt:
        logger.error("interrupted: episodes stored before are kept, the feed being stored "
                     "was rolled back, and partial downloads resume on the next run")
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

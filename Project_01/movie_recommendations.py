"""Recommend movies that fans of a title also loved.

TF-IDF title search, then collaborative filtering on MovieLens ratings.
"""
import argparse
import logging
import sys

from movie_recommender.logging_config import LOG_LEVELS, configure_logging

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (kept apart from ``main`` so tests can inspect it)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--log-level", default="INFO", choices=LOG_LEVELS,
                        help="how much to log on stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 handled error, 2 usage)."""
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    logger.error("the movie recommender is not built yet (issue #4)")
    return 1


if __name__ == "__main__":
    sys.exit(main())

"""Logging set-up for the command-line entry point (never called at import time)."""
import logging.config

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def configure_logging(level: str = "INFO") -> None:
    """Send log records of ``level`` and above to stderr, one short line each.

    Args:
        level: one of ``LOG_LEVELS``.
    """
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"console": {"format": "%(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler",
                                "stream": "ext://sys.stderr",
                                "formatter": "console"}},
        "root": {"level": level, "handlers": ["stderr"]},
        # urllib3 logs every retry as a warning; the pipeline reports the outcome itself.
        "loggers": {"urllib3": {"level": "DEBUG" if level == "DEBUG" else "ERROR"}},
    })

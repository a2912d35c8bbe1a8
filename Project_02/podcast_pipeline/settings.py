"""Defaults of the podcast pipeline and where its data folder lives."""
import os
import sqlite3
from pathlib import Path

from podcast_pipeline import PodcastError

DEFAULT_FEED_URL = "https://www.marketplace.org/feed/podcast/marketplace/"
DATA_DIR_ENV = "PODCAST_DATA_DIR"
DB_FILENAME = "podcasts.db"
AUDIO_DIRNAME = "audio"
FEEDS_DIRNAME = "feeds"
TRANSCRIPTS_DIRNAME = "transcripts"  # publisher transcripts and chapters as fetched

DEFAULT_TIMEOUT = 30.0              # seconds to connect and between bytes received
DEFAULT_WORKERS = 4                 # parallel audio downloads
DEFAULT_MAX_DOWNLOADS = 10          # newest episodes downloaded per run
DEFAULT_MAX_TRANSCRIPTIONS = 3      # newest episodes transcribed per run (~0.3 s per audio s)
MAX_FEED_BYTES = 512 * 1024 ** 2    # a feed larger than this is refused
MAX_AUDIO_BYTES = 2 * 1024 ** 3     # an episode file larger than this is refused


def default_data_dir() -> Path:
    """Return ``Project_02/data``, the data folder when nothing else is configured."""
    return Path(__file__).resolve().parents[1] / "data"


def resolve_data_dir(cli_value: Path | None) -> Path:
    """Choose the data folder: the CLI flag, else ``$PODCAST_DATA_DIR``, else the default.

    Args:
        cli_value: the ``--data-dir`` value, or None when the flag was not given.

    Returns:
        An absolute path (the folder may not exist yet).
    """
    if cli_value is not None:
        return cli_value.expanduser().resolve()
    from_env = os.environ.get(DATA_DIR_ENV, "").strip()
    if from_env:
        return Path(from_env).expanduser().resolve()
    return default_data_dir()


def check_data_dir(data_dir: Path) -> None:
    """Refuse a data folder path that names something other than a folder.

    Raises:
        PodcastError: ``data_dir`` (or one of its parents) is a file.
    """
    for path in (data_dir, *data_dir.parents):
        if path.exists():
            if not path.is_dir():
                raise PodcastError(f"the data folder {data_dir} is not a folder: "
                                   f"{path} is a file")
            return


def describe_os_error(err: OSError | sqlite3.Error) -> str:
    """Return one readable line for an OS or SQLite error (no class names, no traceback).

    >>> describe_os_error(PermissionError(13, "Permission denied", "/srv/podcasts/.lock"))
    'cannot use /srv/podcasts/.lock: Permission denied'
    >>> describe_os_error(sqlite3.OperationalError("attempt to write a readonly database"))
    'database error: attempt to write a readonly database'
    """
    if isinstance(err, OSError):
        where = f"cannot use {err.filename}: " if err.filename else ""
        return where + (err.strerror or str(err))
    return f"database error: {err}"

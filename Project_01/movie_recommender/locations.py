"""Where MovieLens data sets live: their names, their file names and the default cache folder.

Kept apart from ``download`` (which imports requests, about 0.2 s) so the command
line can name the data sets and find the cache without paying for the network stack
on a warm query.
"""
import os
from pathlib import Path

import platformdirs

DATASETS = ("ml-latest-small", "ml-25m", "ml-32m", "ml-latest")
MOVIES_FILE = "movies.csv"
RATINGS_FILE = "ratings.csv"
TAGS_FILE = "tags.csv"
LINKS_FILE = "links.csv"
SOURCE_FILES = (MOVIES_FILE, RATINGS_FILE)
"""The files every MovieLens folder must hold."""
OPTIONAL_FILES = (TAGS_FILE,)
"""Files used when a MovieLens folder has them (ml-latest-small, ml-25m do)."""
CACHE_DIR_ENV = "MOVIELENS_CACHE_DIR"


def default_cache_dir() -> Path:
    """Return the folder datasets are cached in when ``--cache-dir`` is not given.

    Returns:
        ``$MOVIELENS_CACHE_DIR`` if set and not empty (``.env`` is loaded by the CLI),
        else the platform's user cache folder, e.g. ``~/.cache/mlops-essentials/movielens``
        on Linux.
    """
    configured = os.environ.get(CACHE_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_cache_path("mlops-essentials", appauthor=False) / "movielens"

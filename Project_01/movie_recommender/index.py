"""The binary index in the cache folder: built once per data set, then opened memory-mapped.

Layout of ``<cache>/index/<folder name>-<path hash>/``::

    manifest.json        format version, code and source stamps, array shapes, current build
    build-<id>/<name>.npy  one plain .npy file per array (no pickles)

The manifest ties the index to its sources (each CSV's size, mtime and a content digest)
and to the code that built it (a digest of the modules that decide its content). An index
from another format version or other code, whose sources changed, or with a missing or
damaged file is rebuilt, never used. A build is written to a temporary folder that is
renamed when complete; the manifest is replaced last, in one ``os.replace``.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from movie_recommender import MovieRecommenderError
from movie_recommender.locations import OPTIONAL_FILES, SOURCE_FILES

logger = logging.getLogger(__name__)

FORMAT_VERSION = 3
MANIFEST = "manifest.json"
WHOLE_FILE_LIMIT = 8 << 20
SAMPLE_BLOCKS, SAMPLE_BLOCK_SIZE = 32, 64 << 10
STALE_TEMP_SECONDS = 3600
BUILD_MODULES = ("catalog.py", "content.py", "dataset.py", "index.py", "index_build.py", "liked.py",
                 "locations.py", "title_search.py")
"""The modules whose code decides what an index holds (read as files, never imported)."""


class IndexWriteError(MovieRecommenderError):
    """The index could not be written to the cache folder."""


class SourceFileError(MovieRecommenderError):
    """A source CSV of the index is missing or unreadable."""


class StaleIndexError(Exception):
    """The stored index cannot be used (missing, outdated or damaged); the reason says why.

    Internal: ``open_index`` answers it by rebuilding, so it never reaches the user.
    """


def content_digest(path: Path) -> str:
    """Digest of a file's content: all of it up to 8 MiB, else 32 evenly spaced 64 KiB blocks.

    Sampling keeps the check cheap enough to run on every query, even for a 700 MB
    ``ratings.csv``; together with size and mtime it catches any real edit.
    """
    size = path.stat().st_size
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as stream:
        if size <= WHOLE_FILE_LIMIT:
            digest.update(stream.read())
        else:
            for offset in np.linspace(0, size - SAMPLE_BLOCK_SIZE, SAMPLE_BLOCKS).astype(np.int64):
                stream.seek(int(offset))
                digest.update(stream.read(SAMPLE_BLOCK_SIZE))
    return digest.hexdigest()


def code_digest() -> str:
    """Digest of ``BUILD_MODULES``: an index built by other code (e.g. before an update
    that changed an array's meaning) is rebuilt rather than misread."""
    digest = hashlib.blake2b(digest_size=16)
    package = Path(__file__).resolve().parent
    for name in BUILD_MODULES:
        digest.update((package / name).read_bytes())
    return digest.hexdigest()


def source_stamps(folder: Path) -> dict[str, dict[str, int | str] | None]:
    """Size, mtime and content digest of each source CSV in ``folder``.

    An optional file (``OPTIONAL_FILES``) that is absent is stamped None, so adding it
    later rebuilds the index.

    Raises:
        SourceFileError: if a required source file is missing or any is unreadable.
    """
    stamps: dict[str, dict[str, int | str] | None] = {}
    for name in SOURCE_FILES + OPTIONAL_FILES:
        path = folder / name
        if name in OPTIONAL_FILES and not path.exists():
            stamps[name] = None
            continue
        try:
            stat = path.stat()
            stamps[name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                            "digest": content_digest(path)}
        except FileNotFoundError as err:
            raise SourceFileError(
                f"{path} not found: a MovieLens folder needs {' and '.join(SOURCE_FILES)}"
            ) from err
        except OSError as err:
            raise SourceFileError(f"cannot read {path}: {err.strerror}") from err
    return stamps


def index_dir(cache_dir: Path, folder: Path) -> Path:
    """Index folder of the data set in ``folder`` (one per distinct source folder)."""
    resolved = str(folder.resolve())
    key = hashlib.blake2b(resolved.encode("utf-8"), digest_size=5).hexdigest()
    return cache_dir / "index" / f"{folder.resolve().name}-{key}"


def open_index(folder: Path, cache_dir: Path, *, rebuild: bool = False,
               progress: bool | None = None) -> dict[str, np.ndarray]:
    """Arrays of ``folder``'s index, memory-mapped; (re)built first when needed.

    Args:
        folder: MovieLens folder with ``movies.csv`` and ``ratings.csv``.
        cache_dir: where indexes are kept (``index/`` below it).
        rebuild: build even if a valid index exists.
        progress: show the build's progress bar (None: when stderr is a terminal).

    Returns:
        Named arrays (see ``index_build.build_arrays``), read-only.

    Raises:
        SourceFileError: for a missing or unreadable source CSV.
        IndexWriteError: for an unwritable cache folder.
        DatasetError: when a source CSV breaks the MovieLens contract (during a build).
    """
    directory = index_dir(cache_dir, folder)
    # taken before reading, so an edit during a build shows next time
    stamps = {"code": code_digest(), "sources": source_stamps(folder)}
    if not rebuild:
        try:
            arrays = read_index(directory, stamps)
            logger.debug("using the index in %s", directory)
            return arrays
        except StaleIndexError as reason:
            logger.info("building the index for %s (%s)", folder, reason)
    else:
        logger.info("rebuilding the index for %s (--rebuild-index)", folder)
    started = time.perf_counter()
    # imported here, not at the top: pyarrow and scikit-learn cost over a second to
    # import and only a build needs them
    builder = importlib.import_module("movie_recommender.index_build")
    write_index(directory, builder.build_arrays(folder, progress=progress), stamps)
    logger.info("index built in %.1f s: %s", time.perf_counter() - started, directory)
    try:
        return read_index(directory, stamps)
    except StaleIndexError as err:
        raise IndexWriteError(f"the index just written to {directory} is unreadable: {err}") \
            from err


def read_index(directory: Path, stamps: Mapping[str, object]) -> dict[str, np.ndarray]:
    """Open a stored index memory-mapped after checking it against ``stamps``.

    ``stamps`` is ``{"code": code_digest(), "sources": source_stamps(folder)}``.

    Raises:
        StaleIndexError: when the index is absent, from another format version, other
            code or other sources, or has a missing, truncated or damaged array file.
    """
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise StaleIndexError("no index yet") from err
    except (OSError, ValueError) as err:
        raise StaleIndexError(f"unreadable manifest: {err}") from err
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise StaleIndexError(f"index format {manifest.get('format_version')!r} is not "
                              f"the current {FORMAT_VERSION}" if isinstance(manifest, dict)
                              else "unreadable manifest")
    if manifest.get("code") != stamps["code"]:
        raise StaleIndexError("built by another version of the code")
    if manifest.get("sources") != stamps["sources"]:
        old_sources = manifest.get("sources")
        old_sources = old_sources if isinstance(old_sources, dict) else {}
        changed = [name for name in SOURCE_FILES + OPTIONAL_FILES
                   if old_sources.get(name) != stamps["sources"].get(name)]
        raise StaleIndexError(f"source changed: {', '.join(changed) or 'file list'}")
    try:
        build = directory / manifest["build"]
        return {name: _load_array(build / f"{name}.npy", spec)
                for name, spec in manifest["arrays"].items()}
    except (KeyError, TypeError) as err:
        raise StaleIndexError(f"incomplete manifest: {err}") from err


def _load_array(path: Path, spec: Mapping[str, object]) -> np.ndarray:
    try:
        if path.stat().st_size != spec["file_size"]:
            raise StaleIndexError(f"{path.name} has {path.stat().st_size} bytes, "
                                  f"expected {spec['file_size']}")
        # an empty array cannot be memory-mapped; it costs nothing to read
        array = np.load(path, mmap_mode="r" if spec["shape"] != [0] else None,
                        allow_pickle=False)
    except (OSError, ValueError) as err:
        raise StaleIndexError(f"damaged array file {path.name}: {err}") from err
    if str(array.dtype) != spec["dtype"] or list(array.shape) != spec["shape"]:
        raise StaleIndexError(f"{path.name} holds {array.dtype}{list(array.shape)}, "
                              f"expected {spec['dtype']}{spec['shape']}")
    # a plain ndarray view of the same mapped memory: np.memmap's own indexing is slower
    return array.view(np.ndarray)


def write_index(directory: Path, arrays: Mapping[str, np.ndarray],
                stamps: Mapping[str, object]) -> None:
    """Store ``arrays`` as the index in ``directory``, atomically, with ``stamps``.

    The arrays go to a temporary folder that is renamed once complete; the manifest that
    points to it is replaced last, so a reader sees either the old index or the new one.

    Raises:
        IndexWriteError: when the cache folder cannot be written.
    """
    temp: Path | None = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=directory))
        specs = {}
        for name, array in arrays.items():
            path = temp / f"{name}.npy"
            np.save(path, np.ascontiguousarray(array), allow_pickle=False)
            specs[name] = {"dtype": str(array.dtype), "shape": list(array.shape),
                           "file_size": path.stat().st_size}
        build = f"build-{uuid.uuid4().hex[:12]}"
        os.replace(temp, directory / build)
        temp = None
        manifest = {"format_version": FORMAT_VERSION, "build": build, **stamps, "arrays": specs}
        manifest_temp = directory / f".{MANIFEST}.{os.getpid()}.tmp"
        manifest_temp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        os.replace(manifest_temp, directory / MANIFEST)
    except OSError as err:
        raise IndexWriteError(f"cannot write the index to {directory}: {err}") from err
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    _remove_old_builds(directory, keep=build)


def _remove_old_builds(directory: Path, keep: str) -> None:
    """Delete superseded builds, and temporary folders of builds that died long ago."""
    now = time.time()
    for entry in directory.iterdir():
        old_build = entry.name.startswith("build-") and entry.name != keep
        dead_temp = entry.name.startswith(".tmp-") and \
            now - entry.stat().st_mtime > STALE_TEMP_SECONDS
        if entry.is_dir() and (old_build or dead_temp):
            shutil.rmtree(entry, ignore_errors=True)

"""Download, verify and unpack the larger MovieLens datasets from GroupLens into a cache folder.

The one entry point is :func:`fetch_dataset`. Its steps are small functions of their own so
each can be read (and tested) alone:

1. :func:`fetch_expected_md5` reads the checksum GroupLens publishes next to each zip.
2. :func:`download_to_part` streams the zip into ``<name>.zip.part``, resuming with a
   ``Range`` request when an earlier run left a partial file.
3. :func:`verify_md5` compares the finished file with the published checksum; only then is
   ``.part`` renamed to ``<name>.zip``.
4. :func:`extract_safely` unpacks into a temporary folder, refusing members that would land
   outside it, and renames the folder holding ``movies.csv`` and ``ratings.csv`` into place.

Cache layout: ``<cache_dir>/<name>/movies.csv`` (plus the other files of the archive). The zip
is deleted once extracted. A second call finds the folder and does no network I/O.
"""
import contextlib
import hashlib
import logging
import os
import posixpath
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path, PureWindowsPath
from urllib.parse import urlsplit

import requests
from tqdm import tqdm

from movie_recommender import MovieRecommenderError
from movie_recommender.locations import DATASETS, SOURCE_FILES

logger = logging.getLogger(__name__)

GROUPLENS_BASE_URL = "https://files.grouplens.org/datasets/movielens/"
# Small enough that a dropped connection loses little (the unfinished chunk is re-fetched on
# resume), large enough that a 250 MB download is not dominated by per-chunk overhead.
CHUNK_SIZE = 64 * 1024
# Attempts per call when the connection drops mid-file; each retry resumes where it stopped.
DOWNLOAD_ATTEMPTS = 3

_MD5_PATTERN = re.compile(r"\b[0-9a-fA-F]{32}\b")
_CONTENT_RANGE_PATTERN = re.compile(r"bytes (\d+)-\d+/(\d+|\*)")
_ERRNO_PATTERN = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


class DownloadError(MovieRecommenderError):
    """A dataset could not be downloaded, verified or unpacked."""


class InterruptedDownloadError(DownloadError):
    """The connection ended before the whole file arrived; the ``.part`` file is kept."""


class UnknownDatasetError(DownloadError, ValueError):
    """A data-set name that is not one of ``DATASETS``."""


class ArchiveError(DownloadError):
    """The downloaded file is not a usable MovieLens zip (bad zip, unsafe member, no CSVs)."""


def fetch_dataset(name: str, cache_dir: Path, *, base_url: str = GROUPLENS_BASE_URL,
                  session: requests.Session | None = None, timeout: float = 30.0,
                  progress: bool | None = None) -> Path:
    """Return the folder holding ``movies.csv`` and ``ratings.csv`` of dataset ``name``.

    Downloads, verifies and unpacks the dataset on the first call; later calls return the
    cached folder without touching the network.

    Args:
        name: one of ``DATASETS``.
        cache_dir: folder that holds the downloads (created if missing).
        base_url: where ``<name>.zip`` and ``<name>.zip.md5`` are published.
        session: HTTP session to use (a new one is opened and closed if None).
        timeout: seconds to wait for the connection and for each read.
        progress: show a progress bar on stderr; None shows it only when stderr is a terminal.

    Returns:
        ``<cache_dir>/<name>``.

    Raises:
        UnknownDatasetError: ``name`` is not a known dataset.
        DownloadError: the host is unreachable, the server answers an error, the transfer
            is cut short, the checksum differs, or the archive is unsafe or unusable.
    """
    if name not in DATASETS:
        raise UnknownDatasetError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    cache_dir = Path(cache_dir)
    dataset_dir = cache_dir / name
    if has_required_files(dataset_dir):
        logger.info("Using cached dataset at '%s'", dataset_dir)
        return dataset_dir
    if dataset_dir.exists():
        raise DownloadError(f"{dataset_dir} exists but does not hold {' and '.join(SOURCE_FILES)}"
                            "; remove it or choose another --cache-dir")
    zip_path = cache_dir / f"{name}.zip"
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        if zip_path.exists():
            logger.info("Using the verified archive already downloaded at '%s'", zip_path)
        else:
            with _session_or_new(session) as http:
                download_verified_zip(http, f"{base_url.rstrip('/')}/{name}.zip", zip_path,
                                      timeout=timeout, progress=progress)
        try:
            extract_safely(zip_path, dataset_dir)
        except ArchiveError:
            zip_path.unlink(missing_ok=True)  # it will never extract; don't reuse it
            raise
        zip_path.unlink()
    except OSError as err:  # disk full, no permission, ... (network errors are translated below)
        raise DownloadError(f"cannot write the dataset into {cache_dir}: "
                            f"{err.strerror or err}") from err
    logger.info("Dataset %s ready at '%s'", name, dataset_dir)
    return dataset_dir


def has_required_files(folder: Path) -> bool:
    """Return True when ``folder`` holds every file in ``SOURCE_FILES``."""
    return all((folder / filename).is_file() for filename in SOURCE_FILES)


def download_verified_zip(session: requests.Session, url: str, zip_path: Path, *,
                          timeout: float, progress: bool | None) -> None:
    """Download ``url`` to ``zip_path`` via ``<zip_path>.part``, checked against ``<url>.md5``.

    A dropped connection is retried up to ``DOWNLOAD_ATTEMPTS`` times, each time resuming
    from the bytes already on disk. ``zip_path`` appears only once its md5 matches.

    Raises:
        DownloadError: see :func:`fetch_dataset`.
    """
    expected_md5 = fetch_expected_md5(session, f"{url}.md5", timeout=timeout)
    part_path = zip_path.with_name(f"{zip_path.name}.part")
    logger.info("Downloading %s to '%s'", url, zip_path.parent)
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            download_to_part(session, url, part_path, timeout=timeout, progress=progress)
            break
        except InterruptedDownloadError as err:
            if attempt == DOWNLOAD_ATTEMPTS:
                raise
            logger.warning("%s (attempt %d of %d); resuming", err, attempt, DOWNLOAD_ATTEMPTS)
    verify_md5(part_path, expected_md5, url=url)
    os.replace(part_path, zip_path)


def fetch_expected_md5(session: requests.Session, md5_url: str, *, timeout: float) -> str:
    """Return the hex digest published at ``md5_url`` (GroupLens' ``<name>.zip.md5``)."""
    # not streamed: the whole (tiny) body is read inside _get, where read errors are handled
    with _get(session, md5_url, timeout=timeout, stream=False) as response:
        _raise_for_status(response, md5_url)
        return parse_md5(response.text, source=md5_url)


def parse_md5(text: str, *, source: str = "the checksum file") -> str:
    """Return the lower-case md5 hex digest found in the text of a checksum file.

    Accepts ``md5sum`` output (``<digest>  ml-25m.zip``), BSD ``md5`` output
    (``MD5 (ml-25m.zip) = <digest>``) and a bare digest.

    Raises:
        DownloadError: the text holds no 32-digit hex digest.
    """
    match = _MD5_PATTERN.search(text)
    if match is None:
        raise DownloadError(f"{source} holds no md5 checksum")
    return match.group(0).lower()


def download_to_part(session: requests.Session, url: str, part_path: Path, *,
                     timeout: float, progress: bool | None = None) -> None:
    """Stream ``url`` into ``part_path``, resuming from its current size if it exists.

    Resuming sends ``Range: bytes=<size>-``. A server that ignores it (200), cannot satisfy
    it (416) or answers a different range makes the download start again from byte 0.

    Raises:
        InterruptedDownloadError: the body ended before ``Content-Length`` bytes arrived.
        DownloadError: the host is unreachable, times out or answers an HTTP error.
    """
    offset = part_path.stat().st_size if part_path.exists() else 0
    response, offset = _start_transfer(session, url, offset, timeout=timeout)
    with response:
        total = _expected_total(response, offset)
        with tqdm(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
                  desc=Path(urlsplit(url).path).name,
                  disable=None if progress is None else not progress) as progress_bar:
            received = _write_body(response, part_path, offset, url=url, total=total,
                                   on_chunk=progress_bar.update)
    if total is not None and received != total:
        raise InterruptedDownloadError(_interrupted_message(url, received, total))


def verify_md5(path: Path, expected: str, *, url: str) -> None:
    """Check ``path`` against the ``expected`` md5 digest; delete it when they differ.

    Raises:
        DownloadError: the digests differ (the bad file has been deleted).
    """
    actual = file_md5(path)
    if actual != expected.lower():
        path.unlink()
        raise DownloadError(f"checksum mismatch for {url}: expected md5 {expected}, got "
                            f"{actual}; the corrupt download was deleted, run again to retry")


def file_md5(path: Path) -> str:
    """Return the md5 hex digest of the file at ``path``, read in chunks."""
    digest = hashlib.md5()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(CHUNK_SIZE), b""):
            digest.update(block)
    return digest.hexdigest()


def extract_safely(zip_path: Path, dataset_dir: Path) -> None:
    """Unpack ``zip_path`` so that ``dataset_dir`` holds its ``movies.csv`` and ``ratings.csv``.

    Every member is checked before anything is written; the archive is unpacked into a
    temporary sibling folder, and the folder holding the CSVs (the archive's top-level
    ``<name>/`` or the archive root) is renamed to ``dataset_dir`` in one step.

    Raises:
        ArchiveError: not a zip, a member would land outside the target, or no CSVs.
    """
    staging = Path(tempfile.mkdtemp(prefix=f".{dataset_dir.name}-", dir=dataset_dir.parent))
    try:
        try:
            with zipfile.ZipFile(zip_path) as archive:
                unsafe = [name for name in archive.namelist() if not is_safe_member(name)]
                if unsafe:
                    raise ArchiveError(f"{zip_path.name} holds a member that would be written "
                                       f"outside {dataset_dir}: {unsafe[0]!r}; refusing to extract")
                archive.extractall(staging)
        except zipfile.BadZipFile as err:
            raise ArchiveError(f"{zip_path.name} is not a valid zip archive") from err
        os.replace(_find_data_folder(staging, zip_path.name), dataset_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def is_safe_member(name: str) -> bool:
    """Return True if the archive member ``name`` stays inside the folder it is extracted to.

    Absolute paths (``/x``, ``\\x``, ``C:x``) and paths climbing out with ``..`` are unsafe;
    backslashes count as separators so the check holds on every platform.
    """
    if PureWindowsPath(name).drive:
        return False
    normalized = posixpath.normpath(name.replace("\\", "/"))
    return not (normalized.startswith("/") or normalized == ".."
                or normalized.startswith("../"))


def _find_data_folder(root: Path, archive_name: str) -> Path:
    """Return ``root`` or its sub-folder that holds the required CSV files."""
    candidates = [root, *sorted(path for path in root.iterdir() if path.is_dir())]
    for folder in candidates:
        if has_required_files(folder):
            return folder
    raise ArchiveError(f"{archive_name} does not contain {' and '.join(SOURCE_FILES)}")


def _session_or_new(session: requests.Session | None
                    ) -> contextlib.AbstractContextManager[requests.Session]:
    """Use the caller's session as is, or open one that is closed afterwards."""
    return contextlib.nullcontext(session) if session is not None else requests.Session()


def _get(session: requests.Session, url: str, *, timeout: float, stream: bool = True,
         headers: dict[str, str] | None = None) -> requests.Response:
    """Send a GET, turning connection failures into one-line ``DownloadError``s."""
    host = urlsplit(url).netloc
    try:
        return session.get(url, stream=stream, timeout=timeout, headers=headers)
    except requests.exceptions.ConnectionError as err:
        logger.debug("Connection to %s failed: %s", host, err)
        raise DownloadError(f"cannot reach {host} ({_network_reason(err)}); check your "
                            "network connection, or use --data-dir with a local copy of the "
                            "dataset (a folder holding movies.csv and ratings.csv)") from err
    except requests.exceptions.Timeout as err:
        raise DownloadError(f"{host} did not answer within {timeout:g} s; try again later, "
                            "or use --data-dir with a local copy of the dataset") from err
    except requests.exceptions.RequestException as err:
        raise DownloadError(f"cannot download {url}: {err}") from err


def _raise_for_status(response: requests.Response, url: str) -> None:
    """Raise a one-line ``DownloadError`` for an HTTP error status."""
    try:
        response.raise_for_status()
    except requests.exceptions.HTTPError as err:
        raise DownloadError(f"{url} answered HTTP {response.status_code} "
                            f"{response.reason}") from err


def _start_transfer(session: requests.Session, url: str, offset: int, *,
                    timeout: float) -> tuple[requests.Response, int]:
    """Open the download, asking for the bytes after ``offset``.

    Returns:
        The response and the offset its body starts at (0 when the server sends it all).
    """
    # "identity": the byte count must match Content-Length and the published md5, so the
    # server must not re-encode (gzip) the body in transit.
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    response = _get(session, url, timeout=timeout, headers=headers)
    if not offset:
        _raise_for_status(response, url)
        return response, 0
    partial = response.status_code == HTTPStatus.PARTIAL_CONTENT
    if partial and _range_start(response) == offset:
        return response, offset
    if partial or response.status_code == HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE:
        # 416: the partial file is longer than the file now published; 206 of another
        # range: the bytes would not line up. Either way ask for the whole file.
        response.close()
        logger.info("The partial download of %s does not fit; starting again", url)
        return _start_transfer(session, url, 0, timeout=timeout)
    _raise_for_status(response, url)
    logger.info("The server did not resume %s; downloading it from the start", url)
    return response, 0


def _range_start(response: requests.Response) -> int | None:
    """Return the first byte of the file that a 206 response's body holds."""
    match = _CONTENT_RANGE_PATTERN.match(response.headers.get("Content-Range", ""))
    return int(match.group(1)) if match else None


def _expected_total(response: requests.Response, offset: int) -> int | None:
    """Return the full file size implied by the response, or None if the server hides it."""
    length = response.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None


def _write_body(response: requests.Response, part_path: Path, offset: int, *, url: str,
                total: int | None, on_chunk: Callable[[int], object]) -> int:
    """Append (``offset`` > 0) or write the body to ``part_path``; return the bytes on disk."""
    received = offset
    try:
        with part_path.open("ab" if offset else "wb") as out:
            for chunk in response.iter_content(chunk_size=CHUNK_SIZE):
                out.write(chunk)
                received += len(chunk)
                on_chunk(len(chunk))
    except (requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ConnectionError) as err:  # dropped or stalled mid-body
        logger.debug("Transfer of %s broke off: %s", url, err)
        raise InterruptedDownloadError(_interrupted_message(url, received, total)) from err
    return received


def _interrupted_message(url: str, received: int, total: int | None) -> str:
    """Describe a transfer cut short, telling the user how to resume it."""
    expected = f"of {total:,} " if total is not None else ""
    return (f"download of {url} stopped after {received:,} {expected}bytes; "
            "run the same command again to resume it")


def _network_reason(err: Exception) -> str:
    """Return the operating system's short reason (e.g. 'Connection refused') in ``err``."""
    match = _ERRNO_PATTERN.search(str(err))
    return match.group(1).strip() if match else "no connection"

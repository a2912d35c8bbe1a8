"""Download one episode's audio safely: ``.part`` file, Range resume, size checks, sha256."""
import hashlib
import logging
import mimetypes
import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import requests
from tqdm import tqdm

from podcast_pipeline import PodcastError
from podcast_pipeline.http_client import describe_request_error
from podcast_pipeline.settings import DEFAULT_TIMEOUT, MAX_AUDIO_BYTES

logger = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024  # also what a broken connection can lose: resume from there
AUDIO_EXTENSIONS = {".mp3", ".m4a", ".m4b", ".mp4", ".aac", ".ogg", ".oga", ".opus",
                    ".wav", ".flac", ".webm", ".mov", ".m4v"}
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class DownloadError(PodcastError):
    """An episode could not be downloaded (refused URL, HTTP error, broken or oversized body)."""


@dataclass(frozen=True)
class DownloadResult:
    """A completed download."""

    path: Path
    bytes: int
    sha256: str
    resumed: bool = False


def slugify(text: str, max_length: int = 60) -> str:
    """Return ``text`` as lowercase ASCII letters, digits and single dashes.

    >>> slugify("Été: ../../etc/passwd?x=1")
    'ete-etc-passwd-x-1'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()
    return slug[:max_length].rstrip("-")


def audio_extension(url: str | None, content_type: str | None) -> str:
    """Return a known audio extension from the URL path (query ignored) or MIME type.

    >>> audio_extension("https://cdn.example/a/ep.MP3?token=1", None)
    '.mp3'
    >>> audio_extension("https://cdn.example/play/", "audio/mpeg")
    '.mp3'
    """
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower() if url else ""
    if suffix in AUDIO_EXTENSIONS:
        return suffix
    if content_type:
        guessed = mimetypes.guess_extension(content_type.split(";")[0].strip().lower())
        if guessed in AUDIO_EXTENSIONS:
            return guessed
    return ".audio"


def safe_filename(title: str | None, guid: str, url: str | None = None,
                  content_type: str | None = None, max_stem: int = 80) -> str:
    """Return a portable file name unique to one episode.

    The name is the slugged title plus a hash of the guid (so two episodes with the same
    title never collide), and a known audio extension: no path separators, no ``..``, no
    query string, at most ``max_stem`` + 17 characters.

    >>> safe_filename("Ep. 1: Hello/World", "guid-1", "https://x/y.mp3?a=b")
    'ep-1-hello-world-c1ce8282f0.mp3'
    """
    stem = slugify(title or "", max_stem) or "episode"
    tag = hashlib.sha256(guid.encode("utf-8")).hexdigest()[:10]
    return f"{stem}-{tag}{audio_extension(url, content_type)}"


def podcast_folder(title: str | None, podcast_id: int) -> str:
    """Return the folder name of a podcast's audio: its slugged title and id.

    >>> podcast_folder("Marketplace", 3)
    'marketplace-3'
    """
    return f"{slugify(title or '', 60) or 'podcast'}-{podcast_id}"


def check_web_url(url: str) -> None:
    """Raise ``DownloadError`` unless ``url`` is an http(s) URL with a host."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise DownloadError(f"refused {url[:80]!r}: only http and https URLs are downloaded")


@dataclass(frozen=True)
class ProgressBar:
    """How a download shows its tqdm bytes bar.

    ``show``: True, False, or None to show it only when stderr is a terminal.
    ``position``: the terminal line of the bar, so parallel downloads keep apart.
    """

    show: bool | None = None
    position: int | None = None


@dataclass(frozen=True)
class _Target:
    """What one download writes where, and its limits."""

    url: str
    dest: Path
    timeout: float
    max_bytes: int
    progress: bool | None
    bar_position: int | None = None
    stop: threading.Event | None = None

    @property
    def part(self) -> Path:
        """The file the body is streamed to until it is complete."""
        return self.dest.with_name(self.dest.name + ".part")

    def part_size(self) -> int:
        """Bytes already held in the ``.part`` file (0 when there is none)."""
        return self.part.stat().st_size if self.part.exists() else 0


def download_episode(  # pylint: disable=too-many-arguments  # keyword-only, all defaulted
        session: requests.Session, url: str, dest: Path, *,
        timeout: float = DEFAULT_TIMEOUT, max_bytes: int = MAX_AUDIO_BYTES,
        bar: "ProgressBar | None" = None, resume_attempts: int = 2,
        stop: threading.Event | None = None) -> DownloadResult:
    """Stream ``url`` to ``dest`` through ``dest.part``; rename only when complete.

    A ``.part`` left by an earlier attempt is resumed with a Range request (the server
    may ignore it and send everything again). The body must match Content-Length and
    stay under ``max_bytes``. A broken connection is resumed up to ``resume_attempts``
    times within the call; otherwise the ``.part`` stays for the next run.

    Args:
        session: a requests Session (one per thread).
        url: the enclosure URL; only http and https are accepted.
        dest: the final file path.
        timeout: seconds to connect and between received bytes.
        max_bytes: larger files are refused (and their partial data deleted).
        bar: how to show the tqdm bytes bar; by default only on a terminal.
        resume_attempts: resumptions after a broken connection within this call.
        stop: when set (by another thread: Ctrl-C), the download stops at its next
            chunk and keeps its ``.part`` for the next run.

    Raises:
        DownloadError: the URL is refused or the download failed.
    """
    check_web_url(url)
    bar = bar or ProgressBar()
    target = _Target(url, dest, timeout, max_bytes, bar.show, bar.position, stop)
    for attempt in range(resume_attempts + 1):
        before = target.part_size()
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            return _download_once(session, target)
        except (requests.ConnectionError, requests.Timeout,
                requests.exceptions.ChunkedEncodingError) as err:
            if attempt == resume_attempts or target.part_size() <= before:
                raise DownloadError(f"{url}: {describe_request_error(err)}; "
                                    "the partial file is kept for the next run") from err
            logger.info("%s: connection broke at %d bytes; resuming", dest.name,
                        target.part_size())
        except requests.RequestException as err:
            raise DownloadError(f"{url}: {describe_request_error(err)}") from err
        except OSError as err:  # the disk: full, read-only, permissions
            raise DownloadError(f"cannot write {target.part}: {err.strerror or err}") from err
    raise AssertionError("unreachable")  # pragma: no cover


def _download_once(session: requests.Session, target: _Target) -> DownloadResult:
    """One GET (with Range when a ``.part`` exists); see ``download_episode``."""
    offset = target.part_size()
    # identity: Content-Length and Range must count the bytes we store, not gzip bytes
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with session.get(target.url, headers=headers, timeout=target.timeout,
                     stream=True) as response:
        if response.status_code == 416 and offset:
            if _content_range(response.headers.get("Content-Range", ""))[2] == offset:
                return _finish(target, _hash_file(target.part).hexdigest(), offset)
            target.part.unlink()
            raise DownloadError(f"{target.url}: the server refused to resume; "
                                "it restarts from zero next run")
        _check_response(response, target.url)
        resumed = (response.status_code == 206 and offset > 0
                   and _content_range(response.headers.get("Content-Range", ""))[0] == offset)
        if not resumed:
            offset = 0
        length = response.headers.get("Content-Length", "")
        expected = offset + int(length) if length.isdigit() else None
        if expected is not None and expected > target.max_bytes:
            target.part.unlink(missing_ok=True)
            raise DownloadError(f"{target.url}: {expected:,} bytes is more than the "
                                f"{target.max_bytes:,} allowed")
        digest = _hash_file(target.part) if resumed else hashlib.sha256()
        size = _stream_to(response, target, digest, offset, expected)
    if expected is not None and size != expected:
        raise DownloadError(f"{target.url}: received {size:,} of {expected:,} bytes; "
                            "the partial file is kept for the next run")
    if size == 0:
        target.part.unlink(missing_ok=True)
        raise DownloadError(f"{target.url}: the server sent an empty file")
    return _finish(target, digest.hexdigest(), size, resumed=resumed)


def _check_response(response: requests.Response, url: str) -> None:
    """Refuse HTTP errors, and HTML pages served in place of audio."""
    if response.status_code >= 400:
        raise DownloadError(f"{url}: HTTP {response.status_code} {response.reason}")
    if response.headers.get("Content-Type", "").startswith("text/html"):
        raise DownloadError(f"{url}: the server sent an HTML page, not audio")


def _stream_to(response: requests.Response, target: _Target, digest: "hashlib._Hash",
               offset: int, expected: int | None) -> int:
    """Append (or write, when ``offset`` is 0) the body to the ``.part``; return its size."""
    size = offset
    with target.part.open("ab" if offset else "wb") as out, tqdm(
            total=expected, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
            desc=target.dest.name[:40], leave=False, position=target.bar_position,
            disable=None if target.progress is None else not target.progress) as progress_bar:
        for chunk in response.iter_content(CHUNK_SIZE):
            if target.stop is not None and target.stop.is_set():
                raise DownloadError(f"{target.url}: stopped; the partial file is kept for "
                                    "the next run")
            size += len(chunk)
            if size > target.max_bytes:
                out.close()
                target.part.unlink(missing_ok=True)
                raise DownloadError(f"{target.url}: more than the {target.max_bytes:,} "
                                    "bytes allowed")
            out.write(chunk)
            digest.update(chunk)
            progress_bar.update(len(chunk))
        out.flush()
        os.fsync(out.fileno())
    return size


def _finish(target: _Target, sha256: str, size: int, resumed: bool = True) -> DownloadResult:
    """Rename the complete ``.part`` to its final name."""
    os.replace(target.part, target.dest)
    return DownloadResult(path=target.dest, bytes=size, sha256=sha256, resumed=resumed)


def _content_range(header: str) -> tuple[int | None, int | None, int | None]:
    """Parse ``bytes START-END/TOTAL`` (or ``bytes */TOTAL``) into integers."""
    match = _CONTENT_RANGE.match(header)
    if match:
        total = None if match[3] == "*" else int(match[3])
        return int(match[1]), int(match[2]), total
    unsatisfied = re.match(r"bytes\s+\*/(\d+)", header)
    return None, None, int(unsatisfied[1]) if unsatisfied else None


def _hash_file(path: Path) -> "hashlib._Hash":
    """Return the sha256 of a file read in chunks, ready for more ``update`` calls."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest

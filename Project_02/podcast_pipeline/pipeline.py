"""The pipeline's steps, shared by the command line and the Airflow DAG.

Each step takes plain values and returns a small JSON-able summary, so an Airflow
task can hand it to the next one through XCom: ``prepare`` -> ``fetch`` -> ``store``
(per feed) -> ``download``; ``sync`` runs them all the way the CLI does.
"""
import hashlib
import logging
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

import requests
from tqdm import tqdm

from podcast_pipeline import (PodcastError, catalog, database, download_log, transcription,
                              transcripts)
from podcast_pipeline.download import (DownloadError, DownloadResult, ProgressBar,
                                       download_episode, podcast_folder, safe_filename)
from podcast_pipeline.feed import FeedParseError, parse_feed
from podcast_pipeline.http_client import (FeedFetchError, clone_session, fetch_feed,
                                          make_session)
from podcast_pipeline.run_lock import RunLock
from podcast_pipeline.settings import (AUDIO_DIRNAME, DB_FILENAME, DEFAULT_TIMEOUT,
                                       DEFAULT_WORKERS, FEEDS_DIRNAME)

logger = logging.getLogger(__name__)


def db_path(data_dir: Path) -> Path:
    """Return the database file of a data folder."""
    return Path(data_dir) / DB_FILENAME


def prepare(data_dir: Path) -> str:
    """Create the data folder layout and bring the database schema up to date.

    Returns:
        The database path, as a string.
    """
    data_dir = Path(data_dir)
    for folder in (data_dir, data_dir / AUDIO_DIRNAME, data_dir / FEEDS_DIRNAME):
        folder.mkdir(parents=True, exist_ok=True)
    database.connect(db_path(data_dir)).close()
    return str(db_path(data_dir))


def fetch(data_dir: Path, feed_url: str, *, session: requests.Session | None = None,
          timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """Fetch a feed with a conditional GET and stage its bytes under ``data_dir/feeds``.

    The address used is the one recorded for this subscription (it follows permanent
    moves); ETag and Last-Modified from the last stored fetch are sent along.

    Returns:
        ``{"feed_url", "fetched_url", "final_url", "moved_to", "staged_path",
        "not_modified", "etag", "last_modified", "sha256"}``; ``staged_path`` is None
        when the server answered 304.

    Raises:
        FeedFetchError: the feed could not be fetched.
    """
    data_dir = Path(data_dir)
    podcast = None
    if db_path(data_dir).exists():  # a first run, offline, must not create anything
        with _connection(data_dir) as conn:
            podcast = catalog.find_podcast(conn, feed_url)
    subscription = podcast["feed_url"] if podcast else feed_url
    url = podcast["current_url"] if podcast else feed_url
    if url != feed_url:
        logger.info("%s has moved; fetching %s", feed_url, url)
    stored = podcast is not None and podcast["feed_sha256"] is not None
    name = hashlib.sha256(subscription.encode("utf-8")).hexdigest()[:16] + ".xml"
    staging = _StagedFile(data_dir / FEEDS_DIRNAME / name)
    try:
        result = fetch_feed(session or make_session(), url, timeout=timeout, sink=staging.write,
                            etag=podcast["etag"] if stored else None,
                            last_modified=podcast["last_modified"] if stored else None)
    except OSError as err:  # the staging folder cannot be written (read-only, a file...)
        staging.discard()
        raise PodcastError(f"cannot stage the feed {url} in {staging.path.parent}: "
                           f"{err.strerror or err}") from err
    except BaseException:
        staging.discard()
        raise
    staged = None if result.not_modified else str(staging.commit())
    return {"feed_url": subscription, "fetched_url": url, "final_url": result.final_url,
            "moved_to": result.moved_to, "staged_path": staged,
            "not_modified": result.not_modified, "etag": result.etag,
            "last_modified": result.last_modified, "sha256": result.sha256,
            "charset": result.charset}


def store(data_dir: Path, fetched: dict[str, Any]) -> dict[str, Any]:
    """Parse the staged feed and upsert it in one transaction.

    Identical bytes to the last stored fetch (same sha256) are not parsed again.

    Args:
        data_dir: the data folder.
        fetched: the summary returned by ``fetch``.

    Returns:
        ``{"feed_url", "podcast_id", "title", "new", "updated", "unchanged", "skipped",
        "not_modified"}``.

    Raises:
        FeedParseError: the staged document is not a readable RSS feed.
    """
    data_dir = Path(data_dir)
    try:  # the staged bytes are removed however this ends (Ctrl-C included)
        return _store_staged(data_dir, fetched)
    finally:
        _remove_staged(fetched)


def _store_staged(data_dir: Path, fetched: dict[str, Any]) -> dict[str, Any]:
    """``store`` without the clean-up of the staged file."""
    feed_url = fetched["feed_url"]
    with _connection(data_dir) as conn:
        podcast = catalog.find_podcast(conn, feed_url)
        unchanged = fetched["not_modified"] or (
            podcast is not None and podcast["feed_sha256"] == fetched["sha256"])
        if unchanged and podcast is not None:
            catalog.mark_checked(conn, podcast["id"], etag=fetched["etag"],
                                 last_modified=fetched["last_modified"],
                                 current_url=fetched["moved_to"])
            count = conn.execute("SELECT COUNT(*) FROM episodes WHERE podcast_id = ?",
                                 (podcast["id"],)).fetchone()[0]
            logger.info("%s: unchanged since the last run", feed_url)
            return {"feed_url": feed_url, "podcast_id": podcast["id"],
                    "title": podcast["title"], "new": 0, "updated": 0, "unchanged": count,
                    "skipped": 0, "not_modified": True}
        if not fetched.get("staged_path"):
            raise FeedParseError(f"{feed_url}: nothing was fetched to store")
        with open(fetched["staged_path"], "rb") as staged:
            parsed = parse_feed(staged, fetched["final_url"] or fetched["fetched_url"],
                                http_charset=fetched.get("charset"))
        summary = catalog.save_feed(conn, feed_url, parsed, etag=fetched["etag"],
                                    last_modified=fetched["last_modified"],
                                    feed_sha256=fetched["sha256"],
                                    current_url=fetched["moved_to"])
    moved_to = summary.pop("current_url")
    if moved_to and moved_to != fetched["fetched_url"]:
        logger.warning("%s has moved permanently to %s; next runs will fetch it there",
                       fetched["fetched_url"], moved_to)
    logger.info("%s: %d new, %d updated, %d unchanged episodes", feed_url, summary["new"],
                summary["updated"], summary["unchanged"])
    return {"feed_url": feed_url, **summary, "skipped": parsed.skipped + parsed.duplicates,
            "not_modified": False}


@dataclass(frozen=True)
class DownloadOptions:
    """How ``sync`` downloads audio (see ``download``)."""

    max_downloads: int | None = None
    workers: int = DEFAULT_WORKERS
    keep: int | None = None


@dataclass(frozen=True)
class _Job:
    """One episode to download."""

    episode_id: int
    url: str
    dest: Path
    relative_path: str


def download(data_dir: Path, *, session: requests.Session | None = None,
             max_downloads: int | None = None, workers: int = DEFAULT_WORKERS,
             keep: int | None = None, timeout: float = DEFAULT_TIMEOUT,
             podcast_ids: Iterable[int] | None = None) -> dict[str, Any]:
    """Download pending episodes (newest first), then apply ``keep``.

    Downloads run in up to ``workers`` threads, each with its own Session configured
    like ``session``. Results are written to the database by the calling thread only,
    one small transaction per episode, as they complete.

    Args:
        data_dir: the data folder.
        session: the Session to use (or copy, one per thread); default ``make_session()``.
        max_downloads: at most this many episodes (None: all pending).
        workers: parallel downloads.
        keep: keep only the newest N downloaded files per podcast (None: keep all).
        timeout: seconds to connect and between received bytes.
        podcast_ids: restrict to these podcasts (None: all).

    Returns:
        ``{"downloaded", "failed", "deleted", "bytes", "files", "errors"}``.
    """
    data_dir = Path(data_dir)
    summary: dict[str, Any] = {"downloaded": 0, "failed": 0, "deleted": 0, "bytes": 0,
                               "files": [], "errors": []}
    with _connection(data_dir) as conn:
        rows = download_log.pending_downloads(conn, podcast_ids=podcast_ids, limit=max_downloads,
                                         newest_per_podcast=keep)
        jobs = [_job_for(data_dir, row) for row in rows]
        runner = _DownloadRunner(session or make_session(), timeout)
        # closing(): on Ctrl-C here, the downloads still running stop at once
        with closing(runner.run(jobs, workers)) as outcomes:
            for job, outcome in outcomes:
                _record(conn, job, outcome, summary)
        if keep is not None:
            summary["deleted"] = _prune(conn, data_dir, keep, podcast_ids)
    return summary


def _record(conn: sqlite3.Connection, job: _Job, outcome: DownloadResult | DownloadError,
            summary: dict[str, Any]) -> None:
    """Store one download outcome and add it to ``summary``."""
    if isinstance(outcome, DownloadResult):
        download_log.record_download_done(conn, job.episode_id, source_url=job.url,
                                     path=job.relative_path, size=outcome.bytes,
                                     sha256=outcome.sha256)
        summary["downloaded"] += 1
        summary["bytes"] += outcome.bytes
        summary["files"].append(job.relative_path)
    else:
        logger.warning("download failed: %s", outcome)
        download_log.record_download_failure(conn, job.episode_id, source_url=job.url,
                                        error=str(outcome))
        summary["failed"] += 1
        summary["errors"].append(str(outcome))


def _job_for(data_dir: Path, row: sqlite3.Row) -> _Job:
    """Build the download job of a pending row, with a safe path inside ``data_dir``."""
    relative = Path(AUDIO_DIRNAME, podcast_folder(row["podcast_title"], row["podcast_id"]),
                    safe_filename(row["title"], row["guid"], row["enclosure_url"],
                                  row["enclosure_type"]))
    dest = data_dir / relative
    if not dest.resolve().is_relative_to((data_dir / AUDIO_DIRNAME).resolve()):
        raise PodcastError(f"refusing to write outside the data folder: {dest}")
    return _Job(row["id"], row["enclosure_url"], dest, relative.as_posix())


class _DownloadRunner:
    """Run download jobs one at a time or in threads with one Session per thread."""

    def __init__(self, session: requests.Session, timeout: float) -> None:
        self.session = session
        self.timeout = timeout
        self.stopping = threading.Event()  # set when the caller stops early (Ctrl-C)
        self._local = threading.local()
        self._clones: list[requests.Session] = []
        self._lock = threading.Lock()

    def run(self, jobs: list[_Job], workers: int,
            ) -> Iterator[tuple[_Job, DownloadResult | DownloadError]]:
        """Yield each job with its result or error, in completion order.

        When the caller stops early (an error, Ctrl-C, ``close()``), downloads not
        started are cancelled and running ones stop at their next chunk, keeping their
        ``.part`` files; this returns once every thread has stopped.
        """
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                yield job, self.run_one(job, self.session)
            return
        try:
            with ThreadPoolExecutor(max_workers=min(workers, len(jobs)),
                                    thread_name_prefix="download") as pool:
                futures = {pool.submit(self._run_in_thread, job): job for job in jobs}
                try:
                    for future in as_completed(futures):
                        yield futures[future], future.result()
                except BaseException:  # GeneratorExit or KeyboardInterrupt included
                    self.stopping.set()
                    pool.shutdown(cancel_futures=True)
                    raise
        finally:
            for clone in self._clones:
                clone.close()

    def _run_in_thread(self, job: _Job) -> DownloadResult | DownloadError:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = clone_session(self.session)
            with self._lock:
                self._local.bar_position = len(self._clones)  # one terminal line per thread
                self._clones.append(session)
        return self.run_one(job, session, bar_position=self._local.bar_position)

    def run_one(self, job: _Job, session: requests.Session,
                bar_position: int | None = None) -> DownloadResult | DownloadError:
        """Download one job with ``session``; return its result or its error."""
        try:
            return download_episode(session, job.url, job.dest, timeout=self.timeout,
                                    bar=ProgressBar(position=bar_position),
                                    stop=self.stopping)
        except DownloadError as err:
            return err


def _prune(conn: sqlite3.Connection, data_dir: Path, keep: int,
           podcast_ids: Iterable[int] | None) -> int:
    """Delete downloaded files beyond each podcast's newest ``keep``; return how many."""
    rows = download_log.downloads_beyond_newest(conn, keep, podcast_ids)
    for row in rows:
        if row["path"]:
            (data_dir / row["path"]).unlink(missing_ok=True)
    download_log.mark_deleted(conn, [row["episode_id"] for row in rows])
    if rows:
        logger.info("deleted %d older audio files (--keep %d)", len(rows), keep)
    return len(rows)


def sync(data_dir: Path, feed_urls: Iterable[str], *,
         downloads: DownloadOptions | None = DownloadOptions(),
         session: requests.Session | None = None,
         timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """Run the whole pipeline: fetch and store each feed, then download.

    A feed that cannot be fetched or parsed is reported in ``failed_feeds`` and the
    others carry on. Nothing is created on disk until a feed has been fetched.

    Args:
        data_dir: the data folder.
        feed_urls: the feeds to sync, in order (duplicates ignored).
        downloads: how to download audio; None skips downloading (``--no-download``).
        session: the Session to use; default ``make_session()``.
        timeout: seconds to connect and between received bytes.

    Returns:
        ``{"feeds": [store summaries], "failed_feeds": [{"feed_url", "error"}], "new",
        "updated", "downloads": download summary or None}``.

    Raises:
        RunLockedError: another run is using ``data_dir``.
    """
    data_dir = Path(data_dir)
    session = session or make_session()
    feeds: list[dict[str, Any]] = []
    failed: list[dict[str, str]] = []
    # One run at a time per data folder (run_lock.py). A first run creates the folder
    # with its first fetch, so the lock is taken then; later runs take it at once.
    lock = RunLock(data_dir)
    try:
        if data_dir.is_dir():
            lock.acquire()
        for feed_url in dict.fromkeys(feed_urls):  # unique, in order
            try:
                fetched = fetch(data_dir, feed_url, session=session, timeout=timeout)
                lock.acquire()
                if not feeds:
                    prepare(data_dir)
                feeds.append(store(data_dir, fetched))
            except (FeedFetchError, FeedParseError) as err:
                failed.append({"feed_url": feed_url, "error": str(err)})
        summary = None
        if downloads is not None and feeds:
            summary = download(data_dir, session=session,
                               max_downloads=downloads.max_downloads,
                               workers=downloads.workers, keep=downloads.keep,
                               timeout=timeout,
                               podcast_ids=[feed["podcast_id"] for feed in feeds])
    finally:
        lock.release()
    return {"feeds": feeds, "failed_feeds": failed,
            "new": sum(feed["new"] for feed in feeds),
            "updated": sum(feed["updated"] for feed in feeds), "downloads": summary}


@contextmanager
def _connection(data_dir: Path) -> Iterator[sqlite3.Connection]:
    """Open the database of ``data_dir`` for the length of a block."""
    conn = database.connect(db_path(data_dir))
    try:
        yield conn
    finally:
        conn.close()


class _StagedFile:
    """A file written through a temporary name and renamed into place when complete.

    The temporary file (and its folder) is created on the first write, so a fetch that
    fails before any byte arrives leaves nothing on disk.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._temp: Path | None = None
        self._out: BinaryIO | None = None

    def write(self, chunk: bytes) -> int:
        """Append ``chunk``, creating the temporary file first if needed."""
        if self._out is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temp_name = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name,
                                                 suffix=".tmp")
            self._temp, self._out = Path(temp_name), os.fdopen(handle, "wb")
        return self._out.write(chunk)

    def commit(self) -> Path:
        """Rename the complete file to its final path (an empty file if nothing came)."""
        if self._out is None:
            self.write(b"")
        assert self._out is not None and self._temp is not None
        self._out.close()
        os.replace(self._temp, self.path)
        return self.path

    def discard(self) -> None:
        """Delete the temporary file, if any."""
        if self._out is not None and self._temp is not None:
            self._out.close()
            self._temp.unlink(missing_ok=True)


def _remove_staged(fetched: dict[str, Any]) -> None:
    if fetched.get("staged_path"):
        Path(fetched["staged_path"]).unlink(missing_ok=True)


# --- transcription (issue 8) -----------------------------------------------------------------

def transcribe(data_dir: Path, *, max_transcriptions: int | None = None,
               engine: transcription.SpeechEngine | None = None) -> dict[str, Any]:
    """Transcribe downloaded episodes that have no transcript yet, newest first.

    Each transcript (or failure) is stored in its own small transaction as soon as it is
    made, so an interrupted run keeps what it finished; a file that cannot be decoded is
    recorded as failed and the next one is tried.

    Args:
        data_dir: the data folder.
        max_transcriptions: at most this many episodes (None: all pending).
        engine: a loaded speech engine; default ``transcription.load_engine()``.

    Returns:
        ``{"transcribed", "failed", "audio_seconds", "compute_seconds", "errors"}``.

    Raises:
        TranscriptionUnavailableError: the optional extra is not installed (checked
            before the database is opened).
    """
    engine = engine or transcription.load_engine()
    data_dir = Path(data_dir)
    summary: dict[str, Any] = {"transcribed": 0, "failed": 0, "audio_seconds": 0.0,
                               "compute_seconds": 0.0, "errors": []}
    with _connection(data_dir) as conn:
        rows = transcripts.pending_transcriptions(conn, limit=max_transcriptions)
        for number, row in enumerate(rows, start=1):
            logger.info("transcribing %d/%d: %s", number, len(rows), row["title"])
            try:
                transcript = _transcribe_row(data_dir, row, engine)
            except transcription.TranscriptionError as err:
                logger.warning("transcription failed: %s", err)
                transcripts.record_transcription_failure(conn, row["id"], error=str(err),
                                                     audio_sha256=row["audio_sha256"])
                summary["failed"] += 1
                summary["errors"].append(str(err))
                continue
            transcripts.record_transcript(conn, row["id"], asdict(transcript),
                                      audio_sha256=row["audio_sha256"])
            logger.info("transcribed %.0f s of audio in %.0f s (%d words)",
                        transcript.audio_seconds, transcript.compute_seconds,
                        len(transcript.text.split()))
            summary["transcribed"] += 1
            summary["audio_seconds"] += transcript.audio_seconds
            summary["compute_seconds"] += transcript.compute_seconds
    return summary


def _transcribe_row(data_dir: Path, row: sqlite3.Row,
                    engine: transcription.SpeechEngine) -> transcription.Transcript:
    """Transcribe one pending episode's audio file, with a progress bar on a terminal."""
    with tqdm(total=row["duration_seconds"], unit="s", desc="transcribing", leave=False,
              disable=None) as progress_bar:
        def advance(decoded_seconds: float) -> None:
            progress_bar.update(decoded_seconds - progress_bar.n)
        return transcription.transcribe_file(data_dir / row["audio_path"], engine,
                                             progress=advance)

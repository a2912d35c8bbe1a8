"""The pipeline's steps, shared by the command line and the Airflow DAG.

``prepare`` -> ``fetch`` -> ``store`` (per feed) -> ``download`` -> ``fetch_transcripts``
(the publisher's transcripts and chapters); ``sync`` runs them all the way the CLI does,
and ``transcribe`` (speech-to-text) runs after them. Each step returns a frozen dataclass
(``FetchedFeed``, ``StoreSummary``, ``DownloadSummary``, ``TranscriptsSummary``,
``SyncSummary``, ``TranscribeSummary``); callers that need plain values (the DAG's
XCom, JSON) convert at their edge with ``dataclasses.asdict``, and
``FetchedFeed(**values)`` rebuilds a fetch from them.

One vocabulary for a feed's addresses, in every step and summary:

``subscription_url``
    what the user subscribed to: the podcast's identity, stored in
    ``podcasts.feed_url``; it never changes.
``request_url``
    what this run asked for: the subscription URL, or the address it has moved to
    (``podcasts.current_url``, which ``find_podcast`` also matches).
``final_url``
    where the request ended after any redirects; relative links in the feed are
    resolved against it.
``moved_to``
    a new permanent address learnt this run (a 301/308 redirect), else None; it is
    stored as ``podcasts.current_url`` and becomes the next run's ``request_url``
    (an ``<itunes:new-feed-url>`` in the feed wins over it).

Errors are logged once: a failure a step records and carries on past (one download,
one transcription) is logged by that step as a WARNING and counted in its summary;
a feed that cannot be fetched or parsed is returned by ``sync`` in ``failed_feeds``,
unlogged, and its caller (the CLI) logs it as the run's ERROR.
"""
import hashlib
import logging
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import BinaryIO

import requests
from tqdm import tqdm

from podcast_pipeline import (PodcastError, catalog, database, download_log, segment_store,
                              transcript_step, transcription, transcripts)
from podcast_pipeline.download import (DownloadError, DownloadResult, ProgressBar,
                                       download_episode, podcast_folder, safe_filename)
from podcast_pipeline.feed import FeedParseError, parse_feed
from podcast_pipeline.http_client import (FeedFetchError, clone_session, fetch_feed,
                                          make_session)
from podcast_pipeline.run_lock import RunLock
from podcast_pipeline.transcript_formats import Segment
from podcast_pipeline.transcript_step import TranscriptsSummary
from podcast_pipeline.settings import (AUDIO_DIRNAME, DB_FILENAME, DEFAULT_TIMEOUT,
                                       DEFAULT_WORKERS, FEEDS_DIRNAME, TRANSCRIPTS_DIRNAME)

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


@dataclass(frozen=True)
class FetchedFeed:
    """A feed fetched and staged by ``fetch`` (URL names: see the module docstring).

    ``staged_path`` is the staged document, None when the server answered 304
    (``not_modified``); ``sha256`` hashes its bytes; ``etag``, ``last_modified`` and
    ``charset`` come from the response headers.
    """

    subscription_url: str
    request_url: str
    final_url: str
    moved_to: str | None
    staged_path: str | None
    not_modified: bool
    etag: str | None
    last_modified: str | None
    sha256: str | None
    charset: str | None


@dataclass(frozen=True)
class StoreSummary:
    """What ``store`` did with one feed: episode counts, or ``not_modified``.

    ``skipped`` counts items without an audio enclosure or repeating a guid.
    """

    subscription_url: str
    podcast_id: int
    title: str | None
    new: int
    updated: int
    unchanged: int
    skipped: int
    not_modified: bool


@dataclass(frozen=True)
class DownloadSummary:
    """What ``download`` did: counts, bytes, the files written and the errors met."""

    downloaded: int = 0
    failed: int = 0
    deleted: int = 0
    bytes: int = 0
    files: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedFailure:
    """A feed ``sync`` could not fetch or store, with the one-line reason."""

    subscription_url: str
    error: str


@dataclass(frozen=True)
class SyncSummary:
    """What ``sync`` did: one ``StoreSummary`` per stored feed, the failed feeds, the
    totals of new and updated episodes, the downloads (None when skipped) and the
    publisher transcripts (None when no feed was stored)."""

    feeds: tuple[StoreSummary, ...]
    failed_feeds: tuple[FeedFailure, ...]
    new: int
    updated: int
    downloads: DownloadSummary | None
    transcripts: TranscriptsSummary | None = None


@dataclass(frozen=True)
class TranscribeSummary:
    """What ``transcribe`` did: counts, seconds of audio and of computing, the errors."""

    transcribed: int = 0
    failed: int = 0
    audio_seconds: float = 0.0
    compute_seconds: float = 0.0
    errors: tuple[str, ...] = ()


def fetch(data_dir: Path, subscription_url: str, *, session: requests.Session | None = None,
          timeout: float = DEFAULT_TIMEOUT) -> FetchedFeed:
    """Fetch a feed with a conditional GET and stage its bytes under ``data_dir/feeds``.

    The address requested is the one recorded for this subscription (it follows
    permanent moves); ETag and Last-Modified from the last stored fetch are sent along.

    Raises:
        FeedFetchError: the feed could not be fetched.
    """
    data_dir = Path(data_dir)
    podcast = None
    if db_path(data_dir).exists():  # a first run, offline, must not create anything
        with _connection(data_dir) as conn:
            podcast = catalog.find_podcast(conn, subscription_url)
    if podcast is not None:
        subscription_url, request_url = podcast["feed_url"], podcast["current_url"]
    else:
        request_url = subscription_url
    if request_url != subscription_url:
        logger.info("%s has moved; fetching %s", subscription_url, request_url)
    stored = podcast is not None and podcast["feed_sha256"] is not None
    name = hashlib.sha256(subscription_url.encode("utf-8")).hexdigest()[:16] + ".xml"
    staging = _StagedFile(data_dir / FEEDS_DIRNAME / name)
    try:
        result = fetch_feed(session or make_session(), request_url, timeout=timeout,
                            sink=staging.write,
                            etag=podcast["etag"] if stored else None,
                            last_modified=podcast["last_modified"] if stored else None)
    except OSError as err:  # the staging folder cannot be written (read-only, a file...)
        staging.discard()
        raise PodcastError(f"cannot stage the feed {request_url} in {staging.path.parent}: "
                           f"{err.strerror or err}") from err
    except BaseException:
        staging.discard()
        raise
    return FetchedFeed(subscription_url=subscription_url, request_url=request_url,
                       final_url=result.final_url, moved_to=result.moved_to,
                       staged_path=None if result.not_modified else str(staging.commit()),
                       not_modified=result.not_modified, etag=result.etag,
                       last_modified=result.last_modified, sha256=result.sha256,
                       charset=result.charset)


def store(data_dir: Path, fetched: FetchedFeed) -> StoreSummary:
    """Parse the staged feed and upsert it in one transaction.

    Identical bytes to the last stored fetch (same sha256) are not parsed again.

    Args:
        data_dir: the data folder.
        fetched: what ``fetch`` returned.

    Raises:
        FeedParseError: the staged document is not a readable RSS feed.
    """
    data_dir = Path(data_dir)
    try:  # the staged bytes are removed however this ends (Ctrl-C included)
        return _store_staged(data_dir, fetched)
    finally:
        if fetched.staged_path:
            Path(fetched.staged_path).unlink(missing_ok=True)


def _store_staged(data_dir: Path, fetched: FetchedFeed) -> StoreSummary:
    """``store`` without the clean-up of the staged file."""
    subscription_url = fetched.subscription_url
    with _connection(data_dir) as conn:
        podcast = catalog.find_podcast(conn, subscription_url)
        unchanged = fetched.not_modified or (
            podcast is not None and podcast["feed_sha256"] == fetched.sha256)
        if unchanged and podcast is not None:
            catalog.mark_checked(conn, podcast["id"], etag=fetched.etag,
                                 last_modified=fetched.last_modified, moved_to=fetched.moved_to)
            count = conn.execute("SELECT COUNT(*) FROM episodes WHERE podcast_id = ?",
                                 (podcast["id"],)).fetchone()[0]
            logger.info("%s: unchanged since the last run", subscription_url)
            return StoreSummary(subscription_url=subscription_url, podcast_id=podcast["id"],
                                title=podcast["title"], new=0, updated=0, unchanged=count,
                                skipped=0, not_modified=True)
        if not fetched.staged_path:
            raise FeedParseError(f"{subscription_url}: nothing was fetched to store")
        with open(fetched.staged_path, "rb") as staged:
            parsed = parse_feed(staged, fetched.final_url or fetched.request_url,
                                http_charset=fetched.charset)
        saved = catalog.save_feed(conn, subscription_url, parsed, etag=fetched.etag,
                                  last_modified=fetched.last_modified,
                                  feed_sha256=fetched.sha256, moved_to=fetched.moved_to)
    if saved.moved_to and saved.moved_to != fetched.request_url:
        logger.warning("%s has moved permanently to %s; next runs will fetch it there",
                       fetched.request_url, saved.moved_to)
    logger.info("%s: %d new, %d updated, %d unchanged episodes", subscription_url, saved.new,
                saved.updated, saved.unchanged)
    return StoreSummary(subscription_url=subscription_url, podcast_id=saved.podcast_id,
                        title=saved.title, new=saved.new, updated=saved.updated,
                        unchanged=saved.unchanged, skipped=parsed.skipped + parsed.duplicates,
                        not_modified=False)


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
             podcast_ids: Iterable[int] | None = None) -> DownloadSummary:
    """Download pending episodes (newest first), then apply ``keep``.

    Downloads run in up to ``workers`` threads, each with its own Session configured
    like ``session``. Results are written to the database by the calling thread only,
    one small transaction per episode, as they complete; each failure is logged once,
    as a warning.

    Args:
        data_dir: the data folder.
        session: the Session to use (or copy, one per thread); default ``make_session()``.
        max_downloads: at most this many episodes (None: all pending).
        workers: parallel downloads.
        keep: keep only the newest N downloaded files per podcast (None: keep all).
        timeout: seconds to connect and between received bytes.
        podcast_ids: restrict to these podcasts (None: all).
    """
    data_dir = Path(data_dir)
    with _connection(data_dir) as conn:
        rows = download_log.pending_downloads(conn, podcast_ids=podcast_ids, limit=max_downloads,
                                              newest_per_podcast=keep)
        runner = _DownloadRunner(session or make_session(), timeout)
        summary = _run_and_record(conn, runner, [_job_for(data_dir, row) for row in rows],
                                  workers)
        if keep is not None:
            summary = replace(summary, deleted=_prune(conn, data_dir, keep, podcast_ids))
    return summary


def _run_and_record(conn: sqlite3.Connection, runner: "_DownloadRunner", jobs: list[_Job],
                    workers: int) -> DownloadSummary:
    """Run the download jobs and store each outcome as it completes."""
    files: list[str] = []
    errors: list[str] = []
    size = 0
    # closing(): on Ctrl-C here, the downloads still running stop at once
    with closing(runner.run(jobs, workers)) as outcomes:
        for job, outcome in outcomes:
            if isinstance(outcome, DownloadResult):
                _record_done(conn, job, outcome)
                files.append(job.relative_path)
                size += outcome.bytes
            else:
                errors.append(_record_failure(conn, job, outcome))
    return DownloadSummary(downloaded=len(files), failed=len(errors), bytes=size,
                           files=tuple(files), errors=tuple(errors))


def _record_done(conn: sqlite3.Connection, job: _Job, result: DownloadResult) -> None:
    """Store one finished download."""
    download_log.record_download_done(conn, job.episode_id, source_url=job.url,
                                      path=job.relative_path, size=result.bytes,
                                      sha256=result.sha256)


def _record_failure(conn: sqlite3.Connection, job: _Job, error: DownloadError) -> str:
    """Log and store one failed download; return its one-line reason."""
    logger.warning("download failed: %s", error)
    download_log.record_download_failure(conn, job.episode_id, source_url=job.url,
                                         error=str(error))
    return str(error)


def _job_for(data_dir: Path, row: sqlite3.Row) -> _Job:
    """Build the download job of a pending row, with a safe path inside ``data_dir``."""
    relative = Path(AUDIO_DIRNAME, podcast_folder(row["podcast_title"], row["podcast_id"]),
                    safe_filename(row["title"], row["guid"], row["enclosure_url"],
                                  row["enclosure_type"]))
    dest = data_dir / relative
    if not dest.resolve().is_relative_to((data_dir / AUDIO_DIRNAME).resolve()):
        raise PodcastError(f"refusing to write outside the data folder: {dest}")
    return _Job(row["id"], row["enclosure_url"], dest, relative.as_posix())


_WAKE_SECONDS = 0.5  # how often the main thread wakes while downloads run (to see Ctrl-C)


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
                pending = set(futures)
                try:
                    while pending:
                        # A timed wait: a Ctrl-C that lands just as an untimed wait
                        # begins is only seen when a download ends (seconds later).
                        done, pending = wait(pending, timeout=_WAKE_SECONDS,
                                             return_when=FIRST_COMPLETED)
                        for future in done:
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


def fetch_transcripts(data_dir: Path, *, session: requests.Session | None = None,
                      max_episodes: int | None = transcript_step.DEFAULT_MAX_EPISODES,
                      timeout: float = DEFAULT_TIMEOUT) -> TranscriptsSummary:
    """Fetch and store the publishers' transcripts and chapters of the newest episodes.

    Documents are kept under ``data_dir/transcripts``; each one is a transaction of its
    own, and a document that cannot be fetched or read is one warning for its episode
    (logged by ``transcript_step``), never an error of the run.

    Args:
        data_dir: the data folder.
        session: the Session to use; default ``make_session()``.
        max_episodes: newest episodes with links to look at (None: all).
        timeout: seconds to connect and between received bytes.
    """
    data_dir = Path(data_dir)
    with _connection(data_dir) as conn:
        links = transcript_step.fetch_links(conn, session or make_session(),
                                            data_dir / TRANSCRIPTS_DIRNAME,
                                            max_episodes=max_episodes, timeout=timeout)
    if links.fetched or links.failed:
        logger.info("transcripts and chapters: %d fetched, %d unchanged, %d failed",
                    links.fetched, links.unchanged, links.failed)
    return links


def sync(data_dir: Path, subscription_urls: Iterable[str], *,
         downloads: DownloadOptions | None = DownloadOptions(),
         session: requests.Session | None = None,
         timeout: float = DEFAULT_TIMEOUT) -> SyncSummary:
    """Run the whole pipeline: fetch and store each feed, download, then fetch the
    publishers' transcripts and chapters.

    Transcripts and chapters are fetched even when ``downloads`` is None: they are
    small text documents, and searching them needs no audio.

    A feed that cannot be fetched or parsed is returned in ``failed_feeds`` (not
    logged) and the others carry on. Nothing is created on disk until a feed has been
    fetched.

    Args:
        data_dir: the data folder.
        subscription_urls: the feeds to sync, in order (duplicates ignored).
        downloads: how to download audio; None skips downloading (``--no-download``).
        session: the Session to use; default ``make_session()``.
        timeout: seconds to connect and between received bytes.

    Raises:
        RunLockedError: another run is using ``data_dir``.
    """
    data_dir = Path(data_dir)
    session = session or make_session()
    feeds: list[StoreSummary] = []
    failed: list[FeedFailure] = []
    # One run at a time per data folder (run_lock.py). A first run creates the folder
    # with its first fetch, so the lock is taken then; later runs take it at once.
    lock = RunLock(data_dir)
    try:
        if data_dir.is_dir():
            lock.acquire()
        for subscription_url in dict.fromkeys(subscription_urls):  # unique, in order
            try:
                fetched = fetch(data_dir, subscription_url, session=session, timeout=timeout)
                lock.acquire()
                if not feeds:
                    prepare(data_dir)
                feeds.append(store(data_dir, fetched))
            except (FeedFetchError, FeedParseError) as err:
                failed.append(FeedFailure(subscription_url, str(err)))
        summary = None
        if downloads is not None and feeds:
            summary = download(data_dir, session=session,
                               max_downloads=downloads.max_downloads,
                               workers=downloads.workers, keep=downloads.keep,
                               timeout=timeout,
                               podcast_ids=[feed.podcast_id for feed in feeds])
        texts = fetch_transcripts(data_dir, session=session, timeout=timeout) if feeds else None
    finally:
        lock.release()
    return SyncSummary(feeds=tuple(feeds), failed_feeds=tuple(failed),
                       new=sum(feed.new for feed in feeds),
                       updated=sum(feed.updated for feed in feeds), downloads=summary,
                       transcripts=texts)


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


# --- transcription (issue 8) -----------------------------------------------------------------

def transcribe(data_dir: Path, *, max_transcriptions: int | None = None,
               engine: transcription.SpeechEngine | None = None) -> TranscribeSummary:
    """Transcribe downloaded episodes that have no transcript yet, newest first.

    Each transcript (or failure) is stored in its own small transaction as soon as it is
    made, so an interrupted run keeps what it finished; a file that cannot be decoded is
    recorded as failed (logged once, as a warning) and the next one is tried.

    Args:
        data_dir: the data folder.
        max_transcriptions: at most this many episodes (None: all pending).
        engine: a loaded speech engine; default ``transcription.load_engine()``.

    Raises:
        TranscriptionUnavailableError: the optional extra is not installed (checked
            before the database is opened).
    """
    engine = engine or transcription.load_engine()
    data_dir = Path(data_dir)
    made: list[transcription.Transcript] = []
    errors: list[str] = []
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
                errors.append(str(err))
                continue
            _store_generated(conn, row, transcript)
            logger.info("transcribed %.0f s of audio in %.0f s (%d words)",
                        transcript.audio_seconds, transcript.compute_seconds,
                        len(transcript.text.split()))
            made.append(transcript)
    return TranscribeSummary(
        transcribed=len(made), failed=len(errors),
        audio_seconds=sum(transcript.audio_seconds for transcript in made),
        compute_seconds=sum(transcript.compute_seconds for transcript in made),
        errors=tuple(errors))


def _store_generated(conn: sqlite3.Connection, row: sqlite3.Row,
                     transcript: transcription.Transcript) -> None:
    """Store a speech-to-text transcript on its episode and as its (untimed) segment, in
    one transaction, so search and export treat it like a publisher's."""
    text = transcript.text.strip()
    segments = [Segment(None, None, None, text)] if text else []
    source = segment_store.TranscriptSource(source="generated", format="text")
    with database.transaction(conn):
        transcripts.record_transcript(conn, row["id"], asdict(transcript),
                                      audio_sha256=row["audio_sha256"])
        segment_store.replace_transcript(conn, row["id"], source, segments)


def _transcribe_row(data_dir: Path, row: sqlite3.Row,
                    engine: transcription.SpeechEngine) -> transcription.Transcript:
    """Transcribe one pending episode's audio file, with a progress bar on a terminal."""
    with tqdm(total=row["duration_seconds"], unit="s", desc="transcribing", leave=False,
              disable=None) as progress_bar:
        def advance(decoded_seconds: float) -> None:
            progress_bar.update(decoded_seconds - progress_bar.n)
        return transcription.transcribe_file(data_dir / row["audio_path"], engine,
                                             progress=advance)

"""The pipeline step after downloads: fetch, parse and store publisher transcripts and chapters.

For each of the newest episodes whose feed item names transcripts or chapters:

* the best transcript link is chosen (``transcript_choice``); the link stored last time
  is fetched with its validators (a 304 changes nothing), a new link is fetched whole
  and its segments replace the old ones in one transaction;
* the chapters link likewise.

A link that fails (HTTP error, too big, not parseable) is a warning for that episode
only, remembered in ``link_failures``; the same URL is tried again after
``RETRY_FAILED_AFTER``. The step never raises for one episode's document.
"""
import logging
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

from podcast_pipeline import PodcastError, segment_store
from podcast_pipeline.chapters import parse_chapters
from podcast_pipeline.database import transaction
from podcast_pipeline.segment_store import TranscriptSource
from podcast_pipeline.transcript_choice import TranscriptLink, choose_transcript
from podcast_pipeline.transcript_fetch import DocumentFetchError, fetch_document
from podcast_pipeline.transcript_formats import parse_transcript

logger = logging.getLogger(__name__)

RETRY_FAILED_AFTER = timedelta(hours=20)
DEFAULT_MAX_EPISODES = 50  # newest episodes with links looked at per run


@dataclass(frozen=True)
class TranscriptsSummary:
    """What ``fetch_links`` did with the publishers' transcript and chapters links.

    ``fetched`` documents stored, ``unchanged`` (a 304), ``failed`` (one warning each,
    in ``warnings``), ``skipped`` (failed recently, not retried yet); ``segments`` and
    ``chapters`` count what was stored.
    """

    fetched: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0
    segments: int = 0
    chapters: int = 0
    warnings: tuple[str, ...] = ()


def fetch_links(conn: sqlite3.Connection, session: requests.Session, folder: Path, *,
                max_episodes: int | None = DEFAULT_MAX_EPISODES,
                timeout: float = 30.0) -> TranscriptsSummary:
    """Fetch and store the transcripts and chapters of the newest episodes that have them.

    Args:
        conn: an open connection (autocommit mode).
        session: the run's HTTP session.
        folder: where the fetched documents are kept (``<episode id>.<format>``).
        max_episodes: newest episodes with links to look at (None: all).
        timeout: seconds to wait for a connection or the next bytes.
    """
    counts: Counter[str] = Counter()
    warnings: list[str] = []
    for episode_id, feed_language in segment_store.episodes_with_links(conn, max_episodes):
        links, chapters_url = segment_store.links_of(conn, episode_id)
        chosen = choose_transcript(links, feed_language)
        job = _Job(conn, session, folder, timeout, episode_id, counts, warnings)
        if chosen is not None:
            job.transcript(chosen)
        if chapters_url:
            job.chapters(chapters_url)
    return TranscriptsSummary(**counts, warnings=tuple(warnings))


@dataclass
class _Job:
    """One episode's fetches, and where their outcomes are counted (by the names of
    ``TranscriptsSummary``'s fields) and their warnings kept."""

    conn: sqlite3.Connection
    session: requests.Session
    folder: Path
    timeout: float
    episode_id: int
    counts: Counter[str]
    warnings: list[str] = field(default_factory=list)

    def transcript(self, link: TranscriptLink) -> None:
        """Fetch, parse and store the chosen transcript (or find it unchanged)."""
        stored = segment_store.transcript_of(self.conn, self.episode_id)
        if stored is not None and stored["source"] == "generated":
            stored = None  # a publisher transcript replaces speech-to-text
        if self._recently_failed("transcript", link.url):
            return
        same = stored is not None and stored["url"] == link.url
        try:
            fetched = fetch_document(
                self.session, link.url, self.folder / f"{self.episode_id}.{link.format}",
                etag=stored["etag"] if same and stored else None,
                last_modified=stored["last_modified"] if same and stored else None,
                timeout=self.timeout)
            if fetched.not_modified and same:
                segment_store.mark_transcript_checked(self.conn, self.episode_id,
                                                      etag=fetched.etag,
                                                      last_modified=fetched.last_modified)
                self.counts["unchanged"] += 1
                return
            if fetched.path is None:
                raise DocumentFetchError(f"{link.url} answered 304 to a plain GET")
            segments = parse_transcript(fetched.path.read_bytes(), link.format or "",
                                        fetched.charset)
        except PodcastError as err:
            self._fail("transcript", link.url, str(err))
            return
        source = TranscriptSource(source="publisher", format=link.format or "", url=link.url,
                                  language=link.language, etag=fetched.etag,
                                  last_modified=fetched.last_modified, sha256=fetched.sha256)
        with transaction(self.conn):
            self.counts["segments"] += segment_store.replace_transcript(
                self.conn, self.episode_id, source, segments)
            segment_store.clear_link_failure(self.conn, self.episode_id, "transcript")
        self.counts["fetched"] += 1

    def chapters(self, url: str) -> None:
        """Fetch, parse and store the chapters (or find them unchanged)."""
        stored = segment_store.chapter_source_of(self.conn, self.episode_id)
        if self._recently_failed("chapters", url):
            return
        same = stored is not None and stored["url"] == url
        try:
            fetched = fetch_document(
                self.session, url, self.folder / f"{self.episode_id}.chapters.json",
                etag=stored["etag"] if same and stored else None,
                last_modified=stored["last_modified"] if same and stored else None,
                timeout=self.timeout)
            if fetched.not_modified and same:
                segment_store.mark_chapters_checked(self.conn, self.episode_id,
                                                    etag=fetched.etag,
                                                    last_modified=fetched.last_modified)
                self.counts["unchanged"] += 1
                return
            if fetched.path is None:
                raise DocumentFetchError(f"{url} answered 304 to a plain GET")
            chapters = parse_chapters(fetched.path.read_bytes())
        except PodcastError as err:
            self._fail("chapters", url, str(err))
            return
        with transaction(self.conn):
            self.counts["chapters"] += segment_store.replace_chapters(
                self.conn, self.episode_id, chapters, url=url, etag=fetched.etag,
                last_modified=fetched.last_modified)
            segment_store.clear_link_failure(self.conn, self.episode_id, "chapters")
        self.counts["fetched"] += 1

    def _recently_failed(self, kind: str, url: str) -> bool:
        failure = segment_store.link_failure(self.conn, self.episode_id, kind)
        if failure is None or failure[0] != url:
            return False
        failed_at = datetime.strptime(failure[1], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc)
        if datetime.now(timezone.utc) - failed_at >= RETRY_FAILED_AFTER:
            return False
        self.counts["skipped"] += 1
        return True

    def _fail(self, kind: str, url: str, error: str) -> None:
        message = f"episode {self.episode_id}: {kind} not stored: {error}"
        logger.warning("%s", message)
        self.warnings.append(message)
        self.counts["failed"] += 1
        segment_store.record_link_failure(self.conn, self.episode_id, kind, url, error)

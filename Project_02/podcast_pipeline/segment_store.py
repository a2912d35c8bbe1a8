"""SQLite storage of episode transcripts as timed segments, of chapters, and their search.

The caller passes an open connection in autocommit mode (``isolation_level=None``, as
``database.connect`` makes it). The tables are created by ``segment_schema.SCHEMA``,
applied by ``database.migrate`` as schema version 4 (re-exported here as ``SCHEMA``).

An episode has at most one stored transcript (the publisher's best one, or one made by
speech-to-text: ``source`` says which), kept as ordered segments. Replacing it is one
transaction: a transcript that fails half-way leaves the old one in place.

Segment text is indexed by an FTS5 table with external content (the text is stored
once, in ``segments``). New segments are indexed in bulk, one ``INSERT ... SELECT`` per
transcript: a per-row insert trigger costs a statement per segment. Every transcript
commit writes a small index segment; FTS5 merges 16 of them at a time (``automerge``,
default 4): 18% less CPU to store 1,000 transcripts, and a phrase search still takes
a few milliseconds (``benchmarks/bench_transcripts.py``). Deletes (a replaced
transcript, or an episode deleted with ``ON DELETE CASCADE``) go through a trigger, so
the index can never keep text that is gone.
"""
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import count
from typing import Any

from podcast_pipeline import segment_schema
from podcast_pipeline.chapters import Chapter
from podcast_pipeline.database import transaction, utc_now
from podcast_pipeline.transcript_choice import TranscriptLink
from podcast_pipeline.transcript_formats import Segment


SCHEMA = segment_schema.SCHEMA
SOURCES = ("publisher", "generated")


@dataclass(frozen=True)
class TranscriptSource:
    """Where a transcript came from, and the validators for fetching it again."""

    source: str
    format: str
    url: str | None = None
    language: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None


def replace_transcript(conn: sqlite3.Connection, episode_id: int, source: TranscriptSource,
                       segments: list[Segment]) -> int:
    """Store ``segments`` as the episode's transcript, replacing any earlier one, in ONE
    transaction, and index their text.

    Returns:
        The number of segments stored.
    """
    if source.source not in SOURCES:
        raise ValueError(f"unknown transcript source {source.source!r}")
    now = utc_now()
    with transaction(conn):
        conn.execute("DELETE FROM segments WHERE episode_id = ?", (episode_id,))
        first_id = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM segments")
                       .fetchone()[0]) + 1
        conn.executemany(
            "INSERT INTO segments (id, episode_id, seq, start_seconds, end_seconds, speaker, "
            "text) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(first_id + seq, episode_id, seq, s.start, s.end, s.speaker, s.text)
             for seq, s in zip(count(), segments)])
        conn.execute("INSERT INTO segments_fts (rowid, text) SELECT id, text FROM segments "
                     "WHERE id >= ?", (first_id,))
        conn.execute(
            "INSERT INTO transcripts (episode_id, source, url, format, language, etag, "
            "last_modified, sha256, segment_count, stored_at, checked_at) "
            "VALUES (:episode_id, :source, :url, :format, :language, :etag, :last_modified, "
            ":sha256, :segment_count, :now, :now) ON CONFLICT (episode_id) DO UPDATE SET "
            "source = excluded.source, url = excluded.url, format = excluded.format, "
            "language = excluded.language, etag = excluded.etag, "
            "last_modified = excluded.last_modified, sha256 = excluded.sha256, "
            "segment_count = excluded.segment_count, stored_at = excluded.stored_at, "
            "checked_at = excluded.checked_at",
            {**source.__dict__, "episode_id": episode_id, "segment_count": len(segments),
             "now": now})
    return len(segments)


def transcript_of(conn: sqlite3.Connection, episode_id: int) -> dict[str, Any] | None:
    """Return the episode's ``transcripts`` row as a dict (None: no transcript stored)."""
    cursor = conn.execute("SELECT * FROM transcripts WHERE episode_id = ?", (episode_id,))
    names = [column[0] for column in cursor.description]
    row = cursor.fetchone()
    return None if row is None else dict(zip(names, row))


def mark_transcript_checked(conn: sqlite3.Connection, episode_id: int, *,
                            etag: str | None = None, last_modified: str | None = None) -> None:
    """Record a fetch that found the stored transcript unchanged (a 304)."""
    with transaction(conn):
        conn.execute("UPDATE transcripts SET etag = COALESCE(?, etag), "
                     "last_modified = COALESCE(?, last_modified), checked_at = ? "
                     "WHERE episode_id = ?", (etag, last_modified, utc_now(), episode_id))


def segments_of(conn: sqlite3.Connection, episode_id: int) -> list[Segment]:
    """Return the episode's stored segments in order."""
    return [Segment(*row) for row in conn.execute(
        "SELECT start_seconds, end_seconds, speaker, text FROM segments WHERE episode_id = ? "
        "ORDER BY seq", (episode_id,))]


def replace_chapters(conn: sqlite3.Connection, episode_id: int, chapters: list[Chapter], *,
                     url: str, etag: str | None = None,
                     last_modified: str | None = None) -> int:
    """Store the episode's chapters (fetched from ``url``), replacing earlier ones, in one
    transaction; return how many were stored."""
    with transaction(conn):
        conn.execute("DELETE FROM chapters WHERE episode_id = ?", (episode_id,))
        conn.executemany(
            "INSERT INTO chapters (episode_id, seq, start_seconds, end_seconds, title, url, "
            "image_url, toc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(episode_id, seq, c.start, c.end, c.title, c.url, c.image_url, int(c.toc))
             for seq, c in zip(count(), chapters)])
        conn.execute(
            "INSERT INTO chapter_sources (episode_id, url, etag, last_modified, checked_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (episode_id) DO UPDATE SET url = excluded.url, "
            "etag = excluded.etag, last_modified = excluded.last_modified, "
            "checked_at = excluded.checked_at",
            (episode_id, url, etag, last_modified, utc_now()))
    return len(chapters)


def mark_chapters_checked(conn: sqlite3.Connection, episode_id: int, *,
                          etag: str | None = None, last_modified: str | None = None) -> None:
    """Record a fetch that found the stored chapters unchanged (a 304)."""
    with transaction(conn):
        conn.execute("UPDATE chapter_sources SET etag = COALESCE(?, etag), "
                     "last_modified = COALESCE(?, last_modified), checked_at = ? "
                     "WHERE episode_id = ?", (etag, last_modified, utc_now(), episode_id))


def chapters_of(conn: sqlite3.Connection, episode_id: int) -> list[Chapter]:
    """Return the episode's stored chapters in order."""
    return [Chapter(start=row[0], end=row[1], title=row[2], url=row[3], image_url=row[4],
                    toc=bool(row[5])) for row in conn.execute(
        "SELECT start_seconds, end_seconds, title, url, image_url, toc FROM chapters "
        "WHERE episode_id = ? ORDER BY seq", (episode_id,))]


def replace_links(conn: sqlite3.Connection, episode_id: int,
                  transcripts: Iterable[TranscriptLink], chapters_url: str | None) -> None:
    """Store an item's transcript links and chapters URL as the feed now gives them."""
    with transaction(conn):
        conn.execute("DELETE FROM episode_links WHERE episode_id = ?", (episode_id,))
        conn.executemany(INSERT_LINK, link_rows(episode_id, transcripts, chapters_url))


INSERT_LINK = ("INSERT INTO episode_links (episode_id, kind, seq, url, mime_type, language, "
               "rel) VALUES (?, ?, ?, ?, ?, ?, ?)")


def link_rows(episode_id: int, transcripts: Iterable[TranscriptLink],
              chapters_url: str | None) -> list[tuple[Any, ...]]:
    """The ``episode_links`` rows (``INSERT_LINK`` parameters) of one item's links.

    >>> link_rows(7, [TranscriptLink("https://h/t.vtt", "text/vtt", "en")], "https://h/c.json")
    [(7, 'transcript', 0, 'https://h/t.vtt', 'text/vtt', 'en', None), \
(7, 'chapters', 0, 'https://h/c.json', None, None, None)]
    """
    rows: list[tuple[Any, ...]] = [
        (episode_id, "transcript", seq, link.url, link.mime_type, link.language, link.rel)
        for seq, link in zip(count(), transcripts)]
    if chapters_url:
        rows.append((episode_id, "chapters", 0, chapters_url, None, None, None))
    return rows


def links_of(conn: sqlite3.Connection,
             episode_id: int) -> tuple[list[TranscriptLink], str | None]:
    """Return an episode's transcript links (feed order) and its chapters URL."""
    rows = conn.execute("SELECT kind, url, mime_type, language, rel FROM episode_links "
                        "WHERE episode_id = ? ORDER BY kind, seq", (episode_id,)).fetchall()
    links = [TranscriptLink(row[1], row[2] or "", row[3], row[4])
             for row in rows if row[0] == "transcript"]
    return links, next((row[1] for row in rows if row[0] == "chapters"), None)


def episodes_with_links(conn: sqlite3.Connection,
                        limit: int | None = None) -> list[tuple[int, str | None]]:
    """Return (episode id, its feed's language) of episodes with transcript or chapters
    links, newest first."""
    return [(int(row[0]), row[1]) for row in conn.execute(
        "SELECT e.id, p.language FROM episodes e JOIN podcasts p ON p.id = e.podcast_id "
        "WHERE EXISTS (SELECT 1 FROM episode_links l WHERE l.episode_id = e.id) "
        "ORDER BY e.published DESC, e.id DESC LIMIT ?", (-1 if limit is None else limit,))]


def record_link_failure(conn: sqlite3.Connection, episode_id: int, kind: str, url: str,
                        error: str) -> None:
    """Remember that fetching or parsing ``url`` failed (the stored data stays as it was)."""
    with transaction(conn):
        conn.execute("INSERT INTO link_failures (episode_id, kind, url, error, failed_at) "
                     "VALUES (?, ?, ?, ?, ?) ON CONFLICT (episode_id, kind) DO UPDATE SET "
                     "url = excluded.url, error = excluded.error, "
                     "failed_at = excluded.failed_at",
                     (episode_id, kind, url, error, utc_now()))


def clear_link_failure(conn: sqlite3.Connection, episode_id: int, kind: str) -> None:
    """Forget an earlier failure once the link was fetched and stored."""
    conn.execute("DELETE FROM link_failures WHERE episode_id = ? AND kind = ?",
                 (episode_id, kind))


def link_failure(conn: sqlite3.Connection, episode_id: int,
                 kind: str) -> tuple[str, str] | None:
    """Return (url, failed_at) of the last failure of an episode's link, if any."""
    row = conn.execute("SELECT url, failed_at FROM link_failures WHERE episode_id = ? AND "
                       "kind = ?", (episode_id, kind)).fetchone()
    return None if row is None else (row[0], row[1])


def chapter_source_of(conn: sqlite3.Connection, episode_id: int) -> dict[str, Any] | None:
    """Return the episode's ``chapter_sources`` row (url, validators), if chapters are stored."""
    cursor = conn.execute("SELECT url, etag, last_modified FROM chapter_sources "
                          "WHERE episode_id = ?", (episode_id,))
    row = cursor.fetchone()
    return None if row is None else dict(zip(("url", "etag", "last_modified"), row))


def fts_query(text: str, *, phrase: bool = False) -> str | None:
    """Turn user text into an FTS5 query: every word must match (``phrase``: the words
    in this order, side by side). Operators and quotes typed by the user are searched
    literally. None when there is no word.

    >>> fts_query("federal reserve"), fts_query("federal reserve", phrase=True)
    ('"federal" "reserve"', '"federal reserve"')
    >>> fts_query("AND") == chr(34) + "AND" + chr(34)
    True
    """
    words = text.split()
    if not words:
        return None
    if phrase:
        return '"' + " ".join(words).replace('"', '""') + '"'
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def search_segments(conn: sqlite3.Connection, text: str, *, phrase: bool = False,
                    limit: int | None = 20) -> list[dict[str, Any]]:
    """Full-text search of transcript segments, best matches first.

    Returns:
        One dict per matching segment: ``episode_id``, ``start`` and ``end`` (seconds or
        None), ``speaker``, and ``snippet`` (the matched words in ``[...]``).
    """
    query = fts_query(text, phrase=phrase)
    if query is None:
        return []
    cursor = conn.execute(
        "SELECT s.episode_id, s.start_seconds AS start, s.end_seconds AS \"end\", s.speaker, "
        "snippet(segments_fts, 0, '[', ']', '...', 16) AS snippet "
        "FROM segments_fts JOIN segments s ON s.id = segments_fts.rowid "
        "WHERE segments_fts MATCH :query ORDER BY rank LIMIT :limit",
        {"query": query, "limit": -1 if limit is None else limit})
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor]

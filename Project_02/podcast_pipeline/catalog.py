"""Podcasts and their episodes: upsert a parsed feed, list and search what is stored.

Every statement binds its parameters; changed episodes are written with
``INSERT ... ON CONFLICT DO UPDATE`` (never ``REPLACE``, which deletes the row and so
wipes every column it does not mention), new ones with a plain ``INSERT``, one
transaction per feed. The same transaction stores the episodes' Podcasting 2.0
transcript and chapters links (``segment_store.episode_links``).
"""
import hashlib
import operator
import sqlite3
from dataclasses import dataclass
from typing import Any

from podcast_pipeline import segment_store
from podcast_pipeline.database import transaction, utc_now
from podcast_pipeline.feed import Episode, ParsedFeed

EPISODE_FIELDS = ("title", "link", "published", "published_raw", "description",
                  "enclosure_url", "enclosure_type", "enclosure_length",
                  "duration_seconds", "season", "episode_number")

# Episodes whose guid is not stored yet (read in the same write transaction, so no
# other writer can add it meanwhile): a plain INSERT, 25% cheaper than the upsert.
_INSERT_EPISODE = f"""
    INSERT INTO episodes (podcast_id, guid, {", ".join(EPISODE_FIELDS)},
                          content_hash, first_seen_at, updated_at)
    VALUES (?, ?, {", ".join("?" for _ in EPISODE_FIELDS)}, ?, ?, ?)
"""
# Changed episodes: a field missing from the feed this time keeps its stored value
# (COALESCE), so a feed glitch never wipes what an earlier run stored.
_UPSERT_EPISODE = _INSERT_EPISODE + f"""
    ON CONFLICT (podcast_id, guid) DO UPDATE SET
        {", ".join(f"{f} = COALESCE(excluded.{f}, {f})" for f in EPISODE_FIELDS)},
        content_hash = excluded.content_hash,
        updated_at = excluded.updated_at
    WHERE content_hash IS NOT excluded.content_hash
"""


def find_podcast(conn: sqlite3.Connection, url: str) -> sqlite3.Row | None:
    """Return the podcast subscribed as ``url`` or now living at ``url``, if stored."""
    return conn.execute(
        "SELECT * FROM podcasts WHERE feed_url = :url OR current_url = :url "
        "ORDER BY feed_url = :url DESC LIMIT 1", {"url": url}).fetchone()


_EPISODE_VALUES = operator.attrgetter(*EPISODE_FIELDS)


def fields_hash(values: tuple[Any, ...]) -> str:
    """Return a short hash of an episode's stored field values, to tell changed items apart."""
    return hashlib.blake2b(repr(values).encode("utf-8"), digest_size=16).hexdigest()


@dataclass(frozen=True)
class SavedFeed:
    """What ``save_feed`` wrote: the podcast, its episode counts, and ``moved_to``,
    the new address recorded for the next fetch (None when it did not move)."""

    podcast_id: int
    title: str | None
    new: int
    updated: int
    unchanged: int
    moved_to: str | None


def save_feed(conn: sqlite3.Connection, feed_url: str, parsed: ParsedFeed, *,
              etag: str | None = None, last_modified: str | None = None,
              feed_sha256: str | None = None, moved_to: str | None = None) -> SavedFeed:
    """Upsert a feed's podcast and episodes in ONE transaction.

    Args:
        conn: an open connection.
        feed_url: the subscription address (the podcast's identity).
        parsed: the parsed feed.
        etag, last_modified: validators to send on the next fetch.
        feed_sha256: hash of the feed bytes, to skip identical feeds next time.
        moved_to: where the next run should fetch the feed after a permanent
            redirect (stored as ``current_url``); an ``<itunes:new-feed-url>`` in the
            feed takes precedence.
    """
    now = utc_now()
    with transaction(conn):
        podcast_id = _podcast_id(conn, feed_url, now)
        stored = dict(conn.execute("SELECT guid, content_hash FROM episodes WHERE podcast_id = ?",
                                   (podcast_id,)).fetchall())
        indexed_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM episodes").fetchone()[0]
        new_rows, changed_rows = _rows_to_write(parsed.episodes, stored, podcast_id, now)
        conn.executemany(_INSERT_EPISODE, new_rows)
        conn.executemany(_UPSERT_EPISODE, changed_rows)
        if new_rows:
            index_new_episodes(conn, after_id=indexed_id)
        save_links(conn, podcast_id, parsed.episodes)
        info = parsed.podcast
        moved_to = parsed.new_feed_url or moved_to
        conn.execute(
            "UPDATE podcasts SET title = COALESCE(:title, title), link = COALESCE(:link, link), "
            "description = COALESCE(:description, description), "
            "image_url = COALESCE(:image_url, image_url), author = COALESCE(:author, author), "
            "language = COALESCE(:language, language), etag = :etag, "
            "last_modified = :last_modified, feed_sha256 = :sha256, "
            "current_url = COALESCE(:current_url, current_url), last_checked_at = :now, "
            "updated_at = :now WHERE id = :id",
            {**info.__dict__, "etag": etag, "last_modified": last_modified,
             "sha256": feed_sha256, "current_url": moved_to, "now": now, "id": podcast_id})
    return SavedFeed(podcast_id=podcast_id, title=info.title, new=len(new_rows),
                     updated=len(changed_rows),
                     unchanged=len(parsed.episodes) - len(new_rows) - len(changed_rows),
                     moved_to=moved_to)


def _podcast_id(conn: sqlite3.Connection, feed_url: str, now: str) -> int:
    """Return the id of the podcast subscribed as ``feed_url``, adding it if new."""
    existing = find_podcast(conn, feed_url)
    if existing is not None:
        return int(existing["id"])
    cursor = conn.execute("INSERT INTO podcasts (feed_url, current_url, created_at, updated_at) "
                          "VALUES (?, ?, ?, ?)", (feed_url, feed_url, now, now))
    return int(cursor.lastrowid)


def save_links(conn: sqlite3.Connection, podcast_id: int, episodes: list[Episode]) -> int:
    """Store the transcript and chapters links of a feed's episodes as the feed now gives
    them (links of episodes no longer in the feed are kept); return how many.

    Call inside the feed's transaction, after its episodes are written. A feed that has
    never had links costs one query.
    """
    linked = [episode for episode in episodes if episode.transcripts or episode.chapters_url]
    had_links = conn.execute(
        "SELECT 1 FROM episode_links WHERE episode_id IN "
        "(SELECT id FROM episodes WHERE podcast_id = ?) LIMIT 1", (podcast_id,)).fetchone()
    if not linked and not had_links:
        return 0
    ids = dict(conn.execute("SELECT guid, id FROM episodes WHERE podcast_id = ?",
                            (podcast_id,)).fetchall())
    if had_links:
        conn.executemany("DELETE FROM episode_links WHERE episode_id = ?",
                         [(ids[episode.guid],) for episode in episodes])
    rows = [row for episode in linked for row in segment_store.link_rows(
        ids[episode.guid], episode.transcripts, episode.chapters_url)]
    conn.executemany(segment_store.INSERT_LINK, rows)
    return len(rows)


def index_new_episodes(conn: sqlite3.Connection, after_id: int) -> int:
    """Add the episodes inserted after ``after_id`` to the full-text index, in one go.

    New rows always get ids above the previous maximum (INTEGER PRIMARY KEY), so this
    picks up exactly the episodes the caller has just inserted.

    Returns:
        The highest episode id now indexed (the next call's ``after_id``).
    """
    conn.execute("INSERT INTO episodes_fts (rowid, title, description) "
                 "SELECT id, title, description FROM episodes WHERE id > ?", (after_id,))
    return int(conn.execute("SELECT COALESCE(MAX(id), ?) FROM episodes",
                            (after_id,)).fetchone()[0])


def _rows_to_write(episodes: list[Episode], stored: dict[str, str], podcast_id: int,
                   now: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Return the parameters of the new episodes and of those whose fields changed."""
    new_rows, changed_rows = [], []
    for episode in episodes:
        values = _EPISODE_VALUES(episode)
        content_hash = fields_hash(values)
        stored_hash = stored.get(episode.guid)
        if stored_hash != content_hash:
            row = (podcast_id, episode.guid, *values, content_hash, now, now)
            (new_rows if stored_hash is None else changed_rows).append(row)
    return new_rows, changed_rows


def mark_checked(conn: sqlite3.Connection, podcast_id: int, *, etag: str | None,
                 last_modified: str | None, moved_to: str | None = None) -> None:
    """Record a fetch that brought nothing new (304, or the same bytes as last time);
    ``moved_to`` (a permanent redirect) becomes the podcast's ``current_url``."""
    with transaction(conn):
        conn.execute(
            "UPDATE podcasts SET etag = COALESCE(?, etag), "
            "last_modified = COALESCE(?, last_modified), "
            "current_url = COALESCE(?, current_url), last_checked_at = ? WHERE id = ?",
            (etag, last_modified, moved_to, utc_now(), podcast_id))


_LISTING = """
    SELECT e.id, p.title AS podcast, e.title, e.published, e.published_raw,
           e.duration_seconds, e.season, e.episode_number, e.link, e.enclosure_url,
           e.description, d.status AS download_status, d.path AS audio_path
    FROM episodes e JOIN podcasts p ON p.id = e.podcast_id
    LEFT JOIN downloads d ON d.episode_id = e.id
"""


def list_episodes(conn: sqlite3.Connection, *, podcast: str | None = None,
                  limit: int | None = 20) -> list[dict[str, Any]]:
    """Return stored episodes, newest first, optionally of podcasts whose title or URL
    contains ``podcast`` (case-insensitive)."""
    sql = _LISTING + " WHERE (:podcast IS NULL OR p.title LIKE :pattern OR p.feed_url LIKE " \
        ":pattern OR p.current_url LIKE :pattern) ORDER BY e.published DESC, e.id DESC"
    params: dict[str, Any] = {"podcast": podcast, "pattern": f"%{podcast}%",
                              "limit": -1 if limit is None else limit}
    return [dict(row) for row in conn.execute(sql + " LIMIT :limit", params)]


def episodes_by_id(conn: sqlite3.Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return the listing rows (as ``list_episodes``) of these episodes, keyed by id."""
    marks = ", ".join("?" for _ in ids)
    return {row["id"]: dict(row) for row in conn.execute(
        f"{_LISTING} WHERE e.id IN ({marks})", ids)} if ids else {}


def search_episodes(conn: sqlite3.Connection, text: str,
                    limit: int | None = 20) -> list[dict[str, Any]]:
    """Full-text search (FTS5) of titles and descriptions; best matches first.

    Every word of ``text`` must appear (as a word prefix is not enough); FTS operators are
    not interpreted, so any user text is a valid query.
    """
    words = text.split()
    if not words:
        return []
    query = " ".join('"' + word.replace('"', '""') + '"' for word in words)
    sql = ("SELECT x.*, snippet(episodes_fts, -1, '[', ']', '...', 12) AS snippet FROM "
           f"episodes_fts JOIN ({_LISTING}) x ON x.id = episodes_fts.rowid "
           "WHERE episodes_fts MATCH :query ORDER BY rank LIMIT :limit")
    return [dict(row) for row in conn.execute(
        sql, {"query": query, "limit": -1 if limit is None else limit})]

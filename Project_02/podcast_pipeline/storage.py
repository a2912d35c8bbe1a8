"""SQLite storage of podcasts, episodes and downloads (schema, migrations, upserts, queries).

Every statement binds its parameters; changed episodes are written with
``INSERT ... ON CONFLICT DO UPDATE`` (never ``REPLACE``, which deletes the row and so
wipes every column it does not mention), new ones with a plain ``INSERT``, one
transaction per feed.
"""
import hashlib
import logging
import operator
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from podcast_pipeline import PodcastError
from podcast_pipeline.feed import Episode, ParsedFeed

logger = logging.getLogger(__name__)

# Applied in order; PRAGMA user_version holds how many have run. Only ever APPEND.
# The FTS5 index follows updates and deletes through triggers, but NEW episodes are
# indexed in bulk by save_feed (index_new_episodes): a per-row AFTER INSERT trigger
# makes FTS5 flush its buffer for every row, which made storing 50,000 items ~5x slower.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE podcasts (
        id              INTEGER PRIMARY KEY,
        feed_url        TEXT NOT NULL UNIQUE,  -- the address the user subscribed with
        current_url     TEXT NOT NULL,         -- where to fetch next (follows permanent moves)
        title           TEXT,
        link            TEXT,
        description     TEXT,
        image_url       TEXT,
        author          TEXT,
        language        TEXT,
        etag            TEXT,                  -- validators for the next conditional GET
        last_modified   TEXT,
        feed_sha256     TEXT,                  -- hash of the feed bytes last stored
        last_checked_at TEXT,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL
    );
    CREATE TABLE episodes (
        id               INTEGER PRIMARY KEY,
        podcast_id       INTEGER NOT NULL REFERENCES podcasts(id) ON DELETE CASCADE,
        guid             TEXT NOT NULL,
        title            TEXT,
        link             TEXT,
        published        TEXT,                 -- ISO-8601 UTC, NULL when unparseable
        published_raw    TEXT,                 -- the feed's own text
        description      TEXT,                 -- plain text
        enclosure_url    TEXT,
        enclosure_type   TEXT,
        enclosure_length INTEGER,
        duration_seconds INTEGER,
        season           INTEGER,
        episode_number   INTEGER,
        content_hash     TEXT NOT NULL,        -- hash of the fields above: detects changes
        first_seen_at    TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        UNIQUE (podcast_id, guid)
    );
    CREATE INDEX episodes_by_published ON episodes (published);
    CREATE TABLE downloads (
        episode_id  INTEGER PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
        status      TEXT NOT NULL CHECK (status IN ('done', 'failed', 'deleted')),
        path        TEXT,                      -- relative to the data folder
        bytes       INTEGER,
        sha256      TEXT,
        source_url  TEXT,
        attempts    INTEGER NOT NULL DEFAULT 0,
        last_error  TEXT,
        updated_at  TEXT NOT NULL
    );
    CREATE VIRTUAL TABLE episodes_fts USING fts5(
        title, description, content='episodes', content_rowid='id');
    CREATE TRIGGER episodes_fts_after_delete AFTER DELETE ON episodes BEGIN
        INSERT INTO episodes_fts (episodes_fts, rowid, title, description)
        VALUES ('delete', old.id, old.title, old.description);
    END;
    CREATE TRIGGER episodes_fts_after_update AFTER UPDATE OF title, description ON episodes
    WHEN old.title IS NOT new.title OR old.description IS NOT new.description
    BEGIN
        INSERT INTO episodes_fts (episodes_fts, rowid, title, description)
        VALUES ('delete', old.id, old.title, old.description);
        INSERT INTO episodes_fts (rowid, title, description)
        VALUES (new.id, new.title, new.description);
    END;
    """,
    # 2 (issue 8): transcripts of downloaded audio, searchable with titles and descriptions.
    """
    ALTER TABLE episodes ADD COLUMN transcript TEXT;
    ALTER TABLE episodes ADD COLUMN transcript_status TEXT
        CHECK (transcript_status IN ('done', 'failed'));
    ALTER TABLE episodes ADD COLUMN transcript_error TEXT;
    ALTER TABLE episodes ADD COLUMN transcript_engine TEXT;      -- e.g. 'pocketsphinx 5.0.4'
    ALTER TABLE episodes ADD COLUMN transcript_model TEXT;       -- e.g. 'en-us'
    ALTER TABLE episodes ADD COLUMN transcript_audio_seconds REAL;
    ALTER TABLE episodes ADD COLUMN transcript_compute_seconds REAL;
    ALTER TABLE episodes ADD COLUMN transcript_audio_sha256 TEXT; -- the audio it was made from
    ALTER TABLE episodes ADD COLUMN transcribed_at TEXT;
    -- The index gets a transcript column; new episodes are still indexed in bulk by
    -- index_new_episodes (their transcript is NULL), transcripts by the update trigger.
    DROP TRIGGER IF EXISTS episodes_fts_after_insert;
    DROP TRIGGER episodes_fts_after_delete;
    DROP TRIGGER episodes_fts_after_update;
    DROP TABLE episodes_fts;
    CREATE VIRTUAL TABLE episodes_fts USING fts5(
        title, description, transcript, content='episodes', content_rowid='id');
    INSERT INTO episodes_fts (episodes_fts) VALUES ('rebuild');
    CREATE TRIGGER episodes_fts_after_delete AFTER DELETE ON episodes BEGIN
        INSERT INTO episodes_fts (episodes_fts, rowid, title, description, transcript)
        VALUES ('delete', old.id, old.title, old.description, old.transcript);
    END;
    CREATE TRIGGER episodes_fts_after_update
    AFTER UPDATE OF title, description, transcript ON episodes BEGIN
        INSERT INTO episodes_fts (episodes_fts, rowid, title, description, transcript)
        VALUES ('delete', old.id, old.title, old.description, old.transcript);
        INSERT INTO episodes_fts (rowid, title, description, transcript)
        VALUES (new.id, new.title, new.description, new.transcript);
    END;
    """,
    # 3: FTS5 buffers up to 8 MB of new index entries (default 1 MB) before writing a
    # segment, so indexing a 50,000-item feed writes and merges 8x fewer segments
    # (-20% CPU for the index). A setting stored in the database, hence a migration.
    """
    INSERT INTO episodes_fts (episodes_fts, rank) VALUES ('hashsize', 8388608);
    """,
]

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


class StorageError(PodcastError):
    """The database cannot be opened, migrated or written."""


def utc_now() -> str:
    """Return the current time as ISO-8601 UTC (``2024-05-01T12:00:00Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def connect(db_path: Path, timeout: float = 30.0) -> sqlite3.Connection:
    """Open (creating if needed) the database, in WAL mode, and bring its schema up to date.

    The connection is in autocommit mode: writes go through ``transaction()``.

    Args:
        db_path: the SQLite file.
        timeout: seconds to wait for another process's write lock.

    Raises:
        StorageError: the file cannot be opened or is not a database of this tool.
    """
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(db_path, timeout=timeout, isolation_level=None,
                               check_same_thread=True)
        conn.row_factory = sqlite3.Row
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses no commit
        migrate(conn)
    except (sqlite3.Error, OSError) as err:
        raise StorageError(f"cannot open the database {db_path}: {err}") from err
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations this database has not seen yet; return the schema version."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise StorageError(f"the database has schema version {version}, newer than this "
                           f"program knows ({len(MIGRATIONS)}); upgrade the program")
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        logger.info("migrating the database to schema version %d", number)
        conn.executescript(f"BEGIN IMMEDIATE; {script}; PRAGMA user_version = {number}; COMMIT;")
    return len(MIGRATIONS)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block in one write transaction: all of it is committed, or none of it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def find_podcast(conn: sqlite3.Connection, url: str) -> sqlite3.Row | None:
    """Return the podcast subscribed as ``url`` or now living at ``url``, if stored."""
    return conn.execute(
        "SELECT * FROM podcasts WHERE feed_url = :url OR current_url = :url "
        "ORDER BY feed_url = :url DESC LIMIT 1", {"url": url}).fetchone()


_EPISODE_VALUES = operator.attrgetter(*EPISODE_FIELDS)


def fields_hash(values: tuple[Any, ...]) -> str:
    """Return a short hash of an episode's stored field values, to tell changed items apart."""
    return hashlib.blake2b(repr(values).encode("utf-8"), digest_size=16).hexdigest()


def save_feed(conn: sqlite3.Connection, feed_url: str, parsed: ParsedFeed, *,
              etag: str | None = None, last_modified: str | None = None,
              feed_sha256: str | None = None, current_url: str | None = None) -> dict[str, Any]:
    """Upsert a feed's podcast and episodes in ONE transaction.

    Args:
        conn: an open connection.
        feed_url: the subscription address (the podcast's identity).
        parsed: the parsed feed.
        etag, last_modified: validators to send on the next fetch.
        feed_sha256: hash of the feed bytes, to skip identical feeds next time.
        current_url: where the next run should fetch the feed after a permanent
            redirect; an ``<itunes:new-feed-url>`` in the feed takes precedence.

    Returns:
        ``{"podcast_id", "title", "new", "updated", "unchanged", "current_url"}``.
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
        info = parsed.podcast
        current_url = parsed.new_feed_url or current_url
        conn.execute(
            "UPDATE podcasts SET title = COALESCE(:title, title), link = COALESCE(:link, link), "
            "description = COALESCE(:description, description), "
            "image_url = COALESCE(:image_url, image_url), author = COALESCE(:author, author), "
            "language = COALESCE(:language, language), etag = :etag, "
            "last_modified = :last_modified, feed_sha256 = :sha256, "
            "current_url = COALESCE(:current_url, current_url), last_checked_at = :now, "
            "updated_at = :now WHERE id = :id",
            {**info.__dict__, "etag": etag, "last_modified": last_modified,
             "sha256": feed_sha256, "current_url": current_url, "now": now, "id": podcast_id})
    counts = {"new": len(new_rows), "updated": len(changed_rows),
              "unchanged": len(parsed.episodes) - len(new_rows) - len(changed_rows)}
    return {"podcast_id": podcast_id, "title": info.title, **counts, "current_url": current_url}


def _podcast_id(conn: sqlite3.Connection, feed_url: str, now: str) -> int:
    """Return the id of the podcast subscribed as ``feed_url``, adding it if new."""
    existing = find_podcast(conn, feed_url)
    if existing is not None:
        return int(existing["id"])
    cursor = conn.execute("INSERT INTO podcasts (feed_url, current_url, created_at, updated_at) "
                          "VALUES (?, ?, ?, ?)", (feed_url, feed_url, now, now))
    return int(cursor.lastrowid)


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
                 last_modified: str | None, current_url: str | None = None) -> None:
    """Record a fetch that brought nothing new (304, or the same bytes as last time)."""
    with transaction(conn):
        conn.execute(
            "UPDATE podcasts SET etag = COALESCE(?, etag), "
            "last_modified = COALESCE(?, last_modified), "
            "current_url = COALESCE(?, current_url), last_checked_at = ? WHERE id = ?",
            (etag, last_modified, current_url, utc_now(), podcast_id))


def pending_downloads(conn: sqlite3.Connection, *, podcast_ids: Iterable[int] | None = None,
                      limit: int | None = None,
                      newest_per_podcast: int | None = None) -> list[sqlite3.Row]:
    """Return episodes whose audio should be fetched now, newest first.

    Episodes already downloaded (or deleted by ``--keep``) are left out; failed ones are
    tried again. Only http(s) enclosures qualify.

    Args:
        conn: an open connection.
        podcast_ids: restrict to these podcasts (None: all).
        limit: at most this many episodes (None: no limit).
        newest_per_podcast: consider only each podcast's newest N episodes.
    """
    ids = None if podcast_ids is None else list(podcast_ids)
    sql = """
        WITH ranked AS (
            SELECT e.*, p.title AS podcast_title,
                   ROW_NUMBER() OVER (PARTITION BY e.podcast_id
                                      ORDER BY e.published DESC, e.id DESC) AS recency
            FROM episodes e JOIN podcasts p ON p.id = e.podcast_id
            WHERE e.enclosure_url LIKE 'http://%' OR e.enclosure_url LIKE 'https://%'
        )
        SELECT r.*, d.attempts AS attempts FROM ranked r
        LEFT JOIN downloads d ON d.episode_id = r.id
        WHERE (d.status IS NULL OR d.status = 'failed')
          AND (:per_podcast IS NULL OR r.recency <= :per_podcast)
    """
    params: dict[str, Any] = {"per_podcast": newest_per_podcast}
    if ids is not None:
        sql += f" AND r.podcast_id IN ({_placeholders(len(ids))})"
        params.update({f"id{i}": value for i, value in enumerate(ids)})
    sql += " ORDER BY r.published DESC, r.id DESC"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return conn.execute(sql, params).fetchall()


def _placeholders(count: int) -> str:
    return ", ".join(f":id{i}" for i in range(count)) or "NULL"


def record_download_done(conn: sqlite3.Connection, episode_id: int, *, source_url: str,
                         path: str, size: int, sha256: str) -> None:
    """Record a completed download (its own small transaction)."""
    _record_download(conn, (episode_id, "done", path, size, sha256, source_url, None, utc_now()))


def record_download_failure(conn: sqlite3.Connection, episode_id: int, *, source_url: str,
                            error: str) -> None:
    """Record a failed download; it is tried again on the next run."""
    _record_download(conn, (episode_id, "failed", None, None, None, source_url, error,
                            utc_now()))


def _record_download(conn: sqlite3.Connection, values: tuple[Any, ...]) -> None:
    with transaction(conn):
        conn.execute(
            "INSERT INTO downloads (episode_id, status, path, bytes, sha256, source_url, "
            "attempts, last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) "
            "ON CONFLICT (episode_id) DO UPDATE SET status = excluded.status, "
            "path = COALESCE(excluded.path, path), bytes = COALESCE(excluded.bytes, bytes), "
            "sha256 = COALESCE(excluded.sha256, sha256), source_url = excluded.source_url, "
            "attempts = attempts + 1, last_error = excluded.last_error, "
            "updated_at = excluded.updated_at", values)


def downloads_beyond_newest(conn: sqlite3.Connection, keep: int,
                            podcast_ids: Iterable[int] | None = None) -> list[sqlite3.Row]:
    """Return the downloaded files older than each podcast's newest ``keep`` downloads."""
    ids = None if podcast_ids is None else set(podcast_ids)
    rows = conn.execute("""
        SELECT * FROM (
            SELECT d.episode_id, d.path, e.podcast_id,
                   ROW_NUMBER() OVER (PARTITION BY e.podcast_id
                                      ORDER BY e.published DESC, e.id DESC) AS recency
            FROM downloads d JOIN episodes e ON e.id = d.episode_id
            WHERE d.status = 'done')
        WHERE recency > ?""", (keep,)).fetchall()
    return [row for row in rows if ids is None or row["podcast_id"] in ids]


def mark_deleted(conn: sqlite3.Connection, episode_ids: Iterable[int]) -> None:
    """Mark downloads whose files were removed by ``--keep`` (never fetched again)."""
    with transaction(conn):
        conn.executemany("UPDATE downloads SET status = 'deleted', updated_at = ? "
                         "WHERE episode_id = ?", [(utc_now(), i) for i in episode_ids])


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


# --- transcripts (issue 8) -------------------------------------------------------------------

def pending_transcriptions(conn: sqlite3.Connection,
                           limit: int | None = None) -> list[sqlite3.Row]:
    """Return downloaded episodes without a transcript, newest first.

    An episode whose transcription failed is tried again only once its audio changed
    (a new download with another sha256): the same bytes would fail the same way.

    Args:
        conn: an open connection.
        limit: at most this many episodes (None: all).
    """
    return conn.execute("""
        SELECT e.id, e.title, e.duration_seconds, p.title AS podcast_title,
               d.path AS audio_path, d.sha256 AS audio_sha256
        FROM episodes e JOIN podcasts p ON p.id = e.podcast_id
        JOIN downloads d ON d.episode_id = e.id
        WHERE d.status = 'done' AND d.path IS NOT NULL
          AND (e.transcript_status IS NULL
               OR (e.transcript_status = 'failed'
                   AND e.transcript_audio_sha256 IS NOT d.sha256))
        ORDER BY e.published DESC, e.id DESC LIMIT :limit""",
                        {"limit": -1 if limit is None else limit}).fetchall()


def record_transcript(conn: sqlite3.Connection, episode_id: int, transcript: dict[str, Any],
                      audio_sha256: str | None) -> None:
    """Store an episode's transcript with ``UPDATE ... WHERE`` (other columns untouched).

    Args:
        conn: an open connection.
        episode_id: the episode.
        transcript: ``text``, ``engine``, ``model``, ``audio_seconds``, ``compute_seconds``.
        audio_sha256: hash of the audio file it was made from.
    """
    with transaction(conn):
        conn.execute(
            "UPDATE episodes SET transcript = :text, transcript_status = 'done', "
            "transcript_error = NULL, transcript_engine = :engine, transcript_model = :model, "
            "transcript_audio_seconds = :audio_seconds, "
            "transcript_compute_seconds = :compute_seconds, "
            "transcript_audio_sha256 = :audio_sha256, transcribed_at = :now WHERE id = :id",
            {**transcript, "audio_sha256": audio_sha256, "now": utc_now(), "id": episode_id})


def record_transcription_failure(conn: sqlite3.Connection, episode_id: int, *, error: str,
                                 audio_sha256: str | None) -> None:
    """Record that an episode's audio could not be transcribed (other columns untouched)."""
    with transaction(conn):
        conn.execute(
            "UPDATE episodes SET transcript_status = 'failed', transcript_error = ?, "
            "transcript_audio_sha256 = ?, transcribed_at = ? WHERE id = ?",
            (error, audio_sha256, utc_now(), episode_id))

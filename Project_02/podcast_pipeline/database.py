"""The SQLite database: connection, schema migrations and the transaction helper.

The schema lives here as a list of SQL scripts, applied in order and counted in
``PRAGMA user_version``; the tables are used by ``catalog`` (podcasts, episodes and
their full-text index), ``download_log`` (downloads), ``transcripts`` (speech-to-text
state) and ``segment_store`` (timed transcripts, chapters and the feed's links to them).
"""
import itertools
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from podcast_pipeline import PodcastError, segment_schema

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
    # 4 (issue 20): publisher transcripts as timed segments with their own full-text
    # index, chapters, and the <podcast:transcript>/<podcast:chapters> links of episodes.
    segment_schema.SCHEMA,
    # 5: speech-to-text transcripts made before version 4 become untimed "generated"
    # transcripts of one segment each, so search and export treat both kinds alike.
    """
    INSERT INTO transcripts (episode_id, source, format, segment_count, stored_at, checked_at)
    SELECT id, 'generated', 'text', 1, COALESCE(transcribed_at, updated_at),
           COALESCE(transcribed_at, updated_at)
    FROM episodes WHERE transcript_status = 'done' AND TRIM(COALESCE(transcript, '')) <> '';
    INSERT INTO segments (episode_id, seq, text)
    SELECT id, 0, TRIM(transcript) FROM episodes
    WHERE transcript_status = 'done' AND TRIM(COALESCE(transcript, '')) <> '';
    INSERT INTO segments_fts (rowid, text) SELECT id, text FROM segments;
    """,
]


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
    """Run the block in one write transaction: all of it is committed, or none of it.

    Inside another ``transaction`` the block is a savepoint: an error rolls back the
    block only, and the outer transaction decides about the rest. As in sqlite-utils'
    ``atomic()``, the error that ended the block is never hidden: when SQLite has
    already ended the transaction itself (a full disk, say), no ROLLBACK is issued, and
    a ROLLBACK that fails anyway is logged, not raised.
    """
    if conn.in_transaction:
        name = f"block_{next(_SAVEPOINTS)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                _quietly(conn, f"ROLLBACK TO {name}")
                _quietly(conn, f"RELEASE {name}")
            raise
        conn.execute(f"RELEASE {name}")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            _quietly(conn, "ROLLBACK")
        raise
    conn.execute("COMMIT")


_SAVEPOINTS = itertools.count(1)


def _quietly(conn: sqlite3.Connection, statement: str) -> None:
    """Run a clean-up statement whose failure must not replace the error being raised."""
    try:
        conn.execute(statement)
    except sqlite3.Error as err:
        logger.debug("%s failed while handling an earlier error: %s", statement, err)

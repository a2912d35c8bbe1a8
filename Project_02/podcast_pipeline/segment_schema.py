"""The SQL of the transcript, segment, chapter and link tables (schema version 4).

Kept apart from ``segment_store`` (which reads and writes them) so that ``database``
can apply it as a migration without importing the store. See ``segment_store`` for why
the full-text index is filled in bulk and emptied through a trigger.
"""

SCHEMA = """
CREATE TABLE transcripts (
    episode_id     INTEGER PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
    source         TEXT NOT NULL CHECK (source IN ('publisher', 'generated')),
    url            TEXT,                   -- where a publisher transcript came from
    format         TEXT NOT NULL CHECK (format IN ('vtt', 'srt', 'json', 'html', 'text')),
    language       TEXT,
    etag           TEXT,                   -- validators for the next conditional GET
    last_modified  TEXT,
    sha256         TEXT,                   -- of the bytes the segments were made from
    segment_count  INTEGER NOT NULL,
    stored_at      TEXT NOT NULL,
    checked_at     TEXT NOT NULL           -- last fetch, 304s included
);
CREATE TABLE segments (
    id             INTEGER PRIMARY KEY,
    episode_id     INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,       -- order within the transcript, from 0
    start_seconds  REAL,                   -- NULL: the format has no times (plain text)
    end_seconds    REAL,
    speaker        TEXT,
    text           TEXT NOT NULL,
    UNIQUE (episode_id, seq)
);
CREATE TABLE chapters (
    episode_id     INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    start_seconds  REAL NOT NULL,
    end_seconds    REAL,
    title          TEXT,
    url            TEXT,
    image_url      TEXT,
    toc            INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (episode_id, seq)
) WITHOUT ROWID;
CREATE TABLE chapter_sources (
    episode_id     INTEGER PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
    url            TEXT NOT NULL,
    etag           TEXT,
    last_modified  TEXT,
    checked_at     TEXT NOT NULL
);
CREATE TABLE episode_links (          -- <podcast:transcript> and <podcast:chapters> tags
    episode_id     INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('transcript', 'chapters')),
    seq            INTEGER NOT NULL,       -- feed order
    url            TEXT NOT NULL,
    mime_type      TEXT,
    language       TEXT,
    rel            TEXT,
    PRIMARY KEY (episode_id, kind, seq)
) WITHOUT ROWID;
CREATE TABLE link_failures (          -- the last failed fetch or parse of a link
    episode_id     INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('transcript', 'chapters')),
    url            TEXT NOT NULL,
    error          TEXT NOT NULL,
    failed_at      TEXT NOT NULL,
    PRIMARY KEY (episode_id, kind)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE segments_fts USING fts5(text, content='segments', content_rowid='id');
INSERT INTO segments_fts (segments_fts, rank) VALUES ('hashsize', 8388608);
INSERT INTO segments_fts (segments_fts, rank) VALUES ('automerge', 16);
CREATE TRIGGER segments_fts_after_delete AFTER DELETE ON segments BEGIN
    INSERT INTO segments_fts (segments_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
"""

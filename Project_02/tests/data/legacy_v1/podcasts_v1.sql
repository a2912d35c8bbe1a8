-- A podcasts.db as the first released version (commit 46f6577) left it, as SQL.
-- Schema: that version's only migration, copied verbatim (it still had the FTS5
-- AFTER INSERT trigger, which indexes the rows below as they are inserted).
-- Rows: what its CLI stored after one sync of the golden feeds one_item.xml and
-- iso_8859_1.xml (one download done, one failed with a 404); see README.md.
-- http://podcast.test stands for the server the feeds came from.
BEGIN;
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
CREATE TRIGGER episodes_fts_after_insert AFTER INSERT ON episodes BEGIN
    INSERT INTO episodes_fts (rowid, title, description)
    VALUES (new.id, new.title, new.description);
END;
CREATE TRIGGER episodes_fts_after_delete AFTER DELETE ON episodes BEGIN
    INSERT INTO episodes_fts (episodes_fts, rowid, title, description)
    VALUES ('delete', old.id, old.title, old.description);
END;
CREATE TRIGGER episodes_fts_after_update AFTER UPDATE OF title, description ON episodes
BEGIN
    INSERT INTO episodes_fts (episodes_fts, rowid, title, description)
    VALUES ('delete', old.id, old.title, old.description);
    INSERT INTO episodes_fts (rowid, title, description)
    VALUES (new.id, new.title, new.description);
END;


INSERT INTO podcasts (id, feed_url, current_url, title, link, description, image_url, author, language, etag, last_modified, feed_sha256, last_checked_at, created_at, updated_at)
VALUES (1, 'http://podcast.test/one.xml', 'http://podcast.test/one.xml', 'Test Radio', 'http://podcast.test/', 'A show & its notes.', 'http://podcast.test/cover.jpg', 'Test Radio Network', 'en-us', NULL, NULL, 'a148166fc4df85ed7afa1dee1b3a138daf88477ad27fee5186d5630e3fd0ccfb', '2026-12-06T21:02:19Z', '2026-12-06T21:02:19Z', '2026-12-06T21:02:19Z');
INSERT INTO podcasts (id, feed_url, current_url, title, link, description, image_url, author, language, etag, last_modified, feed_sha256, last_checked_at, created_at, updated_at)
VALUES (2, 'http://podcast.test/cafe.xml', 'http://podcast.test/cafe.xml', 'Café Radio Française', NULL, NULL, NULL, NULL, NULL, NULL, NULL, '63e6d15ab4ed4f563c82d601b2363a666bd0188b6d00167a37a02ec5300821f1', '2026-12-06T21:02:19Z', '2026-12-06T21:02:19Z', '2026-12-06T21:02:19Z');
INSERT INTO episodes (id, podcast_id, guid, title, link, published, published_raw, description, enclosure_url, enclosure_type, enclosure_length, duration_seconds, season, episode_number, content_hash, first_seen_at, updated_at)
VALUES (1, 1, 'test-radio-0001', 'Episode 1: Hello, World', 'http://podcast.test/episodes/1/', '2024-05-01T12:30:00Z', 'Wed, 01 May 2024 08:30:00 -0400', 'The first episode.', 'http://podcast.test/audio/ep1.mp3?source=rss', 'audio/mpeg', 4096, 3723, 2, 7, 'b402bbad2d7ad71fa99b6a44751d41e6', '2026-12-06T21:02:19Z', '2026-12-06T21:02:19Z');
INSERT INTO episodes (id, podcast_id, guid, title, link, published, published_raw, description, enclosure_url, enclosure_type, enclosure_length, duration_seconds, season, episode_number, content_hash, first_seen_at, updated_at)
VALUES (2, 2, 'cafe-1', 'Épisode spécial : les crêpes', NULL, '2024-05-05T16:00:00Z', 'Sun, 05 May 2024 18:00:00 +0200', 'Naïve « chanson » à Noël', 'http://podcast.test/audio/crepes.mp3', 'audio/mpeg', 10, NULL, NULL, NULL, 'e316e94927ddf6d3a08854526b1a26e8', '2026-12-06T21:02:19Z', '2026-12-06T21:02:19Z');
INSERT INTO downloads (episode_id, status, path, bytes, sha256, source_url, attempts, last_error, updated_at)
VALUES (1, 'done', 'audio/test-radio-1/episode-1-hello-world-69c5c60356.mp3', 10243, '26bb9785d6687dcf202529c33d1190b641d182c2b509dc6f1f7d0a37022e2bdd', 'http://podcast.test/audio/ep1.mp3?source=rss', 1, NULL, '2026-12-06T21:02:19Z');
INSERT INTO downloads (episode_id, status, path, bytes, sha256, source_url, attempts, last_error, updated_at)
VALUES (2, 'failed', NULL, NULL, NULL, 'http://podcast.test/audio/crepes.mp3', 1, 'http://podcast.test/audio/crepes.mp3: HTTP 404 Not Found', '2026-12-06T21:02:19Z');
PRAGMA user_version = 1;
COMMIT;

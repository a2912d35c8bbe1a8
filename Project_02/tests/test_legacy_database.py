"""A database made by the first released version still opens, migrates and syncs (issue 19 §1).

``data/legacy_v1/podcasts_v1.sql`` is that version's schema and the rows its CLI stored;
each test builds a ``podcasts.db`` from it and then uses only today's code.
"""
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from podcast_pipeline import database
from podcast_summary import main

LEGACY_SQL = Path(__file__).resolve().parent / "data" / "legacy_v1" / "podcasts_v1.sql"
LEGACY_HOST = "http://podcast.test"  # the SQL's stand-in for the server the feeds came from
V1_TABLES = {"podcasts": "id", "episodes": "id", "downloads": "episode_id"}


V1_COLUMNS = {
    "podcasts": ["id", "feed_url", "current_url", "title", "link", "description", "image_url",
                 "author", "language", "etag", "last_modified", "feed_sha256",
                 "last_checked_at", "created_at", "updated_at"],
    "episodes": ["id", "podcast_id", "guid", "title", "link", "published", "published_raw",
                 "description", "enclosure_url", "enclosure_type", "enclosure_length",
                 "duration_seconds", "season", "episode_number", "content_hash",
                 "first_seen_at", "updated_at"],
    "downloads": ["episode_id", "status", "path", "bytes", "sha256", "source_url", "attempts",
                  "last_error", "updated_at"],
}


def v1_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the three version-1 tables, in the version-1 columns only."""
    with closing(sqlite3.connect(path)) as conn:
        return {table: conn.execute(f"SELECT {', '.join(V1_COLUMNS[table])} FROM {table} "
                                    f"ORDER BY {key}").fetchall()
                for table, key in V1_TABLES.items()}


@pytest.fixture(name="legacy_dir")
def fixture_legacy_dir(server, tmp_path: Path) -> Path:
    """A data folder whose podcasts.db is the version-1 database, its feed addresses on
    the test server (which serves nothing until a test adds routes)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    script = LEGACY_SQL.read_text(encoding="utf-8").replace(LEGACY_HOST, server.base_url)
    conn = sqlite3.connect(data_dir / "podcasts.db")
    conn.executescript(script)
    conn.close()
    return data_dir


def test_the_fixture_is_a_version_1_database(legacy_dir: Path) -> None:
    """Before today's code touches it: schema version 1, with version 1's insert trigger."""
    with closing(sqlite3.connect(legacy_dir / "podcasts.db")) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        triggers = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert "episodes_fts_after_insert" in triggers
    assert [len(rows) for rows in v1_rows(legacy_dir / "podcasts.db").values()] == [2, 2, 2]


def test_connect_migrates_it_to_the_latest_version_and_keeps_every_row(
        legacy_dir: Path) -> None:
    """database.connect brings it to the latest schema; the old rows are unchanged, the
    version-1 insert trigger is gone (new episodes are indexed in bulk, not twice)."""
    path = legacy_dir / "podcasts.db"
    before = v1_rows(path)
    conn = database.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(database.MIGRATIONS)
        triggers = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    finally:
        conn.close()
    assert "episodes_fts_after_insert" not in triggers
    assert v1_rows(path) == before


def test_list_and_search_show_the_old_rows(legacy_dir: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI lists both old episodes with their download state and finds them by words."""
    assert main(["list", "--format", "json", "--data-dir", str(legacy_dir)]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [(r["podcast"], r["title"], r["published"], r["download_status"])
            for r in records] == [
        ("Café Radio Française", "Épisode spécial : les crêpes", "2024-05-05T16:00:00Z",
         "failed"),
        ("Test Radio", "Episode 1: Hello, World", "2024-05-01T12:30:00Z", "done")]
    assert records[1]["duration_seconds"] == 3723
    assert main(["search", "noël", "--data-dir", str(legacy_dir)]) == 0
    out = capsys.readouterr().out
    assert "Épisode spécial" in out and "Test Radio" not in out
    assert main(["search", "first episode", "--format", "json",
                 "--data-dir", str(legacy_dir)]) == 0
    assert [r["title"] for r in json.loads(capsys.readouterr().out)] == [
        "Episode 1: Hello, World"]


def test_a_sync_into_it_updates_old_podcasts_and_adds_new_ones(
        server, legacy_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Syncing an old podcast's feed (now with a second item) and a new feed: the old
    episode keeps its row, the new episodes are stored and searchable."""
    one_item = (Path(__file__).resolve().parent / "feeds" / "one_item.xml").read_text()
    second = ("<item><title>Episode 2: Goodbye</title><guid>test-radio-0002</guid>"
              "<pubDate>Wed, 08 May 2024 08:30:00 -0400</pubDate>"
              "<description>A farewell broadcast.</description></item>\n</channel>")
    server.add("/one.xml", one_item.replace("</channel>", second)
               .replace(LEGACY_HOST, server.base_url).encode())
    server.add_feed("/dup.xml", "duplicate_guids.xml")
    path = legacy_dir / "podcasts.db"
    old_episode = v1_rows(path)["episodes"][0]

    assert main(["--data-dir", str(legacy_dir), "--feed-url", server.url("/one.xml"),
                 "--feed-url", server.url("/dup.xml"), "--no-download"]) == 0

    out = capsys.readouterr().out
    assert "Test Radio: 1 new" in out
    assert "Duplicates: 2 new, 0 updated, 0 unchanged, 1 items skipped" in out
    with closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM episodes WHERE guid = 'test-radio-0001'").fetchone()
        assert (row["id"], row["first_seen_at"], row["title"]) == \
            (old_episode[0], old_episode[15], old_episode[3])
        assert conn.execute("SELECT COUNT(*) FROM episodes").fetchone()[0] == 5
        assert conn.execute("SELECT COUNT(*) FROM podcasts").fetchone()[0] == 3
    assert main(["search", "farewell", "--format", "json", "--data-dir", str(legacy_dir)]) == 0
    assert [r["title"] for r in json.loads(capsys.readouterr().out)] == ["Episode 2: Goodbye"]
    assert main(["search", "noël", "--format", "json", "--data-dir", str(legacy_dir)]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1

"""SQLite storage: migrations, upserts that never wipe columns, FTS5, transactions."""
import sqlite3
from pathlib import Path

import pytest

from podcast_pipeline import catalog, database, download_log
from podcast_pipeline.feed import Episode, ParsedFeed, PodcastInfo, parse_feed

FEED = "http://podcast.test/feed.xml"


def feed_of(*episodes: Episode, title: str = "Show") -> ParsedFeed:
    """A parsed feed holding ``episodes``."""
    return ParsedFeed(podcast=PodcastInfo(title=title), episodes=list(episodes))


def episode(guid: str, **fields: object) -> Episode:
    """An episode with a title and enclosure unless overridden."""
    values = {"title": f"Title {guid}", "enclosure_url": f"http://h/{guid}.mp3",
              "description": f"About {guid}", "published": "2024-05-01T00:00:00Z"}
    values.update(fields)
    return Episode(guid=guid, **values)  # type: ignore[arg-type]


@pytest.fixture(name="conn")
def fixture_conn(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A migrated database in a temporary folder."""
    conn = database.connect(tmp_path / "podcasts.db")
    yield conn
    conn.close()


def test_connect_migrates_once_in_wal_mode(tmp_path: Path) -> None:
    """user_version equals the number of migrations; reconnecting changes nothing."""
    path = tmp_path / "podcasts.db"
    database.connect(path).close()
    conn = database.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(database.MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"podcasts", "episodes", "downloads", "episodes_fts"} <= tables
    conn.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    """A database from a newer program is not touched."""
    path = tmp_path / "podcasts.db"
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 99")
    with pytest.raises(database.StorageError, match="newer than this program"):
        database.connect(path)


def test_not_a_database_is_one_clear_error(tmp_path: Path) -> None:
    """A random file where the database should be: StorageError, not a traceback."""
    path = tmp_path / "podcasts.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(database.StorageError, match="cannot open the database"):
        database.connect(path)


def test_counts_new_updated_unchanged(conn: sqlite3.Connection) -> None:
    """Re-saving adds exactly the new guids and updates only changed fields."""
    first = catalog.save_feed(conn, FEED, feed_of(episode("a"), episode("b")))
    assert (first.new, first.updated, first.unchanged) == (2, 0, 0)
    second = catalog.save_feed(conn, FEED, feed_of(episode("a"), episode("b", title="New b"),
                                                   episode("c")))
    assert (second.new, second.updated, second.unchanged) == (1, 1, 1)
    titles = dict(conn.execute("SELECT guid, title FROM episodes").fetchall())
    assert titles == {"a": "Title a", "b": "New b", "c": "Title c"}


def test_upsert_never_wipes_other_columns(conn: sqlite3.Connection) -> None:
    """A column a later migration adds (the transcript, migration 2) and the download
    state survive an update of the episode; a field missing from the feed keeps its value."""
    summary = catalog.save_feed(conn, FEED, feed_of(episode("a", duration_seconds=60)))
    conn.execute("UPDATE episodes SET transcript = 'hello world'")
    episode_id = conn.execute("SELECT id FROM episodes").fetchone()[0]
    download_log.record_download_done(conn, episode_id, source_url="http://h/a.mp3", path="p.mp3",
                                 size=3, sha256="abc")
    catalog.save_feed(conn, FEED, feed_of(episode("a", title="Renamed", duration_seconds=None)))
    row = conn.execute("SELECT title, transcript, duration_seconds, podcast_id FROM episodes "
                       "JOIN downloads ON downloads.episode_id = episodes.id").fetchone()
    assert tuple(row) == ("Renamed", "hello world", 60, summary.podcast_id)
    assert conn.execute("SELECT status, path FROM downloads").fetchone()[:] == ("done", "p.mp3")


def test_search_follows_inserts_and_updates(conn: sqlite3.Connection) -> None:
    """The FTS index finds new words and forgets replaced ones."""
    catalog.save_feed(conn, FEED, feed_of(episode("a", title="Inflation explained")))
    assert [r["title"] for r in catalog.search_episodes(conn, "inflation")] == [
        "Inflation explained"]
    catalog.save_feed(conn, FEED, feed_of(episode("a", title="Tariffs explained")))
    assert catalog.search_episodes(conn, "inflation") == []
    assert len(catalog.search_episodes(conn, "TARIFFS explained")) == 1
    assert catalog.search_episodes(conn, "about a")[0]["snippet"].startswith("[About]")


def test_an_absurd_duration_does_not_sink_the_feed(conn: sqlite3.Connection) -> None:
    """A duration too large for SQLite is stored as unknown; the feed is still saved."""
    parsed = parse_feed(b"<rss><channel><title>T</title><item><guid>1</guid>"
                        b"<itunes:duration>1e30</itunes:duration></item></channel></rss>", FEED)
    assert catalog.save_feed(conn, FEED, parsed).new == 1
    assert conn.execute("SELECT duration_seconds FROM episodes").fetchone()[0] is None


@pytest.mark.parametrize("query, titles", [('"unbalanced', []), ("AND", []), ("a OR", []),
                                           ("title:*", ["Title a"]), ("NEAR(", []),
                                           ("   ", []), ('"about" a', ["Title a"])])
def test_any_search_text_is_a_valid_query(conn: sqlite3.Connection, query: str,
                                          titles: list[str]) -> None:
    """FTS5 syntax in user text is searched literally, as words: never an SQL error."""
    catalog.save_feed(conn, FEED, feed_of(episode("a")))
    assert [r["title"] for r in catalog.search_episodes(conn, query)] == titles


def test_nested_transactions_roll_back_only_the_inner_block(conn: sqlite3.Connection) -> None:
    """An error inside a nested block undoes that block (a savepoint), not the outer one."""
    with database.transaction(conn):
        conn.execute("INSERT INTO podcasts (feed_url, current_url, created_at, updated_at) "
                     "VALUES ('outer', 'outer', 'now', 'now')")
        with pytest.raises(ValueError):
            with database.transaction(conn):
                conn.execute("INSERT INTO podcasts (feed_url, current_url, created_at, "
                             "updated_at) VALUES ('inner', 'inner', 'now', 'now')")
                raise ValueError("inner block fails")
    assert conn.execute("SELECT feed_url FROM podcasts").fetchall()[0][:] == ("outer",)
    assert conn.execute("SELECT COUNT(*) FROM podcasts").fetchone()[0] == 1


def test_the_original_error_is_never_hidden_by_a_failed_rollback(
        conn: sqlite3.Connection) -> None:
    """When the transaction has already ended, the block's own error is what surfaces."""
    with pytest.raises(ValueError, match="the real problem"):
        with database.transaction(conn):
            conn.execute("ROLLBACK")  # as SQLite does itself on some errors
            raise ValueError("the real problem")
    assert not conn.in_transaction


def test_a_failing_feed_write_leaves_nothing_behind(conn: sqlite3.Connection) -> None:
    """One transaction per feed: an error midway rolls back the podcast row too."""
    broken = feed_of(episode("a"), Episode(guid=None))  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        catalog.save_feed(conn, FEED, broken)
    assert conn.execute("SELECT COUNT(*) FROM podcasts").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM episodes").fetchone()[0] == 0


def test_list_filters_by_podcast_and_orders_newest_first(conn: sqlite3.Connection) -> None:
    """``list`` shows the newest first; the filter matches title or URL."""
    catalog.save_feed(conn, FEED, feed_of(episode("old", published="2023-01-01T00:00:00Z"),
                                          episode("new", published="2024-01-01T00:00:00Z"),
                                          title="Alpha"))
    catalog.save_feed(conn, "http://other.test/rss", feed_of(episode("x"), title="Beta"))
    assert [r["title"] for r in catalog.list_episodes(conn, podcast="alpha")] == [
        "Title new", "Title old"]
    assert [r["podcast"] for r in catalog.list_episodes(conn, podcast="other.test")] == ["Beta"]
    assert len(catalog.list_episodes(conn, limit=None)) == 3


def test_pending_downloads_skip_done_and_retry_failed(conn: sqlite3.Connection) -> None:
    """Done and deleted episodes are never fetched again; failed ones are retried."""
    catalog.save_feed(conn, FEED, feed_of(
        episode("a", published="2024-01-03T00:00:00Z"),
        episode("b", published="2024-01-02T00:00:00Z"),
        episode("c", published="2024-01-01T00:00:00Z"),
        episode("d", enclosure_url=None)))
    ids = dict(conn.execute("SELECT guid, id FROM episodes").fetchall())
    download_log.record_download_done(conn, ids["a"], source_url="u", path="a", size=1, sha256="x")
    download_log.record_download_failure(conn, ids["b"], source_url="u", error="HTTP 500")
    download_log.mark_deleted(conn, [ids["c"]])  # no row yet: nothing to mark
    assert [r["guid"] for r in download_log.pending_downloads(conn)] == ["b", "c"]
    assert [r["guid"] for r in download_log.pending_downloads(conn, newest_per_podcast=2)] == ["b"]
    assert [r["guid"] for r in download_log.pending_downloads(conn, limit=1)] == ["b"]
    assert download_log.pending_downloads(conn, podcast_ids=[999]) == []

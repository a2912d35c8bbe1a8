"""Schema versions 4 and 5 (issue 20): the segment tables migrate in, and storing a feed
stores its episodes' transcript and chapters links."""
import sqlite3
from pathlib import Path

import pytest

from podcast_pipeline import catalog, database, segment_store
from podcast_pipeline.feed import Episode, ParsedFeed, PodcastInfo
from podcast_pipeline.transcript_choice import TranscriptLink

FEED = "http://podcast.test/feed.xml"
VTT = TranscriptLink("http://podcast.test/t/1.vtt", "text/vtt", "en", "captions")
SRT = TranscriptLink("http://podcast.test/t/1.srt", "application/x-subrip", "es")
CHAPTERS = "http://podcast.test/c/1.json"


def feed_of(*episodes: Episode) -> ParsedFeed:
    """A parsed feed holding ``episodes``."""
    return ParsedFeed(podcast=PodcastInfo(title="Show", language="en"), episodes=list(episodes))


def episode_id(conn: sqlite3.Connection, guid: str) -> int:
    """The stored id of the episode ``guid``."""
    return int(conn.execute("SELECT id FROM episodes WHERE guid = ?", (guid,)).fetchone()[0])


@pytest.fixture(name="conn")
def fixture_conn(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A migrated database in a temporary folder."""
    conn = database.connect(tmp_path / "podcasts.db")
    yield conn
    conn.close()


def test_a_version_3_database_migrates_and_keeps_its_generated_transcripts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The previous schema gains the segment tables; a speech-to-text transcript stored
    before becomes a "generated" transcript whose words the segment search finds."""
    path = tmp_path / "podcasts.db"
    monkeypatch.setattr(database, "MIGRATIONS", database.MIGRATIONS[:3])
    monkeypatch.setattr(catalog, "save_links", lambda *args: 0)  # no link table at version 3
    conn = database.connect(path)
    catalog.save_feed(conn, FEED, feed_of(Episode("a", title="Spoken"), Episode("b", title="Mute")))
    conn.execute("UPDATE episodes SET transcript = ' we talk about money  ', "
                 "transcript_status = 'done', transcribed_at = '2024-05-02T00:00:00Z' "
                 "WHERE guid = 'a'")
    conn.execute("UPDATE episodes SET transcript_status = 'failed' WHERE guid = 'b'")
    conn.close()
    monkeypatch.undo()

    conn = database.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(database.MIGRATIONS) >= 5
        spoken, mute = episode_id(conn, "a"), episode_id(conn, "b")
        stored = segment_store.transcript_of(conn, spoken)
        assert stored is not None
        assert (stored["source"], stored["format"], stored["segment_count"],
                stored["stored_at"]) == ("generated", "text", 1, "2024-05-02T00:00:00Z")
        assert segment_store.transcript_of(conn, mute) is None
        hits = segment_store.search_segments(conn, "money")
        assert [(hit["episode_id"], hit["start"]) for hit in hits] == [(spoken, None)]
        assert segment_store.segments_of(conn, spoken)[0].text == "we talk about money"
        catalog.save_feed(conn, FEED, feed_of(Episode("a", title="Spoken", transcripts=(VTT,))))
        assert segment_store.links_of(conn, spoken) == ([VTT], None)
    finally:
        conn.close()


def test_storing_a_feed_stores_its_links(conn: sqlite3.Connection) -> None:
    """Every transcript link (feed order, type, language, rel) and the chapters URL."""
    catalog.save_feed(conn, FEED, feed_of(
        Episode("1", title="One", transcripts=(VTT, SRT), chapters_url=CHAPTERS),
        Episode("2", title="Two")))
    assert segment_store.links_of(conn, episode_id(conn, "1")) == ([VTT, SRT], CHAPTERS)
    assert segment_store.links_of(conn, episode_id(conn, "2")) == ([], None)
    assert segment_store.episodes_with_links(conn) == [(episode_id(conn, "1"), "en")]


def test_changed_links_replace_the_old_ones(conn: sqlite3.Connection) -> None:
    """A later feed's links replace the stored ones, even when nothing else changed; an
    episode no longer in the feed keeps its links."""
    catalog.save_feed(conn, FEED, feed_of(Episode("1", title="One", transcripts=(VTT, SRT)),
                                          Episode("2", title="Two", chapters_url=CHAPTERS)))
    summary = catalog.save_feed(conn, FEED, feed_of(Episode("1", title="One",
                                                            transcripts=(SRT,))))
    assert (summary.new, summary.updated, summary.unchanged) == (0, 0, 1)
    assert segment_store.links_of(conn, episode_id(conn, "1")) == ([SRT], None)
    assert segment_store.links_of(conn, episode_id(conn, "2")) == ([], CHAPTERS)
    catalog.save_feed(conn, FEED, feed_of(Episode("1", title="One")))
    assert segment_store.links_of(conn, episode_id(conn, "1")) == ([], None)


def test_a_link_that_cannot_be_stored_rolls_back_the_whole_feed(
        conn: sqlite3.Connection) -> None:
    """Links are written in the feed's transaction: a failing one leaves no episode."""
    broken = TranscriptLink(None, "text/vtt")  # type: ignore[arg-type]  # url is NOT NULL
    with pytest.raises(sqlite3.IntegrityError):
        catalog.save_feed(conn, FEED, feed_of(Episode("1", title="One"),
                                              Episode("2", title="Two", transcripts=(broken,))))
    assert conn.execute("SELECT COUNT(*) FROM episodes").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM episode_links").fetchone()[0] == 0

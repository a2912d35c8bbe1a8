"""``episode_search.search``: title/description matches first, then transcript matches."""
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from podcast_pipeline import database, episode_search, segment_store
from podcast_pipeline.segment_store import TranscriptSource
from podcast_pipeline.transcript_formats import Segment


@pytest.fixture(name="conn")
def fixture_conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """Episode 1 has "rates" in its title; episode 2 only in its transcript, twice;
    episode 3 nowhere."""
    conn = database.connect(tmp_path / "podcasts.db")
    conn.execute("INSERT INTO podcasts (id, feed_url, current_url, title, created_at, "
                 "updated_at) VALUES (1, 'http://f', 'http://f', 'Show', 'now', 'now')")
    for number, title in ((1, "Rates on hold"), (2, "Jobs day"), (3, "Weather")):
        conn.execute("INSERT INTO episodes (id, podcast_id, guid, title, content_hash, "
                     "first_seen_at, updated_at) VALUES (?, 1, ?, ?, 'h', 'now', 'now')",
                     (number, f"g{number}", title))
    conn.execute("INSERT INTO episodes_fts (rowid, title, description, transcript) "
                 "SELECT id, title, description, transcript FROM episodes")
    segment_store.replace_transcript(conn, 2, TranscriptSource("publisher", "vtt"), [
        Segment(3723.0, 3725.0, "Ann", "rates again, later on"),
        Segment(0.0, 2.0, None, "hello"),
        Segment(60.0, 62.0, None, "rates first")])
    yield conn
    conn.close()


def test_title_matches_come_first_then_transcript_matches_in_time_order(
        conn: sqlite3.Connection) -> None:
    """One row per episode; an episode's segments are sorted by start time."""
    rows = episode_search.search(conn, "rates")
    assert [(row["id"], row["snippet"]) for row in rows] == [(1, "[Rates] on hold"), (2, None)]
    assert rows[0]["segments"] == []
    assert [(s["start"], s["speaker"]) for s in rows[1]["segments"]] == [
        (60.0, None), (3723.0, "Ann")]


def test_limit_counts_episodes(conn: sqlite3.Connection) -> None:
    """``limit`` bounds the episodes, not the segments."""
    assert [row["id"] for row in episode_search.search(conn, "rates", limit=1)] == [1]
    assert episode_search.search(conn, "nothing here") == []

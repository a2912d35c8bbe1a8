"""Transcript segments and chapters in SQLite: replace in one transaction, search with times."""
import doctest
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from podcast_pipeline import segment_store
from podcast_pipeline.chapters import Chapter
from podcast_pipeline.segment_store import TranscriptSource
from podcast_pipeline.transcript_formats import Segment, parse_transcript

DATA = Path(__file__).resolve().parent / "data" / "transcripts"
VTT = TranscriptSource(source="publisher", format="vtt", url="https://h/t.vtt", language="en",
                       etag='"v1"')


@pytest.fixture(name="conn")
def fixture_conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A database with three episodes and the segment tables, foreign keys enforced."""
    conn = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.executescript("CREATE TABLE episodes (id INTEGER PRIMARY KEY, title TEXT);"
                       "INSERT INTO episodes VALUES (1, 'one'), (2, 'two'), (3, 'three');")
    conn.executescript(segment_store.SCHEMA)
    yield conn
    conn.close()


def vtt_segments() -> list[Segment]:
    """The segments of the WebVTT fixture."""
    return parse_transcript((DATA / "episode.vtt").read_bytes(), "vtt")


def fts_rows(conn: sqlite3.Connection) -> int:
    """Rows the full-text index holds (its integrity is checked too)."""
    conn.execute("INSERT INTO segments_fts (segments_fts, rank) VALUES ('integrity-check', 1)")
    return conn.execute("SELECT COUNT(*) FROM segments_fts").fetchone()[0]


def test_search_finds_a_phrase_with_its_start_time(conn: sqlite3.Connection) -> None:
    """The phrase is found in the segment that holds it, with that segment's time."""
    segment_store.replace_transcript(conn, 1, VTT, vtt_segments())
    hits = segment_store.search_segments(conn, "federal reserve", phrase=True)
    assert [(h["episode_id"], h["start"], h["speaker"]) for h in hits] == [
        (1, 9.8, "Kai Ryssdal")]
    assert "[Federal Reserve]" in hits[0]["snippet"]
    patient = segment_store.search_segments(conn, "fed patient")
    assert [(h["start"], h["end"]) for h in patient] == [(754.0, 759.5)]


def test_phrase_and_all_words_differ(conn: sqlite3.Connection) -> None:
    """All words may be anywhere in a segment; a phrase must be side by side."""
    segment_store.replace_transcript(conn, 1, VTT, [Segment(0.0, 1.0, None, "reserve the federal")])
    assert len(segment_store.search_segments(conn, "federal reserve")) == 1
    assert not segment_store.search_segments(conn, "federal reserve", phrase=True)
    assert not segment_store.search_segments(conn, "   ")


def test_operators_typed_by_the_user_are_plain_words(conn: sqlite3.Connection) -> None:
    """FTS5 syntax in the query neither errors nor acts as an operator."""
    segment_store.replace_transcript(conn, 1, VTT, [Segment(0.0, 1.0, None, "rates and jobs")])
    assert segment_store.search_segments(conn, 'rates AND "jobs') != []
    assert segment_store.search_segments(conn, "rates NOT jobs") == []
    assert segment_store.search_segments(conn, "jobs*") != []  # the * is dropped by the tokenizer


def test_replacing_a_transcript_replaces_all_its_segments(conn: sqlite3.Connection) -> None:
    """A new transcript (e.g. a changed URL) leaves nothing of the old one, in the table or
    the index; other episodes are untouched."""
    segment_store.replace_transcript(conn, 1, VTT, vtt_segments())
    segment_store.replace_transcript(conn, 2, VTT, [Segment(1.0, 2.0, None, "Federal Reserve")])
    srt = TranscriptSource(source="publisher", format="srt", url="https://h/new.srt")
    segment_store.replace_transcript(conn, 1, srt, [Segment(5.0, 6.0, None, "New words only")])
    assert segment_store.segments_of(conn, 1) == [Segment(5.0, 6.0, None, "New words only")]
    assert [h["episode_id"] for h in segment_store.search_segments(conn, "federal")] == [2]
    row = segment_store.transcript_of(conn, 1)
    assert row is not None
    assert (row["url"], row["format"], row["etag"], row["segment_count"]) == (
        "https://h/new.srt", "srt", None, 1)
    assert fts_rows(conn) == 2


def test_a_failed_replacement_keeps_the_old_transcript(conn: sqlite3.Connection) -> None:
    """An error half-way (here: a segment without text) rolls the whole replacement back."""
    segment_store.replace_transcript(conn, 1, VTT, vtt_segments())
    broken = [Segment(0.0, 1.0, None, "fine"), Segment(1.0, 2.0, None, None)]  # type: ignore
    with pytest.raises(sqlite3.IntegrityError):
        segment_store.replace_transcript(conn, 1, VTT, broken)
    assert segment_store.segments_of(conn, 1) == vtt_segments()
    assert fts_rows(conn) == 5
    assert not conn.in_transaction


def test_inside_a_caller_transaction_a_savepoint_is_used(conn: sqlite3.Connection) -> None:
    """Nested in the caller's transaction, a failure undoes only its own part."""
    conn.execute("BEGIN IMMEDIATE")
    segment_store.replace_transcript(conn, 1, VTT, [Segment(0.0, 1.0, None, "kept")])
    with pytest.raises(sqlite3.IntegrityError):
        no_text = Segment(0.0, 1.0, None, None)  # type: ignore[arg-type]
        segment_store.replace_transcript(conn, 2, VTT, [no_text])
    conn.execute("COMMIT")
    assert segment_store.segments_of(conn, 1) == [Segment(0.0, 1.0, None, "kept")]
    assert segment_store.transcript_of(conn, 2) is None


def test_unknown_source_is_refused(conn: sqlite3.Connection) -> None:
    """Only 'publisher' and 'generated' transcripts exist."""
    with pytest.raises(ValueError, match="unknown transcript source"):
        segment_store.replace_transcript(conn, 1, TranscriptSource("guess", "vtt"), [])


def test_deleting_an_episode_removes_its_segments_from_the_index(conn: sqlite3.Connection) -> None:
    """ON DELETE CASCADE plus the delete trigger keep the index exact."""
    segment_store.replace_transcript(conn, 1, VTT, vtt_segments())
    segment_store.replace_chapters(conn, 1, [Chapter(0.0, "Intro")], url="https://h/c.json")
    conn.execute("DELETE FROM episodes WHERE id = 1")
    assert segment_store.search_segments(conn, "marketplace") == []
    assert segment_store.transcript_of(conn, 1) is None
    assert segment_store.chapters_of(conn, 1) == []
    assert fts_rows(conn) == 0


def test_checked_keeps_segments_and_updates_validators(conn: sqlite3.Connection) -> None:
    """A 304 records the new validators only."""
    segment_store.replace_transcript(conn, 1, VTT, vtt_segments())
    segment_store.mark_transcript_checked(conn, 1, last_modified="Wed, 01 May 2024 10:00:00 GMT")
    row = segment_store.transcript_of(conn, 1)
    assert row is not None
    assert (row["etag"], row["last_modified"]) == ('"v1"', "Wed, 01 May 2024 10:00:00 GMT")
    assert len(segment_store.segments_of(conn, 1)) == 5


def test_untimed_segments_are_stored_and_found(conn: sqlite3.Connection) -> None:
    """Plain-text transcripts have no times; search returns None for them."""
    text = TranscriptSource(source="generated", format="text")
    segment_store.replace_transcript(conn, 3, text, [Segment(None, None, None, "rates rose")])
    hit, = segment_store.search_segments(conn, "rates")
    assert (hit["episode_id"], hit["start"], hit["end"]) == (3, None, None)


def test_chapters_round_trip_and_replace(conn: sqlite3.Connection) -> None:
    """Chapters come back in order with every field; a new set replaces the old."""
    first = [Chapter(0.0, "Intro"), Chapter(9.8, "Fed", end=60.0, url="https://f/",
                                             image_url="https://i/", toc=False)]
    assert segment_store.replace_chapters(conn, 1, first, url="https://h/c.json",
                                          etag='"c1"') == 2
    assert segment_store.chapters_of(conn, 1) == first
    segment_store.replace_chapters(conn, 1, [Chapter(5.0, "Only")], url="https://h/c2.json")
    assert segment_store.chapters_of(conn, 1) == [Chapter(5.0, "Only")]
    assert conn.execute("SELECT url, etag FROM chapter_sources").fetchall() == [
        ("https://h/c2.json", None)]


def test_doctests() -> None:
    """The examples in the docstrings hold."""
    result = doctest.testmod(segment_store)
    assert result.attempted > 0 and result.failed == 0

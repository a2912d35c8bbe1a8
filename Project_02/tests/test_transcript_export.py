"""export --transcripts: one readable .vtt per episode with a transcript."""
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from podcast_pipeline import database, segment_store
from podcast_pipeline.segment_store import TranscriptSource
from podcast_pipeline.transcript_export import ExportError, export_transcripts
from podcast_pipeline.transcript_formats import Segment, parse_transcript


@pytest.fixture(name="conn")
def fixture_conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """Two episodes of two podcasts: one with a publisher transcript, one generated."""
    conn = database.connect(tmp_path / "podcasts.db")
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'segments'").fetchone():
        conn.executescript(segment_store.SCHEMA)
    for number, title in ((1, "Marketplace"), (2, "Tech Talk")):
        conn.execute("INSERT INTO podcasts (id, feed_url, current_url, title, created_at, "
                     "updated_at) VALUES (?, ?, ?, ?, 'now', 'now')",
                     (number, f"http://f{number}", f"http://f{number}", title))
        conn.execute("INSERT INTO episodes (id, podcast_id, guid, title, content_hash, "
                     "first_seen_at, updated_at) VALUES (?, ?, ?, ?, 'h', 'now', 'now')",
                     (number, number, f"g{number}", f"Rates & jobs #{number}"))
    conn.execute("INSERT INTO episodes (id, podcast_id, guid, title, content_hash, "
                 "first_seen_at, updated_at) VALUES (3, 1, 'g3', 'No text', 'h', 'now', 'now')")
    segment_store.replace_transcript(conn, 1, TranscriptSource("publisher", "vtt"),
                                     [Segment(1.0, 2.5, "Kai", "Hello & welcome.")])
    segment_store.replace_transcript(conn, 2, TranscriptSource("generated", "text"),
                                     [Segment(None, None, None, "spoken words")])
    yield conn
    conn.close()


def test_one_vtt_per_episode_with_a_transcript(conn: sqlite3.Connection,
                                               tmp_path: Path) -> None:
    """Publisher and generated transcripts are both written; each file reads back."""
    written = export_transcripts(conn, tmp_path / "out")
    assert [path.name for path in written] == ["1-rates-jobs-1.vtt", "2-rates-jobs-2.vtt"]
    assert parse_transcript(written[0].read_bytes(), "vtt") == [
        Segment(1.0, 2.5, "Kai", "Hello & welcome.")]
    assert parse_transcript(written[1].read_bytes(), "vtt")[0].text == "spoken words"
    assert not list((tmp_path / "out").glob("*.part"))


def test_podcast_filter(conn: sqlite3.Connection, tmp_path: Path) -> None:
    """--podcast limits the export to matching podcasts."""
    assert [p.name for p in export_transcripts(conn, tmp_path, podcast="tech")] == [
        "2-rates-jobs-2.vtt"]


def test_unwritable_folder_is_an_export_error(conn: sqlite3.Connection,
                                              tmp_path: Path) -> None:
    """A file where the folder should be: one ExportError."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="cannot write transcripts"):
        export_transcripts(conn, blocker)

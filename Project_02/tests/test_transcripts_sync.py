"""Publisher transcripts and chapters through the whole pipeline and the command line.

A local server serves the golden ``podcasting20.xml`` feed (an episode naming an HTML,
a WebVTT and a Spanish SRT transcript, and a chapters file) and the documents it names.
"""
import logging
import sqlite3
from pathlib import Path

import pytest
import requests

from podcast_pipeline import pipeline

DATA = Path(__file__).resolve().parent / "data" / "transcripts"
FEED = "/feed.xml"
VTT = "/t/2024-05-01.vtt"
CHAPTERS = "/c/2024-05-01.json"


def serve_feed(server, *, vtt: bytes | None = None, etag: str | None = '"v1"') -> str:
    """Serve the feed, its WebVTT (``vtt``: other bytes) and its chapters; return its URL."""
    server.add_feed(FEED, "podcasting20.xml")
    server.add("/t/2024-05-01.html", (DATA / "episode.html").read_bytes(),
               content_type="text/html")
    server.add(VTT, (DATA / "episode.vtt").read_bytes() if vtt is None else vtt,
               content_type="text/vtt", etag=etag)
    server.add(CHAPTERS, (DATA / "chapters.json").read_bytes(),
               content_type="application/json+chapters", etag='"c1"')
    return server.url(FEED)


def rows(data_dir: Path, sql: str) -> list[tuple]:
    """Run a read query on the data folder's database."""
    with sqlite3.connect(data_dir / "podcasts.db") as conn:
        return conn.execute(sql).fetchall()


def test_sync_fetches_transcripts_and_chapters_without_audio(
        server, session: requests.Session, tmp_path: Path) -> None:
    """``--no-download`` still fetches the small text documents: the WebVTT (best format,
    feed language) and the chapters are stored; the HTML and Spanish SRT are not fetched."""
    url = serve_feed(server)
    summary = pipeline.sync(tmp_path, [url], session=session, downloads=None)
    assert summary.downloads is None
    assert summary.transcripts == pipeline.TranscriptsSummary(fetched=2, segments=5,
                                                              chapters=4)
    assert rows(tmp_path, "SELECT source, format, url, segment_count FROM transcripts") == [
        ("publisher", "vtt", server.url(VTT), 5)]
    assert server.hits("/t/2024-05-01.html") == []
    assert server.hits("/t/2024-05-01.es.srt") == []
    assert (tmp_path / "transcripts" / "1.vtt").is_file()


def test_a_bad_transcript_is_one_warning_and_the_run_goes_on(
        server, session: requests.Session, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """A 404 for the WebVTT: one warning for the episode, the chapters are still stored."""
    url = serve_feed(server)
    del server.routes[VTT]
    with caplog.at_level(logging.WARNING):
        summary = pipeline.sync(tmp_path, [url], session=session, downloads=None)
    assert (summary.new, summary.failed_feeds) == (2, ())
    texts = summary.transcripts
    assert (texts.fetched, texts.failed, texts.chapters) == (1, 1, 4)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("episode 1: transcript not stored")
    assert "HTTP 404" in warnings[0] and texts.warnings == (warnings[0],)
    assert rows(tmp_path, "SELECT COUNT(*) FROM segments") == [(0,)]

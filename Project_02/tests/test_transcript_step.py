"""The transcript step against a local server: choose, fetch, store, 304, replace, fail."""
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from podcast_pipeline import database, segment_store
from podcast_pipeline.chapters import Chapter
from podcast_pipeline.transcript_choice import TranscriptLink
from podcast_pipeline.transcript_fetch import DocumentFetchError, fetch_document
from podcast_pipeline.transcript_step import fetch_links

DATA = Path(__file__).resolve().parent / "data" / "transcripts"


@pytest.fixture(name="conn")
def fixture_conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """The tool's database (its migrations make the segment tables) and two episodes of an
    English feed."""
    conn = database.connect(tmp_path / "podcasts.db")
    conn.execute("INSERT INTO podcasts (id, feed_url, current_url, language, created_at, "
                 "updated_at) VALUES (1, 'http://f', 'http://f', 'en-us', 'now', 'now')")
    for number in (1, 2):
        conn.execute("INSERT INTO episodes (id, podcast_id, guid, title, published, "
                     "content_hash, first_seen_at, updated_at) VALUES (?, 1, ?, ?, ?, 'h', "
                     "'now', 'now')", (number, f"g{number}", f"Episode {number}",
                                       f"2024-05-0{number}T00:00:00Z"))
    yield conn
    conn.close()


def serve(server: object, path: str, name: str, content_type: str, **options: object) -> str:
    """Serve a transcript fixture at ``path``; return its URL."""
    server.add(path, (DATA / name).read_bytes(), content_type=content_type,  # type: ignore
               **options)
    return server.url(path)  # type: ignore[attr-defined]


def test_best_transcript_and_chapters_are_stored_and_searchable(
        conn: sqlite3.Connection, server: object, session: requests.Session,
        tmp_path: Path) -> None:
    """WebVTT is chosen over HTML; the phrase is found with its start time; chapters kept."""
    html_url = serve(server, "/t1.html", "episode.html", "text/html")
    vtt_url = serve(server, "/t1.vtt", "episode.vtt", "text/vtt", etag='"v1"')
    chapters_url = serve(server, "/c1.json", "chapters.json", "application/json+chapters")
    segment_store.replace_links(conn, 1, [TranscriptLink(html_url, "text/html", "en"),
                                          TranscriptLink(vtt_url, "text/vtt", "en")],
                                chapters_url)
    summary = fetch_links(conn, session, tmp_path / "transcripts")
    assert (summary.fetched, summary.failed, summary.segments, summary.chapters) == (2, 0, 5, 4)
    hit, = segment_store.search_segments(conn, "federal reserve", phrase=True)
    assert (hit["episode_id"], hit["start"]) == (1, 9.8)
    assert segment_store.chapters_of(conn, 1)[1] == Chapter(
        9.8, "The Federal Reserve", url="https://www.federalreserve.gov/",
        image_url="https://podcast.test/img/fed.jpg")
    assert server.hits("/t1.html") == []  # type: ignore[attr-defined]
    assert (tmp_path / "transcripts" / "1.vtt").exists()
    assert not list((tmp_path / "transcripts").glob("*.part"))


def test_second_run_sends_validators_and_refetches_nothing(
        conn: sqlite3.Connection, server: object, session: requests.Session,
        tmp_path: Path) -> None:
    """An unchanged transcript answers 304: counted unchanged, segments untouched."""
    url = serve(server, "/t1.vtt", "episode.vtt", "text/vtt", etag='"v1"')
    segment_store.replace_links(conn, 1, [TranscriptLink(url, "text/vtt")], None)
    fetch_links(conn, session, tmp_path)
    ids_before = conn.execute("SELECT id FROM segments ORDER BY id").fetchall()
    summary = fetch_links(conn, session, tmp_path)
    assert (summary.fetched, summary.unchanged) == (0, 1)
    assert server.hits("/t1.vtt")[-1]["If-None-Match"] == '"v1"'  # type: ignore[attr-defined]
    assert conn.execute("SELECT id FROM segments ORDER BY id").fetchall() == ids_before


def test_a_changed_transcript_url_replaces_the_old_segments(
        conn: sqlite3.Connection, server: object, session: requests.Session,
        tmp_path: Path) -> None:
    """The feed now names an SRT: its segments replace the WebVTT ones."""
    vtt = serve(server, "/t1.vtt", "episode.vtt", "text/vtt", etag='"v1"')
    segment_store.replace_links(conn, 1, [TranscriptLink(vtt, "text/vtt")], None)
    fetch_links(conn, session, tmp_path)
    srt = serve(server, "/t1-v2.srt", "episode.srt", "application/x-subrip")
    segment_store.replace_links(conn, 1, [TranscriptLink(srt, "application/x-subrip")], None)
    assert fetch_links(conn, session, tmp_path).fetched == 1
    assert segment_store.search_segments(conn, "marketplace") == []
    hit, = segment_store.search_segments(conn, "mortgage")
    assert hit["start"] == 3.5
    row = segment_store.transcript_of(conn, 1)
    assert row is not None and (row["url"], row["format"]) == (srt, "srt")


def test_bad_documents_are_warnings_for_their_episode_only(
        conn: sqlite3.Connection, server: object, session: requests.Session,
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A 404, an HTML page served as VTT and hostile chapters: one warning each, nothing
    stored for them, and the other episode's transcript is stored."""
    server.add("/login.vtt", b"<!DOCTYPE html><html>Sign in</html>",  # type: ignore
               content_type="text/vtt")
    server.add("/deep.json", b"[" * 50_000 + b"]" * 50_000,  # type: ignore[attr-defined]
               content_type="application/json")
    good = serve(server, "/t2.srt", "episode.srt", "application/srt")
    segment_store.replace_links(conn, 1, [TranscriptLink(server.url("/login.vtt"),  # type: ignore
                                                         "text/vtt")],
                                server.url("/deep.json"))  # type: ignore[attr-defined]
    segment_store.replace_links(conn, 2, [TranscriptLink(good, "application/srt")],
                                server.url("/missing.json"))  # type: ignore[attr-defined]
    with caplog.at_level(logging.WARNING):
        summary = fetch_links(conn, session, tmp_path)
    assert (summary.fetched, summary.failed) == (1, 3)
    assert sorted(r.getMessage().split(":")[0] for r in caplog.records) == [
        "episode 1", "episode 1", "episode 2"]
    assert "got an HTML page" in caplog.text and "nested too deeply" in caplog.text
    assert "HTTP 404" in caplog.text
    assert segment_store.transcript_of(conn, 1) is None
    assert segment_store.chapters_of(conn, 1) == []
    assert len(segment_store.segments_of(conn, 2)) == 3
    again = fetch_links(conn, session, tmp_path)
    assert (again.skipped, again.failed, len(server.hits("/login.vtt"))) == (  # type: ignore
        3, 0, 1)


def test_a_failed_new_version_keeps_the_old_transcript(
        conn: sqlite3.Connection, server: object, session: requests.Session,
        tmp_path: Path) -> None:
    """A new link that turns out truncated (cut inside a cue's timing line) leaves the
    stored segments in place."""
    vtt = serve(server, "/t1.vtt", "episode.vtt", "text/vtt")
    segment_store.replace_links(conn, 1, [TranscriptLink(vtt, "text/vtt")], None)
    fetch_links(conn, session, tmp_path)
    whole = (DATA / "episode.vtt").read_bytes()
    server.add("/cut.vtt", whole[:whole.index(b"00:12:39.500 -->") + 20],  # type: ignore
               content_type="text/vtt")
    segment_store.replace_links(conn, 1, [TranscriptLink(server.url("/cut.vtt"),  # type: ignore
                                                         "text/vtt")], None)
    assert fetch_links(conn, session, tmp_path).failed == 1
    assert len(segment_store.segments_of(conn, 1)) == 5


def test_fetch_document_refuses_oversized_bodies(server: object, session: requests.Session,
                                                 tmp_path: Path) -> None:
    """Too large (declared or streamed): an error, no file, no .part left."""
    server.add("/big.vtt", b"x" * 5000, content_type="text/vtt")  # type: ignore[attr-defined]
    dest = tmp_path / "big.vtt"
    with pytest.raises(DocumentFetchError, match="more than the 1,000 bytes allowed"):
        fetch_document(session, server.url("/big.vtt"), dest,  # type: ignore[attr-defined]
                       max_bytes=1000)
    assert not list(tmp_path.iterdir())
    with pytest.raises(DocumentFetchError, match="only http and https"):
        fetch_document(session, "file:///etc/passwd", dest)


def test_fetch_document_reports_the_charset(server: object, session: requests.Session,
                                            tmp_path: Path) -> None:
    """The Content-Type's charset is handed on for decoding."""
    server.add("/t.srt", b"1\n00:00:01,000 --> 00:00:02,000\nCaf\xe9\n",  # type: ignore
               content_type='application/x-subrip; charset="ISO-8859-1"')
    fetched = fetch_document(session, server.url("/t.srt"),  # type: ignore[attr-defined]
                             tmp_path / "t.srt")
    assert fetched.charset == "ISO-8859-1"
    assert fetched.path is not None and fetched.path.read_bytes().endswith(b"\xe9\n")

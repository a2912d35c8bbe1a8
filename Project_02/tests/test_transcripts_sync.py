"""Publisher transcripts and chapters through the whole pipeline and the command line.

A local server serves the golden ``podcasting20.xml`` feed (an episode naming an HTML,
a WebVTT and a Spanish SRT transcript, and a chapters file) and the documents it names.
"""
import json
import logging
import sqlite3
from pathlib import Path

import pytest
import requests
import webvtt

from podcast_pipeline import pipeline
from podcast_summary import main

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



@pytest.fixture(name="synced")
def fixture_synced(server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A data folder synced once by the command line (no audio); its output is read."""
    url = serve_feed(server)
    assert main(["--data-dir", str(tmp_path), "--feed-url", url, "--no-download"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (
        "transcripts and chapters: 2 fetched (5 segments, 4 chapters), 0 unchanged, 0 failed")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command line; return its exit code, stdout and stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_search_shows_each_matching_segment_with_its_start_time(
        synced: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The table gives the episode, then the segment's time (M:SS) and speaker."""
    code, out, _ = run(capsys, "search", "federal reserve", "--data-dir", str(synced))
    assert code == 0
    lines = out.splitlines()
    assert "Rates on hold" in lines[1]
    assert lines[2] == (f"{'':<12}    0:09  Kai Ryssdal: We begin, as we so often do, with "
                        "the [Federal] [Reserve] and what it did to…")
    code, out, _ = run(capsys, "search", "patient", "--data-dir", str(synced))
    assert out.splitlines()[2].split()[0] == "12:34"


def test_search_json_gives_seconds_and_the_formatted_time(
        synced: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--format json: start_seconds is a number, start the text shown in the table."""
    code, out, _ = run(capsys, "search", "patient", "--format", "json", "--data-dir",
                       str(synced))
    [episode] = json.loads(out)
    assert (code, episode["title"], episode["snippet"]) == (0, "Rates on hold", None)
    assert episode["segments"] == [{
        "start_seconds": 754.0, "start": "12:34", "end_seconds": 759.5,
        "speaker": "Nancy Marshall-Genzer",
        "snippet": "Rates stay where they are & the Fed says it is [patient], for now."}]
    _, out, _ = run(capsys, "search", "hold", "--format", "json", "--data-dir", str(synced))
    assert [(e["title"], e["snippet"], e["segments"]) for e in json.loads(out)] == [
        ("Rates on hold", "Rates on [hold]", [])]


def test_a_second_sync_sends_validators_and_refetches_nothing(
        server, synced: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The unchanged transcript and chapters answer 304; the segments stay as they were."""
    before = rows(synced, "SELECT id, text FROM segments ORDER BY id")
    code, out, _ = run(capsys, "--data-dir", str(synced), "--feed-url", server.url(FEED),
                       "--no-download")
    assert code == 0
    assert out.splitlines()[-1] == (
        "transcripts and chapters: 0 fetched (0 segments, 0 chapters), 2 unchanged, 0 failed")
    assert server.hits(VTT)[-1]["If-None-Match"] == '"v1"'
    assert server.hits(CHAPTERS)[-1]["If-None-Match"] == '"c1"'
    assert len(server.hits(VTT)) == 2
    assert rows(synced, "SELECT id, text FROM segments ORDER BY id") == before


def test_a_changed_transcript_url_replaces_the_old_segments(
        server, synced: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The feed now names an SRT instead of the WebVTT: its segments replace the old ones."""
    route = server.routes[FEED]
    route.body = route.body.replace(b"/t/2024-05-01.vtt", b"/t/2024-05-01-v2.srt").replace(
        b'type="text/vtt" language="en"', b'type="application/x-subrip" language="en"')
    server.add("/t/2024-05-01-v2.srt", (DATA / "episode.srt").read_bytes(),
               content_type="application/x-subrip")
    assert run(capsys, "--data-dir", str(synced), "--feed-url", server.url(FEED),
               "--no-download")[0] == 0
    assert rows(synced, "SELECT format, url, segment_count FROM transcripts") == [
        ("srt", server.url("/t/2024-05-01-v2.srt"), 3)]
    _, out, _ = run(capsys, "search", "patient", "--format", "json", "--data-dir", str(synced))
    assert json.loads(out) == []
    _, out, _ = run(capsys, "search", "mortgage", "--format", "json", "--data-dir", str(synced))
    [episode] = json.loads(out)
    assert [(s["start_seconds"], s["start"]) for s in episode["segments"]] == [(3.5, "0:03")]


VTT_BYTES = (DATA / "episode.vtt").read_bytes()


@pytest.mark.parametrize("body, reason", [
    (None, "HTTP 404"),
    (b"<!DOCTYPE html><html><body>Please sign in</body></html>", "got an HTML page"),
    (VTT_BYTES[:VTT_BYTES.index(b"00:12:39.500 -->") + 20], "broken WebVTT cue"),
], ids=["404", "html-instead-of-vtt", "truncated"])
def test_a_bad_transcript_is_one_warning_and_exit_zero(
        server, tmp_path: Path, capsys: pytest.CaptureFixture[str], body: bytes | None,
        reason: str) -> None:
    """One WARNING line naming the episode; the chapters and the run go on; exit 0."""
    url = serve_feed(server, vtt=body or b"")
    if body is None:
        del server.routes[VTT]
    code, out, err = run(capsys, "--data-dir", str(tmp_path), "--feed-url", url,
                         "--no-download")
    assert code == 0
    warnings = [line for line in err.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and "episode 1: transcript not stored" in warnings[0]
    assert reason in warnings[0]
    assert "Traceback" not in err
    assert out.splitlines()[-1] == (
        "transcripts and chapters: 1 fetched (0 segments, 4 chapters), 0 unchanged, 1 failed")
    assert rows(tmp_path, "SELECT COUNT(*) FROM segments") == [(0,)]


def test_list_episode_shows_its_chapters(synced: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """``list --episode ID``: the episode's row, then each chapter's start and title."""
    code, out, _ = run(capsys, "list", "--episode", "1", "--data-dir", str(synced))
    lines = out.splitlines()
    assert code == 0 and "Rates on hold" in lines[1]
    assert lines[2:] == ["chapters: 4", "    0:00  Intro", "    0:09  The Federal Reserve",
                         "   12:34  Markets",
                         "   25:00  Sponsor  (not in the table of contents)"]
    _, out, _ = run(capsys, "list", "--episode", "1", "--format", "json", "--data-dir",
                    str(synced))
    [episode] = json.loads(out)
    assert episode["chapters"][2] == {
        "start_seconds": 754, "start": "12:34", "end_seconds": 1500.5, "title": "Markets",
        "url": None, "image_url": None, "toc": True}


def test_list_an_unknown_episode_is_one_error_line(synced: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """An id that is not stored: exit 1 and one ERROR line."""
    code, out, err = run(capsys, "list", "--episode", "99", "--data-dir", str(synced))
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "ERROR podcast_summary: no episode with id 99; see list --format json"]


def test_export_transcripts_writes_valid_webvtt(synced: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """One .vtt per episode with a transcript; webvtt-py reads back the cues and times."""
    out_dir = tmp_path / "vtt"
    out_dir.mkdir()
    code, out, _ = run(capsys, "export", "--transcripts", str(out_dir), "--data-dir",
                       str(synced))
    assert (code, out) == (0, f"1 transcripts written to {out_dir}\n")
    [written] = sorted(out_dir.iterdir())
    assert written.name == "1-rates-on-hold.vtt"
    captions = webvtt.read(str(written)).captions
    assert [(c.start, c.end) for c in captions][3] == ("00:12:34.000", "00:12:39.500")
    assert captions[2].voice == "Kai Ryssdal"
    assert "Federal Reserve" in captions[2].text


@pytest.mark.parametrize("make", ["missing", "file"])
def test_export_to_a_missing_or_unwritable_folder_is_one_line(
        synced: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], make: str) -> None:
    """A folder that does not exist, or a file in its place: exit 1, one ERROR line."""
    target = tmp_path / "nowhere"
    if make == "file":
        target.write_text("x")
    code, out, err = run(capsys, "export", "--transcripts", str(target), "--data-dir",
                         str(synced))
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"ERROR podcast_summary: {target} is not a folder; create it first"]


@pytest.mark.parametrize("mode, option", [("list", "--episode ID"),
                                          ("export", "--transcripts DIR"),
                                          ("search", "start time")])
def test_help_documents_the_transcript_options(capsys: pytest.CaptureFixture[str], mode: str,
                                               option: str) -> None:
    """Each mode's --help names what it does with transcripts and chapters."""
    with pytest.raises(SystemExit) as exited:
        main([mode, "--help"])
    assert exited.value.code == 0
    assert option in " ".join(capsys.readouterr().out.split())


def test_list_episode_must_be_a_positive_id(capsys: pytest.CaptureFixture[str]) -> None:
    """``--episode 0`` is a usage error (exit 2), before anything is opened."""
    with pytest.raises(SystemExit) as exited:
        main(["list", "--episode", "0"])
    assert exited.value.code == 2
    assert "--episode" in capsys.readouterr().err

"""The pipeline's transcription step and its CLI, with a stand-in for the speech engine.

These run in the main suite (no speech-to-text extra needed): the engine is replaced by a
function that "hears" the audio bytes as text, so what is stored can be checked exactly.
The real engine end to end is in test_transcription.py.
"""
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from podcast_pipeline import catalog, database, pipeline, segment_store, transcription
from podcast_pipeline.pipeline import DownloadOptions
from podcast_pipeline.transcript_formats import Segment
from podcast_summary import main

TRANSCRIPT_COLUMNS = {"transcript", "transcript_status", "transcript_error",
                      "transcript_engine", "transcript_model", "transcript_audio_seconds",
                      "transcript_compute_seconds", "transcript_audio_sha256", "transcribed_at"}


def heard(path: Path, _engine: object = None, progress: object = None) -> transcription.Transcript:
    """Stand-in for transcribe_file: the 'speech' is the file's text; 'bad' files fail."""
    del progress
    if not path.is_file():
        raise transcription.TranscriptionError(f"{path}: no such audio file")
    text = path.read_text()
    if text.startswith("bad"):
        raise transcription.TranscriptionError(f"{path}: could not decode the audio")
    return transcription.Transcript(text=text, engine="stand-in 1.0", model="echo",
                                    audio_seconds=60.0, compute_seconds=30.0)


@pytest.fixture(name="fake_engine")
def fixture_fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the speech engine by ``heard``."""
    monkeypatch.setattr(transcription, "check_available", lambda: None)
    monkeypatch.setattr(transcription, "load_engine", lambda: "stand-in engine")
    monkeypatch.setattr(transcription, "transcribe_file", heard)


@pytest.fixture(name="synced")
def fixture_synced(serve_podcast: Callable[[list[bytes]], str], session: requests.Session,
                   tmp_path: Path) -> Callable[[list[bytes]], Path]:
    """Return a function: audio files (oldest first) -> data folder synced with them."""
    def sync(audio_files: list[bytes]) -> Path:
        pipeline.sync(tmp_path, [serve_podcast(audio_files)], session=session,
                      downloads=DownloadOptions(workers=1))
        return tmp_path
    return sync


def episodes(data_dir: Path) -> dict[str, dict]:
    """Every stored episode as a dict of all its columns, keyed by guid."""
    with sqlite3.connect(data_dir / "podcasts.db") as conn:
        conn.row_factory = sqlite3.Row
        return {row["guid"]: dict(row) for row in conn.execute("SELECT * FROM episodes")}


def dump(data_dir: Path) -> list[str]:
    """The whole database (schema and rows) as SQL statements."""
    with sqlite3.connect(data_dir / "podcasts.db") as conn:
        return list(conn.iterdump())


@pytest.mark.usefixtures("fake_engine")
def test_newest_first_up_to_the_limit_then_the_rest(synced) -> None:
    """``max_transcriptions`` bounds a run, newest first; the next run does the rest."""
    data_dir = synced([b"one", b"two", b"three"])

    first = pipeline.transcribe(data_dir, max_transcriptions=2)
    stored = episodes(data_dir)
    assert (first.transcribed, first.failed) == (2, 0)
    assert [stored[g]["transcript"] for g in ("ep3", "ep2", "ep1")] == ["three", "two", None]

    second = pipeline.transcribe(data_dir, max_transcriptions=2)
    assert second.transcribed == 1
    assert episodes(data_dir)["ep1"]["transcript"] == "one"
    assert pipeline.transcribe(data_dir).transcribed == 0


@pytest.mark.usefixtures("fake_engine")
def test_transcription_keeps_every_other_column(synced) -> None:
    """The transcript is written with UPDATE ... WHERE: no other column changes."""
    data_dir = synced([b"money and markets"])
    before = episodes(data_dir)["ep1"]
    with sqlite3.connect(data_dir / "podcasts.db") as conn:
        other_tables = [conn.execute(f"SELECT * FROM {table}").fetchall()
                        for table in ("podcasts", "downloads")]

    pipeline.transcribe(data_dir)

    after = episodes(data_dir)["ep1"]
    assert {k: v for k, v in after.items() if k not in TRANSCRIPT_COLUMNS} == \
        {k: v for k, v in before.items() if k not in TRANSCRIPT_COLUMNS}
    assert before["title"] == "Episode 1" and before["enclosure_url"].endswith("/ep1.mp3")
    assert {column: after[column] for column in ("transcript", "transcript_status",
                                                 "transcript_engine", "transcript_model",
                                                 "transcript_audio_seconds",
                                                 "transcript_compute_seconds")} == {
        "transcript": "money and markets", "transcript_status": "done",
        "transcript_engine": "stand-in 1.0", "transcript_model": "echo",
        "transcript_audio_seconds": 60.0, "transcript_compute_seconds": 30.0}
    assert after["transcribed_at"].endswith("Z")
    with sqlite3.connect(data_dir / "podcasts.db") as conn:
        [audio_sha256] = conn.execute("SELECT sha256 FROM downloads").fetchone()
        assert after["transcript_audio_sha256"] == audio_sha256
        assert [conn.execute(f"SELECT * FROM {table}").fetchall()
                for table in ("podcasts", "downloads")] == other_tables


@pytest.mark.usefixtures("fake_engine")
def test_a_failing_file_is_recorded_and_skipped(synced) -> None:
    """A file that cannot be transcribed is marked failed, the others carry on, and the
    same bytes are not tried again on the next run."""
    data_dir = synced([b"first words", b"bad bytes", b"last words"])

    summary = pipeline.transcribe(data_dir)

    stored = episodes(data_dir)
    assert (summary.transcribed, summary.failed) == (2, 1)
    assert stored["ep2"]["transcript_status"] == "failed"
    assert stored["ep2"]["transcript"] is None
    assert "could not decode the audio" in stored["ep2"]["transcript_error"]
    assert summary.errors == (stored["ep2"]["transcript_error"],)
    assert [stored[g]["transcript"] for g in ("ep1", "ep3")] == ["first words", "last words"]
    assert pipeline.transcribe(data_dir) == pipeline.TranscribeSummary()


@pytest.mark.usefixtures("fake_engine")
def test_a_missing_audio_file_is_recorded_as_failed(synced) -> None:
    """Audio removed from the data folder by hand fails that episode, not the run."""
    data_dir = synced([b"gone soon", b"still here"])
    for path in (data_dir / "audio").rglob("episode-1-*"):
        path.unlink()

    summary = pipeline.transcribe(data_dir)

    assert (summary.transcribed, summary.failed) == (1, 1)
    assert episodes(data_dir)["ep1"]["transcript_error"].endswith("no such audio file")


@pytest.mark.usefixtures("fake_engine")
def test_transcripts_are_found_by_search(synced) -> None:
    """The FTS5 index covers transcripts along with titles and descriptions."""
    data_dir = synced([b"interest rates and the central bank", b"sunny weather"])
    pipeline.transcribe(data_dir)
    conn = database.connect(data_dir / "podcasts.db")
    try:
        assert [row["title"] for row in catalog.search_episodes(conn, "central bank")] == \
            ["Episode 1"]
        assert [row["title"] for row in catalog.search_episodes(conn, "weather")] == \
            ["Episode 2"]
        assert {row["title"] for row in catalog.search_episodes(conn, "description")} == \
            {"Episode 1", "Episode 2"}
    finally:
        conn.close()


def test_migration_keeps_a_version_1_database_searchable(
        serve_podcast: Callable[[list[bytes]], str], session: requests.Session,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database made before transcripts existed is upgraded in place: rows kept, the
    search index rebuilt over them, transcript columns empty."""
    monkeypatch.setattr(database, "MIGRATIONS", database.MIGRATIONS[:1])
    monkeypatch.setattr(catalog, "save_links", lambda *args: 0)  # no link table at version 1
    monkeypatch.setattr(pipeline, "fetch_transcripts",
                        lambda *args, **kwargs: pipeline.TranscriptsSummary())
    pipeline.sync(tmp_path, [serve_podcast([b"x", b"y"])], session=session, downloads=None)
    before = episodes(tmp_path)
    monkeypatch.undo()

    conn = database.connect(tmp_path / "podcasts.db")
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(database.MIGRATIONS)
        found = catalog.search_episodes(conn, "episode 2")
    finally:
        conn.close()
    after = episodes(tmp_path)
    assert [row["title"] for row in found] == ["Episode 2"]
    for guid, row in after.items():
        assert {k: v for k, v in row.items() if k not in TRANSCRIPT_COLUMNS} == before[guid]
        assert all(row[column] is None for column in TRANSCRIPT_COLUMNS)


@pytest.mark.usefixtures("fake_engine")
def test_cli_transcribe_mode_prints_the_counts(synced, capsys: pytest.CaptureFixture[str]) -> None:
    """``transcribe --max-transcriptions 1`` transcribes the newest episode and says so."""
    data_dir = synced([b"older", b"newer"])
    capsys.readouterr()

    code = main(["transcribe", "--max-transcriptions", "1", "--data-dir", str(data_dir)])

    assert code == 0
    assert capsys.readouterr().out == (
        "transcripts: 1 made (0:01:00 of audio in 0:00:30, real-time factor 0.50), 0 failed\n")
    assert [episodes(data_dir)[g]["transcript"] for g in ("ep2", "ep1")] == ["newer", None]


@pytest.mark.usefixtures("fake_engine")
def test_cli_run_with_transcribe_syncs_then_transcribes(
        serve_podcast: Callable[[list[bytes]], str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """``--transcribe`` on a run: fetch, store, download, then transcribe."""
    url = serve_podcast([b"hello", b"world"])

    code = main(["--feed-url", url, "--data-dir", str(tmp_path), "--transcribe",
                 "--workers", "1"])

    out = capsys.readouterr().out
    assert code == 0
    assert "episodes: 2 new, 0 updated; audio: 2 downloaded" in out
    assert out.endswith("transcripts: 2 made (0:02:00 of audio in 0:01:00, "
                        "real-time factor 0.50), 0 failed\n")
    assert {g: row["transcript"] for g, row in episodes(tmp_path).items()} == \
        {"ep1": "hello", "ep2": "world"}


@pytest.mark.parametrize("module", ["pocketsphinx", "soundfile"])
def test_cli_without_the_extra_says_how_to_install_and_fetches_nothing(
        module: str, serve_podcast: Callable[[list[bytes]], str], server, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Without the extra, ``--transcribe`` ends in one line and exit 1 before any fetch."""
    monkeypatch.setitem(sys.modules, module, None)
    data_dir = tmp_path / "data"
    url = serve_podcast([b"audio"])

    code = main(["--feed-url", url, "--data-dir", str(data_dir), "--transcribe"])

    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("ERROR ") and "speech-to-text is not installed" in line
    assert line.endswith("pip install -r Project_02/requirements-transcribe.txt")
    assert server.requests == []
    assert not data_dir.exists()


def test_cli_transcribe_mode_without_the_extra_changes_nothing(
        synced, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The ``transcribe`` mode without the extra: one line, exit 1, database untouched."""
    data_dir = synced([b"audio"])
    before = dump(data_dir)
    capsys.readouterr()
    monkeypatch.setitem(sys.modules, "pocketsphinx", None)

    code = main(["transcribe", "--data-dir", str(data_dir)])

    captured = capsys.readouterr()
    assert code == 1
    assert len(captured.err.splitlines()) == 1
    assert "requirements-transcribe.txt" in captured.err
    assert dump(data_dir) == before


@pytest.mark.usefixtures("fake_engine")
def test_cli_transcribe_mode_needs_a_database(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Transcribing before any sync is a one-line error, and creates nothing."""
    code = main(["transcribe", "--data-dir", str(tmp_path / "empty")])
    assert code == 1
    assert "run a sync first" in capsys.readouterr().err
    assert not (tmp_path / "empty").exists()


@pytest.mark.usefixtures("fake_engine")
def test_generated_transcripts_are_stored_as_segments(synced) -> None:
    """Speech-to-text output is also the episode's segment, source 'generated', so segment
    search and the .vtt export find it like a publisher's transcript."""
    data_dir = synced([b"talk about the federal reserve"])
    assert pipeline.transcribe(data_dir).transcribed == 1
    conn = database.connect(data_dir / "podcasts.db")
    try:
        [hit] = segment_store.search_segments(conn, "federal reserve", phrase=True)
        stored = segment_store.transcript_of(conn, hit["episode_id"])
    finally:
        conn.close()
    assert (hit["start"], hit["snippet"]) == (None, "talk about the [federal reserve]")
    assert stored is not None
    assert (stored["source"], stored["format"], stored["segment_count"]) == (
        "generated", "text", 1)


@pytest.mark.usefixtures("fake_engine")
def test_episodes_with_a_publisher_transcript_are_not_transcribed(synced) -> None:
    """``--transcribe`` runs only where needed: the episode the publisher transcribed is
    skipped, the other one is transcribed."""
    data_dir = synced([b"older words", b"newer words"])
    conn = database.connect(data_dir / "podcasts.db")
    try:
        newer = conn.execute("SELECT id FROM episodes WHERE guid = 'ep2'").fetchone()[0]
        segment_store.replace_transcript(
            conn, newer, segment_store.TranscriptSource("publisher", "vtt", url="http://t/2.vtt"),
            [Segment(0.0, 2.0, None, "the publisher's words")])
    finally:
        conn.close()
    summary = pipeline.transcribe(data_dir)
    assert summary.transcribed == 1
    stored = episodes(data_dir)
    assert (stored["ep1"]["transcript"], stored["ep2"]["transcript"]) == ("older words", None)
    assert pipeline.transcribe(data_dir).transcribed == 0

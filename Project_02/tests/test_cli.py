"""Command-line behaviour of podcast_summary.py."""
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from podcast_pipeline import pipeline
from podcast_summary import DOWNLOADS_FAILED, main

SCRIPT = Path(__file__).resolve().parents[1] / "podcast_summary.py"
AUDIO = b"ID3" + bytes(range(256)) * 40
OFFLINE = "http://127.0.0.1:9/feed.xml"


def test_help_exits_zero_and_lists_options(capsys: pytest.CaptureFixture[str]) -> None:
    """``--help`` prints the usage with every option and exits 0."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--feed-url", "--feeds-file", "--data-dir", "--no-download",
                   "--max-downloads", "--workers", "--keep", "--timeout", "--log-level",
                   "list", "search", "export"):
        assert option in out


@pytest.mark.parametrize("argv", [["--no-such-option"], ["--workers", "0"],
                                  ["--timeout", "-1"], ["--keep", "x"],
                                  ["export", "--format", "xml"], ["search"]])
def test_bad_arguments_exit_two(argv: list[str]) -> None:
    """argparse rejects unknown options and invalid values with exit code 2."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2


@pytest.mark.parametrize("cwd", [SCRIPT.parents[1], SCRIPT.parent])
def test_script_runs_from_any_directory(cwd: Path) -> None:
    """The script imports its package from the repo root and from its own folder."""
    result = subprocess.run([sys.executable, str(SCRIPT), "--help"], cwd=cwd,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_starting_the_program_does_not_load_scipy() -> None:
    """numpy and scipy (0.6 s to import) are loaded only to transcribe, not for every
    command (a re-sync through the CLI is mostly the program's start)."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import podcast_summary; "
            "print(sorted(name for name in ('numpy', 'scipy', 'scipy.signal') "
            "if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code, str(SCRIPT.parent)],
                            capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


@pytest.fixture(name="synced")
def fixture_synced(server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A data folder after one CLI run on two golden feeds, the audio downloaded."""
    server.add_feed("/one.xml", "one_item.xml")
    server.add_feed("/cafe.xml", "iso_8859_1.xml")
    server.add("/audio/ep1.mp3", AUDIO, content_type="audio/mpeg")
    server.add("/audio/crepes.mp3", AUDIO, content_type="audio/mpeg")
    data_dir = tmp_path / "data"
    code = main(["--data-dir", str(data_dir), "--feed-url", server.url("/one.xml"),
                 "--feed-url", server.url("/cafe.xml")])
    assert code == 0
    out = capsys.readouterr().out
    assert "Test Radio: 1 new, 0 updated, 0 unchanged" in out
    assert "Café Radio Française: 1 new, 0 updated, 0 unchanged" in out
    assert "episodes: 2 new, 0 updated; audio: 2 downloaded" in out
    return data_dir


def test_list_shows_newest_first(synced: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``list`` prints a table, newest episode first; ``--podcast`` filters."""
    assert main(["list", "--data-dir", str(synced)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("2024-05-05  Café Radio Française")
    assert lines[2].startswith("2024-05-01  Test Radio") and "1:02:03  done" in lines[2]
    assert main(["--data-dir", str(synced), "list", "--podcast", "test radio"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_search_uses_full_text(synced: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``search`` finds words in descriptions, accents included."""
    assert main(["search", "noël", "--data-dir", str(synced)]) == 0
    out = capsys.readouterr().out
    assert "Épisode spécial" in out and "Test Radio" not in out
    assert main(["search", "nothing-like-this", "--data-dir", str(synced)]) == 0
    assert capsys.readouterr().out.strip() == "no episodes found"


def test_list_and_search_as_json(synced: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--format json`` gives the same rows as objects; search adds the matching snippet."""
    assert main(["list", "--format", "json", "--data-dir", str(synced)]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["podcast"] for r in records] == ["Café Radio Française", "Test Radio"]
    assert records[1]["duration_seconds"] == 3723 and records[1]["download_status"] == "done"
    assert "snippet" not in records[0]
    assert main(["search", "noël", "--format", "json", "--data-dir", str(synced)]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["title"] for r in records] == ["Épisode spécial : les crêpes"]
    assert "[" in records[0]["snippet"] and "]" in records[0]["snippet"]
    assert main(["search", "nothing-like-this", "--format", "json",
                 "--data-dir", str(synced)]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export(synced: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    """``export`` writes every episode as CSV or JSON to stdout."""
    assert main(["export", "--format", fmt, "--data-dir", str(synced)]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        records = json.loads(out)
        assert {r["title"] for r in records} == {"Episode 1: Hello, World",
                                                 "Épisode spécial : les crêpes"}
        assert all(r["download_status"] == "done" for r in records)
    else:
        header, *lines = out.splitlines()
        assert header.startswith("id,podcast,title,published") and len(lines) == 2


def test_offline_run_is_one_line_and_exit_one(synced: Path, capsys) -> None:
    """Unreachable feed: one ERROR line naming it, exit 1, the database byte-identical."""
    database = synced / "podcasts.db"
    before = database.read_bytes()
    capsys.readouterr()
    assert main(["--data-dir", str(synced), "--feed-url", OFFLINE]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"ERROR podcast_summary: cannot reach feed {OFFLINE}: connection failed "
        "(offline, unknown host or refused)"]
    assert captured.out == ""
    assert database.read_bytes() == before


def test_offline_subprocess_prints_one_line(tmp_path: Path) -> None:
    """Run as a program: exactly one stderr line, no traceback, nothing created."""
    result = subprocess.run([sys.executable, str(SCRIPT), "--data-dir", str(tmp_path / "d"),
                             "--feed-url", OFFLINE, "--timeout", "2"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"ERROR __main__: cannot reach feed {OFFLINE}: connection failed "
        "(offline, unknown host or refused)"]
    assert not (tmp_path / "d").exists()


def test_read_modes_without_a_database_fail_cleanly(tmp_path: Path, capsys) -> None:
    """``list`` before any sync: one error, exit 1, no database created."""
    assert main(["list", "--data-dir", str(tmp_path)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("ERROR") and line.endswith("run a sync first")
    assert not (tmp_path / "podcasts.db").exists()


@pytest.mark.parametrize("kind", ["text", "opml"])
def test_feeds_file(server, tmp_path: Path, capsys, kind: str) -> None:
    """``--feeds-file`` takes one URL a line (with comments) or an OPML export."""
    server.add_feed("/one.xml", "one_item.xml")
    server.add_feed("/dup.xml", "duplicate_guids.xml")
    urls = [server.url("/one.xml"), server.url("/dup.xml")]
    feeds_file = tmp_path / "feeds.txt"
    if kind == "text":
        feeds_file.write_text(f"# my feeds\n{urls[0]}\n\n{urls[1]}\n{urls[0]}\n")
    else:
        outlines = "".join(f'<outline type="rss" text="f" xmlUrl="{u}"/>' for u in urls)
        feeds_file.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>'
                              f'<outline text="Podcasts">{outlines}</outline></body></opml>')
    assert main(["--data-dir", str(tmp_path / "d"), "--feeds-file", str(feeds_file),
                 "--no-download"]) == 0
    out = capsys.readouterr().out
    assert "Duplicates: 2 new, 0 updated, 0 unchanged, 1 items skipped" in out
    assert "episodes: 3 new, 0 updated; audio: downloads skipped" in out


def test_missing_feeds_file_is_one_error(tmp_path: Path, capsys) -> None:
    """A feeds file that does not exist: exit 1 with one readable line."""
    assert main(["--data-dir", str(tmp_path), "--feeds-file", str(tmp_path / "nope")]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "cannot read the feeds file" in line and "No such file" in line


def test_data_dir_comes_from_the_environment(server, tmp_path: Path, monkeypatch) -> None:
    """Without ``--data-dir``, $PODCAST_DATA_DIR (e.g. from .env) chooses the folder."""
    server.add_feed("/one.xml", "one_item.xml")
    monkeypatch.setenv("PODCAST_DATA_DIR", str(tmp_path / "from-env"))
    assert main(["--feed-url", server.url("/one.xml"), "--no-download"]) == 0
    assert (tmp_path / "from-env" / "podcasts.db").exists()


def test_max_downloads_zero_means_no_limit(server, tmp_path: Path, capsys) -> None:
    """``--max-downloads 0`` downloads every pending episode; ``--keep`` then prunes."""
    items = "".join(f'<item><title>E{n}</title><guid>{n}</guid><pubDate>Mon, 0{n} Jan 2024 '
                    f'00:00:00 GMT</pubDate><enclosure url="{server.url(f"/{n}.mp3")}" '
                    'type="audio/mpeg"/></item>' for n in range(1, 5))
    server.add("/f.xml", f"<rss><channel><title>Four</title>{items}</channel></rss>".encode())
    for n in range(1, 5):
        server.add(f"/{n}.mp3", AUDIO + bytes([n]), content_type="audio/mpeg")
    data_dir = tmp_path / "d"
    assert main(["--data-dir", str(data_dir), "--feed-url", server.url("/f.xml"),
                 "--max-downloads", "0", "--workers", "2"]) == 0
    assert "audio: 4 downloaded" in capsys.readouterr().out
    assert main(["--data-dir", str(data_dir), "--feed-url", server.url("/f.xml"),
                 "--keep", "1"]) == 0
    assert "audio: 0 downloaded (0.0 MB), 0 failed, 3 deleted" in capsys.readouterr().out
    assert [p.name[:3] for p in (data_dir / "audio").rglob("*.mp3")] == ["e4-"]


# --- one line, never a traceback (issue 19, section 3) ---------------------------------------

def usage_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run ``main(argv)``, expect exit 2 and return its one stderr line."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    return line


@pytest.mark.parametrize("value", ["0", "-1", "99999999999999999999", "x"])
def test_limits_out_of_range_are_one_consistent_line(capsys, value: str) -> None:
    """``--limit`` 0, -1, a number too large for SQLite, or text: the same wording."""
    line = usage_error(capsys, ["list", "--limit", value])
    assert line == (f"podcast_summary.py list: error: argument --limit: '{value}' must be a "
                    "whole number from 1 to 9223372036854775807 (see --help)")


def test_the_largest_limit_is_accepted(synced: Path, capsys) -> None:
    """The largest number SQLite can bind lists everything (no OverflowError)."""
    assert main(["list", "--limit", str(2**63 - 1), "--data-dir", str(synced)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


@pytest.mark.parametrize("url", ["", "   ", "feed.xml", "ftp://host/feed.xml", "http://"])
def test_a_feed_url_that_is_not_http_is_a_usage_error(capsys, url: str) -> None:
    """``--feed-url ""`` (or any non-http(s) URL) is refused by argparse, exit 2."""
    line = usage_error(capsys, ["--feed-url", url])
    assert line.endswith(f"argument --feed-url: {url!r} is not an http(s) URL (see --help)")


def test_a_mistyped_option_is_named(capsys) -> None:
    """``--feed-ulr URL`` names the option, not "invalid choice: 'http://...'"."""
    line = usage_error(capsys, ["--feed-ulr", "http://127.0.0.1:9/feed.xml"])
    assert line == ("podcast_summary.py: error: unrecognized option --feed-ulr "
                    "(did you mean --feed-url?) (see --help)")


def test_abbreviated_options_still_work(capsys) -> None:
    """A prefix of one option is accepted as argparse allows; a shared prefix is named."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--feeds", "/nonexistent", "--help"])
    assert exit_info.value.code == 0
    capsys.readouterr()
    assert "ambiguous option: --feed could match" in usage_error(capsys, ["--feed", "x"])


@pytest.mark.parametrize("mode", [["--feed-url", OFFLINE], ["list"]])
def test_a_data_dir_that_is_a_file_is_one_line(tmp_path: Path, capsys, mode) -> None:
    """``--data-dir`` naming a file (or a path below one): exit 1, one ERROR line."""
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    for data_dir in (a_file, a_file / "sub"):
        assert main([*mode, "--data-dir", str(data_dir)]) == 1
        [line] = capsys.readouterr().err.splitlines()
        assert line == (f"ERROR podcast_summary: the data folder {data_dir} is not a folder: "
                        f"{a_file} is a file")


def test_a_lock_that_cannot_be_opened_is_one_line(server, tmp_path: Path, capsys) -> None:
    """A lock file that cannot be opened (here a folder in its place): exit 1, one line."""
    server.add_feed("/one.xml", "one_item.xml")
    (tmp_path / ".lock").mkdir()
    assert main(["--data-dir", str(tmp_path), "--feed-url", server.url("/one.xml")]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"ERROR podcast_summary: cannot open the run lock {tmp_path}/.lock")


def test_a_read_only_data_folder_is_one_line(server, tmp_path: Path, capsys,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The feed cannot be staged (EACCES, as a read-only folder gives): one line, exit 1."""
    server.add_feed("/one.xml", "one_item.xml")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(tmp_path / "feeds"))

    monkeypatch.setattr("podcast_pipeline.pipeline.tempfile.mkstemp", refuse)
    assert main(["--data-dir", str(tmp_path), "--feed-url", server.url("/one.xml")]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line == (f"ERROR podcast_summary: cannot stage the feed {server.url('/one.xml')} "
                    f"in {tmp_path}/feeds: Permission denied")


def test_a_read_only_database_is_one_line(synced: Path, capsys,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite refusing to write (a read-only file): one line, exit 1."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr("podcast_pipeline.catalog.list_episodes", refuse)
    assert main(["list", "--data-dir", str(synced)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "ERROR podcast_summary: database error: attempt to write a readonly database"]


def test_failed_downloads_end_with_their_own_exit_code(server, tmp_path: Path, capsys) -> None:
    """A feed stored but its audio missing (404): the summary, then exit 3, not 0."""
    server.add_feed("/one.xml", "one_item.xml")
    code = main(["--data-dir", str(tmp_path), "--feed-url", server.url("/one.xml")])
    assert code == DOWNLOADS_FAILED == 3
    assert capsys.readouterr().out.splitlines()[-1] == (
        "episodes: 1 new, 0 updated; audio: 0 downloaded (0.0 MB), 1 failed, 0 deleted")


def test_the_staged_feed_is_removed_after_ctrl_c(server, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while a feed is stored: the staged copy under feeds/ is removed too."""
    server.add_feed("/one.xml", "one_item.xml")
    fetched = pipeline.fetch(tmp_path, server.url("/one.xml"))
    assert Path(fetched.staged_path).exists()

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("podcast_pipeline.catalog.save_feed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.store(tmp_path, fetched)
    assert not list((tmp_path / "feeds").iterdir())


def test_empty_channel_and_http_charset_feeds_sync(server, tmp_path: Path, capsys) -> None:
    """An empty <channel> is a feed of 0 episodes (exit 0); the HTTP charset reaches the
    parser, so an undeclared Big5 feed is stored with the right characters."""
    server.add_feed("/empty.xml", "empty_channel.xml")
    server.add_feed("/big5.xml", "big5_http_charset.xml",
                    content_type="application/rss+xml; charset=Big5")
    assert main(["--data-dir", str(tmp_path), "--feed-url", server.url("/empty.xml"),
                 "--feed-url", server.url("/big5.xml"), "--no-download"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{server.url('/empty.xml')}: 0 new, 0 updated, 0 unchanged"
    assert out[1] == "只在 HTTP 標頭宣告的編碼: 1 new, 0 updated, 0 unchanged"


def test_each_failure_is_logged_once(server, tmp_path: Path, capsys) -> None:
    """A dead feed (ERROR, by the CLI) and a failed download (WARNING, by the step): one
    line each on stderr, and the run still prints its summary."""
    server.add_feed("/one.xml", "one_item.xml")
    code = main(["--data-dir", str(tmp_path), "--log-level", "WARNING",
                 "--feed-url", server.url("/one.xml"), "--feed-url", OFFLINE])
    assert code == 1
    captured = capsys.readouterr()
    warning, error = captured.err.splitlines()
    assert warning.startswith("WARNING podcast_pipeline.pipeline: download failed: ")
    assert "404" in warning
    assert error == (f"ERROR podcast_summary: cannot reach feed {OFFLINE}: connection failed "
                     "(offline, unknown host or refused)")
    assert f"{OFFLINE}: FAILED" in captured.out.splitlines()

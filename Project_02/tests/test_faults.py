"""Fault injection: crashes, bad servers, a full disk and concurrent runs lose nothing.

Every test ends the same way: SQLite's ``PRAGMA integrity_check`` says ok, every
download recorded as done is a complete file (never a ``.part``) whose size and sha256
match the database, and a rerun completes the work. Crashes are real ``SIGKILL``s of
the command-line process, timed with a slow local server or a large feed.
"""
import hashlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from podcast_summary import DOWNLOADS_FAILED, main

SCRIPT = Path(__file__).resolve().parents[1] / "podcast_summary.py"
KIB = 1024
OLDEST = datetime(2020, 1, 1, 6, 0, tzinfo=timezone.utc)


def audio_bytes(size: int, seed: int = 0) -> bytes:
    """Return ``size`` bytes of fake audio, different for each ``seed``."""
    block = bytes((seed + n) % 256 for n in range(256))
    return (block * (size // 256 + 1))[:size]


def feed_xml(items: list[tuple[str, str]], title: str = "Fault Radio",
             description: str = "") -> bytes:
    """An RSS feed of ``(guid, enclosure URL)`` items, newest first, one hour apart.

    Dates count from the oldest item, so items keep their dates when a feed grows.
    """
    entries = []
    for age, (guid, url) in enumerate(reversed(items)):
        published = format_datetime(OLDEST + timedelta(hours=age), usegmt=True)
        entries.append(
            f"<item><guid>{guid}</guid><title>Episode {guid}</title>"
            f"<pubDate>{published}</pubDate><description>{description}{guid}</description>"
            f'<enclosure url="{url}" type="audio/mpeg"/></item>')
    entries.reverse()
    return f"<rss><channel><title>{title}</title>{''.join(entries)}</channel></rss>".encode()


def cli(data_dir: Path, *args: str) -> list[str]:
    """The command line of a sync run as a separate process."""
    return [sys.executable, str(SCRIPT), "--data-dir", str(data_dir), "--log-level",
            "WARNING", *args]


def wait_for(condition: Callable[[], bool], process: subprocess.Popen, seconds: float = 20) -> None:
    """Poll ``condition`` every 10 ms while ``process`` runs; fail if it never holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, f"the run ended (exit {process.returncode}) too early"
        assert time.monotonic() < deadline, "the window to inject the fault never came"
        time.sleep(0.01)


def wait_until_storing(data_dir: Path, process: subprocess.Popen) -> None:
    """Wait until the run's SQLite WAL passes 1 MiB: it is storing episodes.

    The migration's WAL is ~50 KB; a growing WAL past 1 MB is the episode upsert. SQLite
    deletes the WAL when the run closes the database, so a missing file counts as empty.
    """
    wal = data_dir / "podcasts.db-wal"

    def wal_size() -> int:
        try:
            return wal.stat().st_size
        except FileNotFoundError:
            return 0
    wait_for(lambda: wal_size() > 1024 * KIB, process)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL ``process``: no cleanup code of it runs."""
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL


def part_files(data_dir: Path) -> list[Path]:
    """The partial downloads present on disk."""
    return list(data_dir.rglob("*.part"))


def query(data_dir: Path, sql: str) -> list[tuple]:
    """Run one read query on the data folder's database."""
    with closing(sqlite3.connect(data_dir / "podcasts.db")) as conn:
        return conn.execute(sql).fetchall()


def assert_consistent(data_dir: Path) -> int:
    """Check the database and every file it records as done; return how many are done."""
    assert query(data_dir, "PRAGMA integrity_check") == [("ok",)]
    assert query(data_dir, "PRAGMA foreign_key_check") == []
    done = query(data_dir, "SELECT path, bytes, sha256 FROM downloads WHERE status = 'done'")
    for path, size, sha256 in done:
        assert not path.endswith(".part")
        content = (data_dir / path).read_bytes()
        assert (len(content), hashlib.sha256(content).hexdigest()) == (size, sha256)
    return len(done)


def downloaded(data_dir: Path) -> dict[str, bytes]:
    """Episode guid -> content of its downloaded file, for the downloads marked done."""
    rows = query(data_dir, "SELECT e.guid, d.path FROM downloads d "
                           "JOIN episodes e ON e.id = d.episode_id WHERE d.status = 'done'")
    return {guid: (data_dir / path).read_bytes() for guid, path in rows}


def test_sigkill_while_downloading_keeps_the_part_and_resumes(server, tmp_path: Path) -> None:
    """Killed mid-download: nothing marked done; the rerun resumes with a Range request."""
    audio = audio_bytes(1024 * KIB)
    route = server.add("/a/slow.mp3", audio, content_type="audio/mpeg", chunk_delay=0.2)
    server.add("/feed.xml", feed_xml([("slow", server.url("/a/slow.mp3"))]))
    with subprocess.Popen(cli(tmp_path, "--feed-url", server.url("/feed.xml"))) as run:
        wait_for(lambda: any(p.stat().st_size >= 256 * KIB for p in part_files(tmp_path)), run)
        kill(run)

    assert assert_consistent(tmp_path) == 0
    [part] = part_files(tmp_path)
    kept = part.stat().st_size
    assert 0 < kept < len(audio) and part.read_bytes() == audio[:kept]

    route.chunk_delay = 0.0
    assert main(["--data-dir", str(tmp_path), "--feed-url", server.url("/feed.xml")]) == 0
    assert server.hits("/a/slow.mp3")[-1]["Range"] == f"bytes={kept}-"
    assert assert_consistent(tmp_path) == 1
    assert downloaded(tmp_path) == {"slow": audio} and not part_files(tmp_path)


@pytest.mark.usefixtures("sigint_reaches_children")
def test_ctrl_c_while_downloading_in_parallel_stops_at_once(server, tmp_path: Path) -> None:
    """Ctrl-C during four slow parallel downloads: the run ends within seconds (not when
    the downloads would finish), keeps the parts, marks nothing done; the rerun resumes."""
    audio = {f"e{n}": audio_bytes(512 * KIB, seed=n) for n in range(4)}
    # 64 KiB chunks 0.75 s apart: 6 s per file, so a run that let the two downloads
    # under way finish would stop 5 s or more after Ctrl-C; the 3 s allowed below leave
    # a loaded machine room to handle the interrupt and exit Python, far below that.
    routes = [server.add(f"/a/{guid}.mp3", body, content_type="audio/mpeg", chunk_delay=0.75)
              for guid, body in audio.items()]
    server.add("/feed.xml", feed_xml([(guid, server.url(f"/a/{guid}.mp3")) for guid in audio]))
    args = ("--feed-url", server.url("/feed.xml"), "--workers", "2")
    with subprocess.Popen(cli(tmp_path, *args), stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as run:
        wait_for(lambda: len(part_files(tmp_path)) == 2, run)
        os.killpg(run.pid, signal.SIGINT)
        interrupted = time.monotonic()
        _, stderr = run.communicate(timeout=30)
        stopped_after = time.monotonic() - interrupted

    assert run.returncode == 130 and stopped_after < 3.0
    assert stderr.splitlines()[-1].startswith("ERROR __main__: interrupted")
    assert "Traceback" not in stderr
    assert assert_consistent(tmp_path) == 0
    assert len(part_files(tmp_path)) == 2

    for route in routes:
        route.chunk_delay = 0.0
    assert main(["--data-dir", str(tmp_path), *args]) == 0
    assert assert_consistent(tmp_path) == 4
    assert downloaded(tmp_path) == audio and not part_files(tmp_path)


def test_sigkill_while_storing_a_feed_commits_nothing(server, tmp_path: Path) -> None:
    """Killed inside the feed's transaction: no episode (and no podcast) half-stored."""
    count = 8000
    items = [(f"g{n}", server.url(f"/a/{n}.mp3")) for n in range(count)]
    server.add("/big.xml", feed_xml(items, description="Notes about the show. " * 20))
    args = ("--feed-url", server.url("/big.xml"), "--no-download")
    with subprocess.Popen(cli(tmp_path, *args)) as run:
        wait_until_storing(tmp_path, run)
        kill(run)

    assert_consistent(tmp_path)
    assert query(tmp_path, "SELECT COUNT(*) FROM episodes") == [(0,)]
    assert query(tmp_path, "SELECT COUNT(*) FROM podcasts") == [(0,)]

    assert main(["--data-dir", str(tmp_path), *args]) == 0
    assert_consistent(tmp_path)
    assert query(tmp_path, "SELECT COUNT(*), COUNT(DISTINCT guid) FROM episodes") == [
        (count, count)]
    assert query(tmp_path, "SELECT COUNT(*) FROM episodes_fts WHERE episodes_fts MATCH "
                           "'g7999'") == [(1,)]
    assert not list((tmp_path / "feeds").iterdir())  # the killed run's staged feed is gone


@pytest.mark.usefixtures("sigint_reaches_children")
def test_ctrl_c_while_storing_rolls_back_with_one_line(server, tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the terminal's process group) while a big feed is stored: exit
    130 with one line, nothing half-stored, the staged feed removed."""
    # enough episodes that storing them takes a while even on a busy machine
    items = [(f"g{n}", server.url(f"/a/{n}.mp3")) for n in range(20000)]
    server.add("/big.xml", feed_xml(items, description="Notes about the show. " * 100))
    args = ("--feed-url", server.url("/big.xml"), "--no-download")
    with subprocess.Popen(cli(tmp_path, *args), stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as run:
        wait_until_storing(tmp_path, run)
        os.killpg(run.pid, signal.SIGINT)
        _, stderr = run.communicate(timeout=30)

    assert run.returncode == 130
    assert stderr.splitlines() == [
        "ERROR __main__: interrupted: episodes stored before are kept, the feed being "
        "stored was rolled back, and partial downloads resume on the next run"]
    assert_consistent(tmp_path)
    assert query(tmp_path, "SELECT COUNT(*) FROM episodes") == [(0,)]
    assert not list((tmp_path / "feeds").iterdir())


def test_connection_dropped_mid_body_is_resumed_next_run(server, tmp_path: Path) -> None:
    """A body cut short three times fails this run (part kept); the next run resumes it."""
    audio = audio_bytes(1536 * KIB, seed=3)
    server.add("/a/cut.mp3", audio, content_type="audio/mpeg", drop_after=400 * KIB, drops=3)
    server.add("/feed.xml", feed_xml([("cut", server.url("/a/cut.mp3"))]))
    args = ["--data-dir", str(tmp_path), "--feed-url", server.url("/feed.xml")]

    assert main(args) == DOWNLOADS_FAILED  # the feed synced; the failed download is reported
    [(status, error)] = query(tmp_path, "SELECT status, last_error FROM downloads")
    assert status == "failed" and "partial file is kept" in error
    assert assert_consistent(tmp_path) == 0
    [part] = part_files(tmp_path)
    kept = part.stat().st_size
    assert 0 < kept < len(audio) and part.read_bytes() == audio[:kept]
    ranges = [hit.get("Range") for hit in server.hits("/a/cut.mp3")]
    assert ranges[0] is None and all(ranges[1:])  # resumed within the run, too

    assert main(args) == 0
    assert server.hits("/a/cut.mp3")[-1]["Range"] == f"bytes={kept}-"
    assert assert_consistent(tmp_path) == 1 and downloaded(tmp_path) == {"cut": audio}


def test_feed_dropped_mid_body_leaves_the_database_untouched(server, tmp_path: Path) -> None:
    """A truncated feed download is an error for that feed; nothing is stored."""
    body = feed_xml([(f"g{n}", server.url(f"/a/{n}.mp3")) for n in range(50)])
    server.add("/feed.xml", body, drop_after=len(body) // 2, drops=1)
    args = ["--data-dir", str(tmp_path), "--feed-url", server.url("/feed.xml"),
            "--no-download"]
    assert main(args) == 1
    assert not (tmp_path / "podcasts.db").exists()
    assert main(args) == 0
    assert_consistent(tmp_path)
    assert query(tmp_path, "SELECT COUNT(*) FROM episodes") == [(50,)]


def test_500_then_200_is_retried_within_the_run(server, tmp_path: Path) -> None:
    """A 500 on the feed and on the audio is retried (with backoff) in the same run."""
    audio = audio_bytes(40 * KIB, seed=5)
    server.add("/a/ep.mp3", audio, content_type="audio/mpeg", script=[(500, {})])
    server.add("/feed.xml", feed_xml([("ep", server.url("/a/ep.mp3"))]), script=[(500, {})])
    assert main(["--data-dir", str(tmp_path), "--feed-url", server.url("/feed.xml")]) == 0
    assert len(server.hits("/feed.xml")) == 2 and len(server.hits("/a/ep.mp3")) == 2
    assert assert_consistent(tmp_path) == 1 and downloaded(tmp_path) == {"ep": audio}


def test_500_every_time_fails_cleanly_then_a_rerun_completes(server, tmp_path: Path,
                                                              capsys) -> None:
    """More 500s than retries: one clear error, no database; a later run succeeds."""
    server.add("/feed.xml", feed_xml([("ep", server.url("/a/ep.mp3"))]),
               script=[(500, {})] * 3)
    server.add("/a/ep.mp3", audio_bytes(10 * KIB), content_type="audio/mpeg")
    args = ["--data-dir", str(tmp_path), "--feed-url", server.url("/feed.xml")]
    assert main(args) == 1
    assert f"cannot fetch feed {server.url('/feed.xml')}: HTTP 500" in capsys.readouterr().err
    assert not (tmp_path / "podcasts.db").exists()
    assert main(args) == 0
    assert assert_consistent(tmp_path) == 1


def test_429_with_retry_after_is_honoured(server, tmp_path: Path) -> None:
    """429 + ``Retry-After: 1``: the run waits that second, then gets the feed."""
    server.add("/feed.xml", feed_xml([("ep", server.url("/a/ep.mp3"))]),
               script=[(429, {"Retry-After": "1"})])
    server.add("/a/ep.mp3", audio_bytes(10 * KIB), content_type="audio/mpeg")
    started = time.monotonic()
    assert main(["--data-dir", str(tmp_path), "--feed-url", server.url("/feed.xml")]) == 0
    assert time.monotonic() - started >= 1.0
    assert len(server.hits("/feed.xml")) == 2
    assert assert_consistent(tmp_path) == 1


def test_server_that_never_answers_times_out(server, tmp_path: Path, capsys) -> None:
    """A silent host (connection accepted, no reply) times out: the feed fails, and an
    audio file on such a host fails only its episode; reruns complete the work."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as silent:
        silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        args = ["--data-dir", str(tmp_path), "--timeout", "0.3"]
        started = time.monotonic()
        assert main([*args, "--feed-url", silent_url + "/feed.xml"]) == 1
        assert time.monotonic() - started < 10
        assert "timed out" in capsys.readouterr().err and not (tmp_path / "podcasts.db").exists()

        good = audio_bytes(20 * KIB, seed=7)
        server.add("/a/good.mp3", good, content_type="audio/mpeg")
        server.add("/feed.xml", feed_xml([("good", server.url("/a/good.mp3")),
                                          ("stuck", silent_url + "/stuck.mp3")]))
        assert main([*args, "--feed-url", server.url("/feed.xml")]) == DOWNLOADS_FAILED
        assert query(tmp_path, "SELECT status FROM downloads JOIN episodes e "
                               "ON e.id = episode_id WHERE guid = 'stuck'") == [("failed",)]
        assert assert_consistent(tmp_path) == 1 and downloaded(tmp_path) == {"good": good}

    stuck = audio_bytes(20 * KIB, seed=8)  # the host is back, at a new address
    server.add("/a/stuck.mp3", stuck, content_type="audio/mpeg")
    server.add("/feed.xml", feed_xml([("good", server.url("/a/good.mp3")),
                                      ("stuck", server.url("/a/stuck.mp3"))]))
    assert main([*args, "--feed-url", server.url("/feed.xml")]) == 0
    assert assert_consistent(tmp_path) == 2
    assert downloaded(tmp_path) == {"good": good, "stuck": stuck}


def test_full_disk_fails_one_episode_and_the_others_continue(server, tmp_path: Path) -> None:
    """The OS refuses to write a big file (RLIMIT_FSIZE: EFBIG, as a full disk gives
    ENOSPC): that episode gets a clear error and stays pending; the others finish."""
    big, small = audio_bytes(1536 * KIB, seed=1), audio_bytes(30 * KIB, seed=2)
    server.add("/a/big.mp3", big, content_type="audio/mpeg")
    server.add("/a/small.mp3", small, content_type="audio/mpeg")
    server.add("/feed.xml", feed_xml([("big", server.url("/a/big.mp3")),
                                      ("small", server.url("/a/small.mp3"))]))
    args = ["--feed-url", server.url("/feed.xml")]
    limit = 1024 * KIB  # no file of this process may grow past 1 MiB
    launcher = ("import resource, runpy, sys; "
                f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
                "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")
    env = {**os.environ, "PYTHONPATH": str(SCRIPT.parent)}
    result = subprocess.run([sys.executable, "-c", launcher, *cli(tmp_path, *args)[1:]],
                            env=env, capture_output=True, text=True, timeout=60, check=False)

    assert "File too large" in result.stderr and ".part" in result.stderr, result.stderr
    assert query(tmp_path, "SELECT e.guid, d.status FROM downloads d JOIN episodes e "
                           "ON e.id = d.episode_id ORDER BY e.guid") == [
        ("big", "failed"), ("small", "done")]
    assert assert_consistent(tmp_path) == 1 and downloaded(tmp_path) == {"small": small}

    assert main(["--data-dir", str(tmp_path), *args]) == 0  # space again: resumed, done
    assert assert_consistent(tmp_path) == 2
    assert downloaded(tmp_path) == {"big": big, "small": small}


def test_second_run_on_the_same_folder_exits_with_a_clear_message(server,
                                                                  tmp_path: Path) -> None:
    """While one run downloads, another on the same folder stops at once (exit 1, one
    line); every file is fetched exactly once and nothing is corrupted."""
    audio = {f"e{n}": audio_bytes(512 * KIB, seed=n) for n in range(3)}
    # 1 s per 64 KiB keeps the first run downloading until the second has finished.
    routes = [server.add(f"/a/{guid}.mp3", body, content_type="audio/mpeg", chunk_delay=1.0)
              for guid, body in audio.items()]
    server.add("/feed.xml", feed_xml([(guid, server.url(f"/a/{guid}.mp3")) for guid in audio]))
    args = ("--feed-url", server.url("/feed.xml"))
    with subprocess.Popen(cli(tmp_path, *args)) as first:
        wait_for(lambda: bool(part_files(tmp_path)), first)
        second = subprocess.run(cli(tmp_path, *args), capture_output=True, text=True,
                                timeout=60, check=False)
        assert first.poll() is None, "the first run ended before the second one started"
        for route in routes:
            route.chunk_delay = 0.0
        assert first.wait(timeout=60) == 0

    assert second.returncode == 1
    [line] = second.stderr.strip().splitlines()
    assert "another run" in line and str(tmp_path) in line
    assert all(len(server.hits(f"/a/{guid}.mp3")) == 1 for guid in audio)
    assert assert_consistent(tmp_path) == 3 and downloaded(tmp_path) == audio
    assert main(["--data-dir", str(tmp_path), *args]) == 0  # and the folder is free again
    assert all(len(server.hits(f"/a/{guid}.mp3")) == 1 for guid in audio)


def test_feed_growing_from_10_to_10000_items(server, tmp_path: Path) -> None:
    """The 9,990 new items are added in one run; the first 10 and their audio stay."""
    def items(count: int) -> list[tuple[str, str]]:  # the 10 old ones stay the oldest
        return [(f"g{n}", server.url(f"/a/{n}.mp3")) for n in range(count - 1, -1, -1)]
    for n in range(10):
        server.add(f"/a/{n}.mp3", audio_bytes(4 * KIB, seed=n), content_type="audio/mpeg")
    server.add("/feed.xml", feed_xml(items(10)))
    args = ["--data-dir", str(tmp_path), "--feed-url", server.url("/feed.xml")]
    assert main(args) == 0
    first = query(tmp_path, "SELECT id, guid, first_seen_at FROM episodes ORDER BY id")
    assert assert_consistent(tmp_path) == 10

    server.add("/feed.xml", feed_xml(items(10_000)))
    assert main([*args, "--no-download"]) == 0
    assert query(tmp_path, "SELECT COUNT(*), COUNT(DISTINCT guid) FROM episodes") == [
        (10_000, 10_000)]
    assert query(tmp_path, "SELECT id, guid, first_seen_at FROM episodes "
                           "WHERE id <= 10 ORDER BY id") == first
    assert assert_consistent(tmp_path) == 10
    assert downloaded(tmp_path) == {f"g{n}": audio_bytes(4 * KIB, seed=n) for n in range(10)}


def test_guids_kept_while_every_url_changes(server, tmp_path: Path) -> None:
    """A host move rewrites every enclosure URL: nothing is downloaded again, the new
    URLs are stored, and a genuinely new episode is fetched from the new host."""
    audio = {f"e{n}": audio_bytes(8 * KIB, seed=n) for n in range(3)}
    for guid, body in audio.items():
        server.add(f"/old/{guid}.mp3", body, content_type="audio/mpeg")
        server.add(f"/new/{guid}.mp3", body, content_type="audio/mpeg")
    args = ["--data-dir", str(tmp_path), "--feed-url", server.url("/feed.xml")]
    server.add("/feed.xml", feed_xml([(g, server.url(f"/old/{g}.mp3")) for g in audio]))
    assert main(args) == 0
    paths = query(tmp_path, "SELECT episode_id, path, sha256 FROM downloads ORDER BY 1")

    server.add("/feed.xml", feed_xml([(g, server.url(f"/new/{g}.mp3") + "?token=x")
                                      for g in audio]))
    assert main(args) == 0
    assert not any(server.hits(f"/new/{guid}.mp3") for guid in audio)
    assert query(tmp_path, "SELECT COUNT(*) FROM episodes WHERE enclosure_url LIKE '%/new/%'"
                 ) == [(3,)]
    assert query(tmp_path, "SELECT episode_id, path, sha256 FROM downloads ORDER BY 1") == paths

    fresh = audio_bytes(8 * KIB, seed=9)
    server.add("/new/e9.mp3", fresh, content_type="audio/mpeg")
    server.add("/feed.xml", feed_xml([("e9", server.url("/new/e9.mp3"))]
                                     + [(g, server.url(f"/new/{g}.mp3")) for g in audio]))
    assert main(args) == 0
    assert assert_consistent(tmp_path) == 4 and downloaded(tmp_path) == {**audio, "e9": fresh}

"""Downloading audio: .part files, Range resume, size checks, refusals, safe names."""
import hashlib
from pathlib import Path

import pytest

from podcast_pipeline.download import (DownloadError, download_episode, podcast_folder,
                                       safe_filename)

AUDIO = bytes(range(256)) * 1000  # 250 KiB


def test_download_writes_the_file_and_its_sha256(server, session, tmp_path: Path) -> None:
    """The body lands under its final name, with no .part left over."""
    server.add("/a.mp3", AUDIO, content_type="audio/mpeg")
    dest = tmp_path / "show" / "a.mp3"
    result = download_episode(session, server.url("/a.mp3"), dest)
    assert dest.read_bytes() == AUDIO
    assert (result.bytes, result.sha256) == (len(AUDIO), hashlib.sha256(AUDIO).hexdigest())
    assert not result.resumed and not dest.with_name("a.mp3.part").exists()
    assert server.hits("/a.mp3")[0]["Accept-Encoding"] == "identity"


def test_partial_file_is_resumed_with_range(server, session, tmp_path: Path) -> None:
    """An existing .part is continued from its size; the hash covers the whole file."""
    server.add("/a.mp3", AUDIO, content_type="audio/mpeg")
    dest = tmp_path / "a.mp3"
    dest.with_name("a.mp3.part").write_bytes(AUDIO[:30000])
    result = download_episode(session, server.url("/a.mp3"), dest)
    assert server.hits("/a.mp3")[0]["Range"] == "bytes=30000-"
    assert result.resumed and dest.read_bytes() == AUDIO
    assert result.sha256 == hashlib.sha256(AUDIO).hexdigest()


def test_server_without_range_support_restarts(server, session, tmp_path: Path) -> None:
    """A 200 answer to a Range request replaces the .part instead of appending."""
    server.add("/a.mp3", AUDIO, content_type="audio/mpeg", ranges=False)
    dest = tmp_path / "a.mp3"
    dest.with_name("a.mp3.part").write_bytes(b"stale bytes")
    result = download_episode(session, server.url("/a.mp3"), dest)
    assert not result.resumed and dest.read_bytes() == AUDIO


def test_complete_part_answered_416_is_finished(server, session, tmp_path: Path) -> None:
    """A .part that already holds everything (416 for the next byte) is renamed."""
    server.add("/a.mp3", AUDIO, content_type="audio/mpeg")
    dest = tmp_path / "a.mp3"
    dest.with_name("a.mp3.part").write_bytes(AUDIO)
    assert download_episode(session, server.url("/a.mp3"), dest).bytes == len(AUDIO)
    assert dest.read_bytes() == AUDIO


def test_connection_dropped_mid_body_is_resumed(server, session, tmp_path: Path) -> None:
    """The server closes after 70,000 bytes; the same call resumes after the last whole
    64 KiB chunk written."""
    server.add("/a.mp3", AUDIO, content_type="audio/mpeg", drop_after=70000)
    dest = tmp_path / "a.mp3"
    result = download_episode(session, server.url("/a.mp3"), dest)
    assert dest.read_bytes() == AUDIO and result.resumed
    assert [h.get("Range") for h in server.hits("/a.mp3")] == [None, "bytes=65536-"]


def test_repeated_drops_keep_the_part_and_never_finish(server, session,
                                                       tmp_path: Path) -> None:
    """When resuming keeps failing the .part stays for the next run; no final file."""
    server.add("/a.mp3", AUDIO, content_type="audio/mpeg", drop_after=70000, drops=10)
    dest = tmp_path / "a.mp3"
    with pytest.raises(DownloadError, match="kept for the next run"):
        download_episode(session, server.url("/a.mp3"), dest, resume_attempts=1)
    assert not dest.exists()
    assert dest.with_name("a.mp3.part").stat().st_size == 2 * 65536


def test_oversized_file_is_refused_before_download(server, session, tmp_path: Path) -> None:
    """Content-Length over the limit: refused, nothing written."""
    server.add("/a.mp3", AUDIO, content_type="audio/mpeg")
    with pytest.raises(DownloadError, match="more than the 1,000 allowed"):
        download_episode(session, server.url("/a.mp3"), tmp_path / "a.mp3", max_bytes=1000)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("options, message", [
    ({"status": 404}, "HTTP 404"),
    ({"content_type": "text/html"}, "HTML page"),
])
def test_error_answers_are_not_saved(server, session, tmp_path: Path, options: dict,
                                     message: str) -> None:
    """An error status or an HTML page in place of audio is a failure, not a file."""
    server.add("/a.mp3", b"<html>sorry</html>", **options)
    with pytest.raises(DownloadError, match=message):
        download_episode(session, server.url("/a.mp3"), tmp_path / "a.mp3")
    assert not (tmp_path / "a.mp3").exists()


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd",
                                 "ftp://example.com/a.mp3", "http://"])
def test_only_http_urls_are_downloaded(session, tmp_path: Path, url: str) -> None:
    """Other schemes are refused before any request."""
    with pytest.raises(DownloadError, match="only http and https"):
        download_episode(session, url, tmp_path / "a.mp3")


def test_stalled_body_times_out(server, session, tmp_path: Path) -> None:
    """A server that stops sending fails the download after the timeout."""
    server.add("/a.mp3", AUDIO, content_type="audio/mpeg", chunk_delay=2.0)
    with pytest.raises(DownloadError):
        download_episode(session, server.url("/a.mp3"), tmp_path / "a.mp3", timeout=0.3,
                         resume_attempts=0)
    assert not (tmp_path / "a.mp3").exists()


@pytest.mark.parametrize("title", ["../../etc/passwd", "a/b\\c:d*e?f", "..", "", None,
                                   "x" * 500, "日本語のタイトル", "CON"])
def test_safe_filename_is_portable_and_bounded(title: str | None) -> None:
    """Names have only [a-z0-9.-], no separators or '..', a bounded length."""
    name = safe_filename(title, "guid", "http://h/x/../../y.mp3?q=/etc/passwd")
    assert name.endswith(".mp3") and len(name) <= 100
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-.")
    assert ".." not in name and not name.startswith(".")


def test_safe_filename_is_unique_per_guid_and_stable() -> None:
    """Same title, different guids: different names; same guid: same name."""
    first = safe_filename("Weekly Show", "guid-1", "https://h/play/", "audio/mpeg")
    second = safe_filename("Weekly Show", "guid-2", "https://h/play/", "audio/mpeg")
    assert first != second and first == safe_filename("Weekly Show", "guid-1", None,
                                                      "audio/mpeg")
    assert podcast_folder("../Show", 4) == "show-4"

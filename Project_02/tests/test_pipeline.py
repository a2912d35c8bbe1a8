"""The pipeline end to end against a local server: sync, re-sync, moves, downloads."""
import sqlite3
from pathlib import Path

import pytest
import requests

from podcast_pipeline import pipeline
from podcast_pipeline.pipeline import DownloadOptions

AUDIO = bytes(range(256)) * 64  # 16 KiB of "audio"


def rows(data_dir: Path, sql: str) -> list[tuple]:
    """Run a read query on the data folder's database."""
    with sqlite3.connect(data_dir / "podcasts.db") as conn:
        return conn.execute(sql).fetchall()


def test_sync_stores_episodes_and_downloads_audio(server, session: requests.Session,
                                                  tmp_path: Path) -> None:
    """One feed, one episode: the row is stored and the audio lands in the data folder."""
    server.add_feed("/feed.xml", "one_item.xml")
    server.add("/audio/ep1.mp3", AUDIO, content_type="audio/mpeg")
    summary = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session)
    assert (summary["new"], summary["updated"]) == (1, 0)
    assert summary["downloads"]["downloaded"] == 1
    [(status, path, size)] = rows(tmp_path, "SELECT status, path, bytes FROM downloads")
    assert (status, size) == ("done", len(AUDIO))
    assert path.startswith("audio/test-radio-1/episode-1-hello-world-")
    assert (tmp_path / path).read_bytes() == AUDIO
    assert not list(tmp_path.rglob("*.part"))


def test_same_feed_twice_changes_nothing(server, session: requests.Session,
                                         tmp_path: Path) -> None:
    """A second run with an unchanged feed adds, updates and downloads nothing."""
    server.add_feed("/feed.xml", "one_item.xml", etag='"v1"')
    server.add("/audio/ep1.mp3", AUDIO, content_type="audio/mpeg")
    pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session)
    before = rows(tmp_path, "SELECT * FROM episodes")
    again = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session)
    assert (again["new"], again["updated"], again["downloads"]["downloaded"]) == (0, 0, 0)
    assert again["feeds"][0]["not_modified"] is True
    assert server.hits("/feed.xml")[-1]["If-None-Match"] == '"v1"'
    assert rows(tmp_path, "SELECT * FROM episodes") == before
    assert len(server.hits("/audio/ep1.mp3")) == 1


def test_no_download_stores_only(server, session: requests.Session, tmp_path: Path) -> None:
    """``downloads=None`` stores the episodes and fetches no audio."""
    server.add_feed("/feed.xml", "one_item.xml")
    summary = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session,
                            downloads=None)
    assert summary["new"] == 1 and summary["downloads"] is None
    assert rows(tmp_path, "SELECT COUNT(*) FROM downloads") == [(0,)]


@pytest.mark.parametrize("workers", [1, 3])
def test_downloads_newest_first_up_to_the_limit(server, session: requests.Session,
                                                tmp_path: Path, workers: int) -> None:
    """``max_downloads`` bounds a run; the next run continues with the older ones."""
    items = "".join(
        f"<item><title>Ep {n}</title><guid>g{n}</guid>"
        f"<pubDate>Mon, 0{n} Jan 2024 00:00:00 GMT</pubDate>"
        f"<enclosure url=\"{server.url(f'/a{n}.mp3')}\" type=\"audio/mpeg\"/></item>"
        for n in range(1, 6))
    server.add("/feed.xml", f"<rss><channel><title>Five</title>{items}</channel></rss>".encode())
    for n in range(1, 6):
        server.add(f"/a{n}.mp3", AUDIO + bytes([n]), content_type="audio/mpeg")
    options = DownloadOptions(max_downloads=2, workers=workers)
    first = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session,
                          downloads=options)
    assert first["downloads"]["downloaded"] == 2
    assert {path.split("/")[-1][:4] for path in first["downloads"]["files"]} == {"ep-5", "ep-4"}
    second = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session,
                           downloads=options)
    assert {path.split("/")[-1][:4] for path in second["downloads"]["files"]} == {"ep-3", "ep-2"}

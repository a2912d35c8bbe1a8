"""The pipeline end to end against a local server: sync, re-sync, moves, downloads."""
import json
import sqlite3
from dataclasses import asdict
from pathlib import Path

import pytest
import requests

from podcast_pipeline import pipeline
from podcast_pipeline.download import safe_filename
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
    assert (summary.new, summary.updated) == (1, 0)
    assert summary.downloads.downloaded == 1
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
    assert (again.new, again.updated, again.downloads.downloaded) == (0, 0, 0)
    assert again.feeds[0].not_modified is True
    assert server.hits("/feed.xml")[-1]["If-None-Match"] == '"v1"'
    assert rows(tmp_path, "SELECT * FROM episodes") == before
    assert len(server.hits("/audio/ep1.mp3")) == 1


def test_no_download_stores_only(server, session: requests.Session, tmp_path: Path) -> None:
    """``downloads=None`` stores the episodes and fetches no audio."""
    server.add_feed("/feed.xml", "one_item.xml")
    summary = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session,
                            downloads=None)
    assert summary.new == 1 and summary.downloads is None
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
    assert first.downloads.downloaded == 2
    assert {path.split("/")[-1][:4] for path in first.downloads.files} == {"ep-5", "ep-4"}
    second = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session,
                           downloads=options)
    assert {path.split("/")[-1][:4] for path in second.downloads.files} == {"ep-3", "ep-2"}


def five_item_feed(server, host_path: str = "/audio", title: str = "Five") -> bytes:
    """A feed of five dated episodes whose audio lives under ``host_path``."""
    items = "".join(
        f"<item><title>Ep {n}</title><guid>g{n}</guid>"
        f"<pubDate>Mon, 0{n} Jan 2024 00:00:00 GMT</pubDate>"
        f"<enclosure url=\"{server.url(f'{host_path}/{n}.mp3?sig=abc')}\" type=\"audio/mpeg\"/>"
        f"</item>" for n in range(1, 6))
    return f"<rss><channel><title>{title}</title>{items}</channel></rss>".encode()


def serve_audio(server, host_path: str = "/audio") -> None:
    """Serve five distinct audio files under ``host_path``."""
    for n in range(1, 6):
        server.add(f"{host_path}/{n}.mp3", AUDIO + bytes([n]), content_type="audio/mpeg")


def test_new_urls_with_the_same_guids_are_not_downloaded_again(server, session,
                                                               tmp_path: Path) -> None:
    """A host move rewrites every enclosure URL; guids stay, so nothing is re-fetched."""
    server.add("/feed.xml", five_item_feed(server))
    serve_audio(server)
    first = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session)
    assert (first.new, first.downloads.downloaded) == (5, 5)
    server.add("/feed.xml", five_item_feed(server, "/cdn"))
    serve_audio(server, "/cdn")
    second = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session)
    assert (second.new, second.updated, second.downloads.downloaded) == (0, 5, 0)
    assert not [path for path, _ in server.requests if path.startswith("/cdn")]
    assert rows(tmp_path, "SELECT COUNT(*) FROM episodes WHERE enclosure_url LIKE '%/cdn/%'") \
        == [(5,)]


def test_identical_bytes_without_validators_are_not_parsed_again(server, session,
                                                                tmp_path: Path) -> None:
    """No ETag/Last-Modified: the same bytes are recognised by their hash."""
    server.add("/feed.xml", five_item_feed(server))
    pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session, downloads=None)
    again = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session,
                          downloads=None)
    assert again.feeds[0].not_modified and again.feeds[0].unchanged == 5
    assert not list((tmp_path / "feeds").iterdir())  # staged bytes are cleaned up


def test_growing_feed_adds_only_new_guids(server, session, tmp_path: Path) -> None:
    """Items added to the feed are new; the others are unchanged."""
    server.add_feed("/feed.xml", "one_item.xml")
    pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session, downloads=None)
    grown = (server.routes["/feed.xml"].body.replace(
        b"<item>", b"<item><title>Two</title><guid>two</guid></item><item>", 1))
    server.add("/feed.xml", grown)
    again = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session, downloads=None)
    assert (again.new, again.updated, again.feeds[0].unchanged) == (1, 0, 1)


def test_permanent_redirect_is_used_by_the_next_run(server, session, tmp_path: Path) -> None:
    """After a 301 the next run fetches the new address directly."""
    server.add("/old.xml", server.url("/new.xml").encode(), status=301)
    server.add_feed("/new.xml", "one_item.xml")
    pipeline.sync(tmp_path, [server.url("/old.xml")], session=session, downloads=None)
    pipeline.sync(tmp_path, [server.url("/old.xml")], session=session, downloads=None)
    assert len(server.hits("/old.xml")) == 1 and len(server.hits("/new.xml")) == 2
    assert rows(tmp_path, "SELECT feed_url, current_url FROM podcasts") == [
        (server.url("/old.xml"), server.url("/new.xml"))]


def test_fetch_names_each_address_of_a_moved_feed(server, session, tmp_path: Path) -> None:
    """One vocabulary: the subscription stays, the request follows the recorded move."""
    old, new = server.url("/old.xml"), server.url("/new.xml")
    server.add("/old.xml", new.encode(), status=301)
    server.add_feed("/new.xml", "one_item.xml")
    first = pipeline.fetch(tmp_path, old, session=session)
    assert (first.subscription_url, first.request_url, first.final_url, first.moved_to) == (
        old, old, new, new)
    pipeline.prepare(tmp_path)
    pipeline.store(tmp_path, first)
    second = pipeline.fetch(tmp_path, old, session=session)
    assert (second.subscription_url, second.request_url, second.final_url, second.moved_to) == (
        old, new, new, None)
    assert pipeline.store(tmp_path, second).subscription_url == old


def test_itunes_new_feed_url_is_used_by_the_next_run(server, session, tmp_path: Path) -> None:
    """<itunes:new-feed-url> moves the subscription; episodes stay on the same podcast."""
    server.add_feed("/feed.xml", "new_feed_url.xml")
    server.add_feed("/new-home.xml", "one_item.xml")
    pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session, downloads=None)
    pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session, downloads=None)
    assert len(server.hits("/feed.xml")) == 1 and len(server.hits("/new-home.xml")) == 1
    assert rows(tmp_path, "SELECT COUNT(DISTINCT podcast_id), COUNT(*) FROM episodes") == [
        (1, 2)]


def test_a_broken_feed_does_not_stop_the_others(server, session, tmp_path: Path) -> None:
    """An HTML page and an unreachable feed are reported; the good feed is stored."""
    server.add_feed("/page", "html_page.html", content_type="text/html")
    server.add_feed("/good.xml", "one_item.xml")
    summary = pipeline.sync(tmp_path, [server.url("/page"), "http://127.0.0.1:9/x.xml",
                                       server.url("/good.xml")], session=session,
                            downloads=None)
    assert [f.title for f in summary.feeds] == ["Test Radio"]
    errors = [f.error for f in summary.failed_feeds]
    assert "HTML page" in errors[0] and server.url("/page") in errors[0]
    assert "cannot reach feed http://127.0.0.1:9/x.xml" in errors[1]


def test_a_parse_error_records_no_validators(server, session, tmp_path: Path) -> None:
    """A feed that failed to parse is fetched in full next time (no 304 trap)."""
    server.add_feed("/feed.xml", "one_item.xml", etag='"v1"')
    pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session, downloads=None)
    server.add_feed("/feed.xml", "truncated.xml", etag='"v2"')
    broken = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session,
                           downloads=None)
    assert broken.failed_feeds and rows(tmp_path, "SELECT etag FROM podcasts") == [('"v1"',)]


def test_failed_download_is_recorded_and_retried(server, session, tmp_path: Path) -> None:
    """A 404 is stored as failed with its error; the next run succeeds and marks it done."""
    server.add_feed("/feed.xml", "one_item.xml")
    first = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session)
    assert first.downloads.failed == 1
    assert rows(tmp_path, "SELECT status, attempts, last_error LIKE '%HTTP 404%' "
                          "FROM downloads") == [("failed", 1, 1)]
    server.add("/audio/ep1.mp3", AUDIO, content_type="audio/mpeg")
    second = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session)
    assert second.downloads.downloaded == 1
    assert rows(tmp_path, "SELECT status, attempts, last_error FROM downloads") == [
        ("done", 2, None)]


def test_interrupted_download_resumes_on_the_next_run(server, session, tmp_path: Path) -> None:
    """A .part from a killed run is continued with Range and only then marked done."""
    server.add_feed("/feed.xml", "one_item.xml")
    big = AUDIO * 16
    server.add("/audio/ep1.mp3", big, content_type="audio/mpeg")
    pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session, downloads=None)
    [(title, guid)] = rows(tmp_path, "SELECT title, guid FROM episodes")
    folder = tmp_path / "audio" / "test-radio-1"
    folder.mkdir(parents=True)
    name = safe_filename(title, guid, "http://h/ep1.mp3")
    (folder / f"{name}.part").write_bytes(big[:100000])
    summary = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session)
    assert summary.downloads.downloaded == 1
    assert server.hits("/audio/ep1.mp3")[-1]["Range"] == "bytes=100000-"
    assert (folder / name).read_bytes() == big


def test_keep_deletes_older_files_and_never_refetches_them(server, session,
                                                          tmp_path: Path) -> None:
    """``keep=2``: only the two newest files stay; older ones are marked deleted."""
    server.add("/feed.xml", five_item_feed(server))
    serve_audio(server)
    pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session)
    summary = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session,
                            downloads=DownloadOptions(keep=2))
    assert summary.downloads.deleted == 3
    assert len(list((tmp_path / "audio").rglob("*.mp3"))) == 2
    assert rows(tmp_path, "SELECT status, COUNT(*) FROM downloads GROUP BY status") == [
        ("deleted", 3), ("done", 2)]
    again = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session,
                          downloads=DownloadOptions(keep=2))
    assert again.downloads.downloaded == 0


def test_hostile_enclosures_stay_inside_the_data_folder(server, session,
                                                       tmp_path: Path) -> None:
    """``../`` in titles and URLs cannot escape; javascript:/file: are never requested."""
    server.add_feed("/feed.xml", "hostile_enclosures.xml")
    server.add("/secret/evil.mp3", AUDIO, content_type="audio/mpeg")
    data_dir = tmp_path / "data"
    summary = pipeline.sync(data_dir, [server.url("/feed.xml")], session=session)
    assert summary.new == 3 and summary.downloads.downloaded == 1
    [path] = summary.downloads.files
    assert path.startswith("audio/hostile-show-1/etc-passwd-") and ".." not in path
    assert [p.name for p in tmp_path.iterdir()] == ["data"]
    assert rows(data_dir, "SELECT COUNT(*) FROM episodes WHERE enclosure_url IS NULL") == [(2,)]


def test_offline_first_run_creates_nothing(tmp_path: Path, session) -> None:
    """No feed reached: no database, no folders."""
    data_dir = tmp_path / "data"
    summary = pipeline.sync(data_dir, ["http://127.0.0.1:9/feed.xml"], session=session)
    assert not summary.feeds and len(summary.failed_feeds) == 1
    assert not data_dir.exists()


def test_steps_round_trip_through_plain_values(server, session, tmp_path: Path) -> None:
    """prepare/fetch/store/download work one by one, as Airflow tasks call them, with
    each summary passed on as JSON (XCom) and the fetch rebuilt from it."""
    server.add_feed("/feed.xml", "one_item.xml")
    server.add("/audio/ep1.mp3", AUDIO, content_type="audio/mpeg")
    assert pipeline.prepare(tmp_path).endswith("podcasts.db")
    fetched = pipeline.fetch(tmp_path, server.url("/feed.xml"), session=session)
    assert Path(fetched.staged_path).parent == tmp_path / "feeds"
    assert fetched.subscription_url == fetched.request_url == fetched.final_url
    plain = json.loads(json.dumps(asdict(fetched)))
    assert pipeline.FetchedFeed(**plain) == fetched
    stored = pipeline.store(tmp_path, pipeline.FetchedFeed(**plain))
    downloaded = pipeline.download(tmp_path, session=session, workers=2)
    assert (stored.new, downloaded.downloaded) == (1, 1)
    assert json.loads(json.dumps(asdict(downloaded)))["files"] == list(downloaded.files)


def test_a_feed_broken_midway_stores_nothing(server, session, tmp_path: Path) -> None:
    """Items before the break were already written in the transaction: all rolled back."""
    items = b"".join(b"<item><title>t</title><guid>%d</guid></item>" % n for n in range(5000))
    server.add("/feed.xml", b"<rss><channel><title>Big</title>" + items + b"<item><gu")
    summary = pipeline.sync(tmp_path, [server.url("/feed.xml")], session=session,
                            downloads=None)
    assert "not well-formed" in summary.failed_feeds[0].error
    assert rows(tmp_path, "SELECT COUNT(*) FROM episodes") == [(0,)]
    assert rows(tmp_path, "SELECT COUNT(*) FROM podcasts") == [(0,)]
    assert rows(tmp_path, "PRAGMA integrity_check") == [("ok",)]

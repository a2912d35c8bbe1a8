"""FeedStream: episodes handed over in batches, parsed here or in a parser process.

Every behaviour is checked both ways (the ``min_bytes`` fixture): in this process
(small files, the usual case) and with the XML read by a parser process (files of
``process_min_bytes`` or more).
"""
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from podcast_pipeline import feed_stream
from podcast_pipeline.feed import Episode, FeedParseError, parse_feed
from podcast_pipeline.feed_stream import FeedStream

URL = "http://podcast.test/feed.xml"
FEEDS_DIR = Path(__file__).resolve().parent / "feeds"
Loader = Callable[[str], bytes]


def write_feed(tmp_path: Path, content: bytes) -> Path:
    """Store ``content`` as a feed file and return its path."""
    path = tmp_path / "feed.xml"
    path.write_bytes(content)
    return path


def numbered_items(count: int) -> bytes:
    """``count`` items whose guids are 0, 1, 2, ..."""
    return b"".join(b"<item><guid>%d</guid></item>" % n for n in range(count))


def test_hands_over_batches_then_the_result(tmp_path: Path, feed_bytes: Loader,
                                            min_bytes: int) -> None:
    """Episodes come in batches, in order, then the channel facts and counts."""
    path = write_feed(tmp_path, feed_bytes("duplicate_guids.xml"))
    stream = FeedStream(path, URL, batch_size=1, process_min_bytes=min_bytes)
    batches: list[list[str]] = []
    result = stream.write_to(lambda batch: batches.append([e.guid for e in batch]))
    assert batches == [["dup"], ["unique"]]
    assert result.podcast.title == "Duplicates" and result.duplicates == 1
    assert stream.result is result and not result.episodes


@pytest.mark.parametrize("name", sorted(p.name for p in FEEDS_DIR.glob("*.xml")
                                        if p.name not in {"atom.xml", "billion_laughs.xml",
                                                          "external_entity.xml",
                                                          "truncated.xml"}))
def test_gives_what_parse_feed_gives(tmp_path: Path, feed_bytes: Loader, min_bytes: int,
                                     name: str) -> None:
    """Every readable golden feed yields the same episodes and facts as ``parse_feed``."""
    expected = parse_feed(feed_bytes(name), URL)
    seen: list[Episode] = []
    result = FeedStream(write_feed(tmp_path, feed_bytes(name)), URL, batch_size=2,
                        process_min_bytes=min_bytes).write_to(seen.extend)
    assert seen == expected.episodes
    assert (result.podcast, result.new_feed_url, result.skipped, result.duplicates,
            result.warnings) == (expected.podcast, expected.new_feed_url, expected.skipped,
                                 expected.duplicates, expected.warnings)


@pytest.mark.parametrize(("name", "message"), [
    ("billion_laughs.xml", "declares XML entities"),
    ("external_entity.xml", "declares XML entities"),
    ("truncated.xml", "not well-formed"),
    ("atom.xml", "not an RSS feed"),
    ("html_page.html", "not"),
])
def test_refuses_what_is_not_a_readable_rss_feed(tmp_path: Path, feed_bytes: Loader,
                                                 min_bytes: int, name: str,
                                                 message: str) -> None:
    """Hostile and non-RSS documents raise FeedParseError, whichever process reads them."""
    path = write_feed(tmp_path, feed_bytes(name))
    with pytest.raises(FeedParseError, match=message):
        FeedStream(path, URL, process_min_bytes=min_bytes).write_to(lambda batch: None)


def test_raises_parse_errors_after_earlier_batches(tmp_path: Path, min_bytes: int) -> None:
    """A document broken after some items writes those, then raises FeedParseError."""
    path = write_feed(tmp_path, b"<rss><channel><title>T</title>" + numbered_items(10)
                      + b"<item><guid>")
    seen: list[Episode] = []
    with pytest.raises(FeedParseError, match="not well-formed"):
        FeedStream(path, URL, batch_size=4, process_min_bytes=min_bytes).write_to(seen.extend)
    assert [e.guid for e in seen] == [str(n) for n in range(8)]


def test_stops_when_the_writer_fails(tmp_path: Path, min_bytes: int,
                                     parser_processes) -> None:
    """An error from the writer (a full disk, say) stops parsing and reaches the caller."""
    path = write_feed(tmp_path, b"<rss><channel>" + numbered_items(5000) + b"</channel></rss>")
    stream = FeedStream(path, URL, batch_size=10, process_min_bytes=min_bytes)
    calls: list[int] = []

    def failing_writer(batch: list[Episode]) -> None:
        calls.append(len(batch))
        raise sqlite3.OperationalError("database or disk is full")

    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        stream.write_to(failing_writer)
    assert calls == [10]
    assert stream.result is None
    assert not parser_processes(tmp_path, 5.0)


def test_lets_a_bug_in_item_handling_surface(tmp_path: Path, min_bytes: int,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in item handling is raised as itself: not hidden as a bad feed, no hang."""
    path = write_feed(tmp_path, b"<rss><channel><item><guid>1</guid></item></channel></rss>")

    def broken(item: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr("podcast_pipeline.feed.parse_item", broken)
    with pytest.raises(RuntimeError, match="bug"):
        FeedStream(path, URL, process_min_bytes=min_bytes).write_to(lambda batch: None)


def test_only_files_of_the_threshold_size_go_to_a_parser_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file one byte under ``process_min_bytes`` is parsed here; one of that size is not."""
    content = b"<rss><channel>" + numbered_items(3) + b"</channel></rss>"
    path = write_feed(tmp_path, content)
    started: list[list[str]] = []
    real_command = feed_stream._child_command  # pylint: disable=protected-access

    def recording_command(*args: object) -> list[str]:
        started.append(real_command(*args))  # type: ignore[arg-type]
        return started[-1]

    monkeypatch.setattr(feed_stream, "_child_command", recording_command)
    seen: list[Episode] = []
    FeedStream(path, URL, process_min_bytes=len(content) + 1).write_to(seen.extend)
    assert not started and len(seen) == 3
    FeedStream(path, URL, process_min_bytes=len(content)).write_to(seen.extend)
    assert len(started) == 1 and str(path) in started[0] and len(seen) == 6
    assert feed_stream.PARSER_PROCESS_MIN_BYTES == 16 << 20


def test_a_parser_process_that_dies_is_a_parse_error(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A parser process that ends without a word (killed, out of memory) fails the feed."""
    path = write_feed(tmp_path, b"<rss><channel>" + numbered_items(3) + b"</channel></rss>")
    monkeypatch.setattr(feed_stream, "_child_command",
                        lambda *args: [sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(FeedParseError, match=r"parser process stopped \(exit code 3\)"):
        FeedStream(path, URL, process_min_bytes=0).write_to(lambda batch: None)

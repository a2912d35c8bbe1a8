"""Parsing feeds: golden files (tests/feeds/X.xml with its expected parse X.json), helpers.

To add a case, write ``tests/feeds/X.xml`` and its expected ``X.json`` (the layout of
``ParsedFeed.to_dict()``, or ``{"error": message}`` for a document that must be
refused), parsed as if fetched from ``URL``; check the JSON by hand.
"""
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from podcast_pipeline.feed import (FeedParseError, parse_duration, parse_feed, parse_published,
                                   strip_html)

URL = "http://podcast.test/feed.xml"
FEEDS_DIR = Path(__file__).resolve().parent / "feeds"
GOLDEN_FEEDS = sorted(path for path in FEEDS_DIR.iterdir() if path.suffix in (".xml", ".html"))
HTTP_CHARSETS = {"big5_http_charset.xml": "big5"}  # as the server's Content-Type says
Loader = Callable[[str], bytes]


@pytest.mark.parametrize("feed_path", GOLDEN_FEEDS, ids=lambda path: path.name)
def test_golden_feed(feed_path: Path) -> None:
    """Each test feed parses to exactly its ``.json`` (or fails with its error message)."""
    expected = json.loads(feed_path.with_suffix(".json").read_text(encoding="utf-8"))
    try:
        with feed_path.open("rb") as stream:
            parsed = parse_feed(stream, URL, http_charset=HTTP_CHARSETS.get(feed_path.name))
    except FeedParseError as err:
        assert {"error": str(err)} == expected
    else:
        assert parsed.to_dict() == expected


def test_every_golden_feed_has_its_json() -> None:
    """No feed without its expected parse, no expected parse without its feed."""
    jsons = sorted(FEEDS_DIR.glob("*.json"))
    assert [path.with_suffix(".json") for path in GOLDEN_FEEDS] == jsons
    assert len(jsons) >= 30


def test_bytes_and_a_stream_parse_alike(feed_bytes: Loader) -> None:
    """``parse_feed`` takes the bytes themselves as well as an open file."""
    content = feed_bytes("namespaces_anywhere.xml")
    assert (parse_feed(content, URL).to_dict()
            == parse_feed(io.BytesIO(content), URL).to_dict())


def test_relative_urls_resolve_against_the_url_given(feed_bytes: Loader) -> None:
    """The feed's own URL (after redirects, as the caller gives it) is the base."""
    parsed = parse_feed(feed_bytes("relative_urls.xml"), "https://cdn.test/show/rss")
    assert [e.enclosure_url for e in parsed.episodes] == [
        "https://cdn.test/show/example.mp3", "https://cdn.test/audio/x.mp3",
        "https://cdn.test/media/abs.mp3", None]


def test_dropped_enclosures_are_one_warning_per_feed(feed_bytes: Loader,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    """Three enclosures dropped for their scheme: one warning with the count."""
    parse_feed(feed_bytes("relative_urls.xml"), URL)
    assert [r.getMessage() for r in caplog.records] == [
        f"{URL}: 3 enclosure URLs dropped: not http(s) (javascript:, file:, data: ...)"]


def test_the_http_charset_does_not_override_a_declaration() -> None:
    """A prolog that names its encoding wins over a wrong HTTP charset."""
    content = '<?xml version="1.0" encoding="EUC-KR"?><rss><channel><title>한국어</title>' \
        '</channel></rss>'
    parsed = parse_feed(content.encode("euc-kr"), URL, http_charset="ISO-8859-1")
    assert parsed.podcast.title == "한국어"


def test_malformed_items_are_skipped_with_a_warning(feed_bytes: Loader,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """Items with no usable identity are skipped; bad numbers become None."""
    parsed = parse_feed(feed_bytes("malformed_items.xml"), URL)
    [episode] = parsed.episodes
    assert episode.guid == "good-1"
    assert (episode.duration_seconds, episode.episode_number, episode.enclosure_url) == (
        None, None, None)
    assert parsed.skipped == 3
    assert sum("skipped" in record.message for record in caplog.records) == 3


def test_non_xml_bytes_are_refused() -> None:
    """Binary garbage is a parse error, not a crash."""
    with pytest.raises(FeedParseError, match="not well-formed"):
        parse_feed(b"\x00\xffGIF89a", URL)


@pytest.mark.parametrize("text, seconds", [
    ("1:02:03", 3723), ("62:03", 3723), ("3723", 3723), ("3723.4", 3723), ("00:45", 45),
    ("", None), ("1:2:3:4", None), ("-5", None), ("nan", None), ("an hour", None),
    ("1e30", None)])
def test_parse_duration(text: str, seconds: int | None) -> None:
    """itunes:duration forms, in seconds; unreadable ones are None."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("raw, iso", [
    ("Wed, 01 May 2024 08:30:00 -0400", "2024-05-01T12:30:00Z"),
    ("Wed, 01 May 2024 08:30:00 GMT", "2024-05-01T08:30:00Z"),
    ("01 May 2024 08:30 +0100", "2024-05-01T07:30:00Z"),
    ("Wed, 01 May 2024 08:30:00 -0000", "2024-05-01T08:30:00Z"),
    ("2024-05-01T08:30:00Z", "2024-05-01T08:30:00Z"),
    ("Tue, 31 Dec 2024 23:30:00 -0100", "2025-01-01T00:30:00Z"),
    ("1 may 2024 08:30:00 UT", "2024-05-01T08:30:00Z"),
    ("Wed, 01 May 2024 08:30:00 EST", "2024-05-01T13:30:00Z"),  # a named zone
    ("Thu, 30 Feb 2023 10:00:00 +0000", None), ("Wed, 01 May 2024 08:30:00 +2400", None),
    ("Mayday", None), (None, None)])
def test_parse_published(raw: str | None, iso: str | None) -> None:
    """RFC 822 (and ISO-8601) dates become ISO-8601 UTC."""
    assert parse_published(raw) == iso


@pytest.mark.parametrize("text, plain", [
    ("Q&amp;A &amp; more", "Q&A & more"), ("&amp;lt;b&amp;gt;", "&lt;b&gt;"),
    ("Q&amp;A &lt;live&gt;", "Q&A <live>"), ("AT&T &amp", "AT&T &"), ("&amp;", "&")])
def test_strip_html_decodes_ampersands_once(text: str, plain: str) -> None:
    """Escaped ampersands are decoded once, alone or among other entities."""
    assert strip_html(text) == plain


@pytest.mark.parametrize("html_text, plain", [
    ('Host: <a href="https://x.test/kai">Kai Ryssdal</a>. Links <B>here</B>!',
     "Host: Kai Ryssdal. Links here!"),
    ("<p>One</p><p>Two</p><br/>Three<li>Four</li>", "One Two Three Four"),
    ("<span>Ab</span><em>cd</em>, <abbr title='x'>NASA</abbr>", "Abcd, NASA"),
    ("<script>var a = '<b>';</script><style>p {}</style>Text", "Text"),
    ("<aside>Side</aside>note <bold>x</bold>", "Side note x")])
def test_strip_html_spaces_like_a_browser(html_text: str, plain: str) -> None:
    """Inline tags leave no space (no "Kai ." before a full stop); block tags leave one."""
    assert strip_html(html_text) == plain


def test_strip_html_keeps_escaped_markup_as_text() -> None:
    """Doubly escaped markup is shown as text, not interpreted."""
    assert strip_html("&lt;b&gt;bold&lt;/b&gt; &amp; <i>it</i>") == "<b>bold</b> & it"

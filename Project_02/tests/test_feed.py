"""Parsing golden feeds (tests/feeds/) into episodes: identity, fields, hostile input."""
from collections.abc import Callable

import pytest

from podcast_pipeline.feed import (FeedParseError, parse_duration, parse_feed, parse_published,
                                   strip_html)

URL = "http://podcast.test/feed.xml"
Loader = Callable[[str], bytes]


def test_one_item_gives_a_list_with_every_field(feed_bytes: Loader) -> None:
    """A single <item> is still a list of one episode, with every field normalised."""
    parsed = parse_feed(feed_bytes("one_item.xml"), URL)
    assert parsed.podcast.title == "Test Radio"
    assert parsed.podcast.description == "A show & its notes."
    assert parsed.podcast.image_url == "http://podcast.test/cover.jpg"
    assert parsed.podcast.author == "Test Radio Network"
    [episode] = parsed.episodes
    assert episode.guid == "test-radio-0001"
    assert episode.title == "Episode 1: Hello, World"
    assert episode.link == "http://podcast.test/episodes/1/"
    assert episode.published == "2024-05-01T12:30:00Z"
    assert episode.published_raw == "Wed, 01 May 2024 08:30:00 -0400"
    assert episode.description == "The first episode."
    assert episode.enclosure_url == "http://podcast.test/audio/ep1.mp3?source=rss"
    assert (episode.enclosure_type, episode.enclosure_length) == ("audio/mpeg", 4096)
    assert (episode.duration_seconds, episode.season, episode.episode_number) == (3723, 2, 7)
    assert parsed.new_feed_url is None and parsed.skipped == 0


def test_identity_falls_back_to_enclosure_then_title_and_date_hash(feed_bytes: Loader) -> None:
    """No guid: the enclosure URL is the identity, else a stable hash of title + date."""
    first, second = parse_feed(feed_bytes("no_guid.xml"), URL).episodes
    assert first.guid == "http://podcast.test/audio/a.mp3"
    assert second.guid.startswith("sha256:") and len(second.guid) == 7 + 32
    again = parse_feed(feed_bytes("no_guid.xml"), URL).episodes[1]
    assert again.guid == second.guid


def test_items_without_link_keep_raw_unparseable_dates(feed_bytes: Loader) -> None:
    """No <link> is fine; an unreadable date keeps its raw text; durations in seconds."""
    first, second = parse_feed(feed_bytes("no_link.xml"), URL).episodes
    assert first.link is None and second.link is None
    assert first.published is None and first.published_raw == "not a date at all"
    assert (first.duration_seconds, second.duration_seconds) == (2730, 2730)


def test_item_without_enclosure_is_kept_without_audio(feed_bytes: Loader) -> None:
    """A text-only item is an episode with no enclosure (nothing to download)."""
    [episode] = parse_feed(feed_bytes("no_enclosure.xml"), URL).episodes
    assert episode.guid == "post-1"
    assert (episode.enclosure_url, episode.enclosure_type, episode.enclosure_length) == (
        None, None, None)


def test_the_audio_enclosure_wins_over_an_earlier_image(feed_bytes: Loader) -> None:
    """With two enclosures the audio one is chosen, whatever its position."""
    [episode] = parse_feed(feed_bytes("two_enclosures.xml"), URL).episodes
    assert episode.enclosure_url == "http://podcast.test/audio/two.m4a"
    assert (episode.enclosure_type, episode.enclosure_length) == ("audio/x-m4a", 2048)


def test_cdata_html_descriptions_become_plain_text(feed_bytes: Loader) -> None:
    """HTML in CDATA loses tags, scripts and styles; entities are decoded."""
    first, second = parse_feed(feed_bytes("cdata_html.xml"), URL).episodes
    assert first.title == "Rock & Roll <Live>"
    assert first.description == "Notes with a link and&more. one two"
    assert second.description == "Long show notes"


def test_iso_8859_1_feed_is_decoded_by_its_declaration(feed_bytes: Loader) -> None:
    """Bytes declared ISO-8859-1 come out as the right characters, not mojibake."""
    parsed = parse_feed(feed_bytes("iso_8859_1.xml"), URL)
    assert parsed.podcast.title == "Café Radio Française"
    [episode] = parsed.episodes
    assert episode.title == "Épisode spécial : les crêpes"
    assert episode.description == "Naïve « chanson » à Noël"
    assert episode.published == "2024-05-05T16:00:00Z"


def test_duplicate_guids_keep_the_first_item(feed_bytes: Loader) -> None:
    """A repeated guid is one episode (the first), counted as a duplicate."""
    parsed = parse_feed(feed_bytes("duplicate_guids.xml"), URL)
    assert [(e.guid, e.title) for e in parsed.episodes] == [("dup", "First copy"),
                                                            ("unique", "Unique")]
    assert parsed.duplicates == 1


def test_new_feed_url_is_reported(feed_bytes: Loader) -> None:
    """<itunes:new-feed-url> is returned so the next run can use the new address."""
    parsed = parse_feed(feed_bytes("new_feed_url.xml"), URL)
    assert parsed.new_feed_url == "http://podcast.test/new-home.xml"


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


@pytest.mark.parametrize("name, reason", [
    ("html_page.html", "HTML page"),
    ("truncated.xml", "not well-formed XML"),
    ("billion_laughs.xml", "declares XML entities"),
    ("external_entity.xml", "declares XML entities"),
])
def test_documents_that_are_not_safe_rss_are_refused(feed_bytes: Loader, name: str,
                                                     reason: str) -> None:
    """Not RSS, broken or entity-declaring documents fail with one error naming the feed."""
    with pytest.raises(FeedParseError) as error:
        parse_feed(feed_bytes(name), URL)
    assert URL in str(error.value) and reason in str(error.value)


def test_non_xml_bytes_are_refused() -> None:
    """Binary garbage is a parse error, not a crash."""
    with pytest.raises(FeedParseError, match="not well-formed"):
        parse_feed(b"\x00\xffGIF89a", URL)


def test_hostile_enclosures_and_links_are_dropped(feed_bytes: Loader) -> None:
    """``javascript:`` and ``file:`` URLs never reach the database; ``../`` stays text."""
    dots, script, local = parse_feed(feed_bytes("hostile_enclosures.xml"), URL).episodes
    assert dots.enclosure_url.startswith("http://podcast.test/audio/../../secret/evil.mp3")
    assert script.enclosure_url is None and script.link is None
    assert local.enclosure_url is None
    assert (script.guid, local.guid) == ("hostile-js", "hostile-file")


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


def test_other_prefixes_for_known_namespaces_are_understood() -> None:
    """A feed binding the iTunes namespace to ``it:`` still gives durations."""
    xml = (b'<rss xmlns:it="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>'
           b'<title>T</title><it:new-feed-url>http://n.test/f</it:new-feed-url>'
           b'<item><guid>1</guid><it:duration>90</it:duration></item></channel></rss>')
    parsed = parse_feed(xml, URL)
    assert parsed.episodes[0].duration_seconds == 90
    assert parsed.new_feed_url == "http://n.test/f"

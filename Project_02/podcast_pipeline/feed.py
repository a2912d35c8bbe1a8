"""Parse podcast RSS bytes into plain records (pure: no network, no database).

The XML is parsed with xmltodict in streaming mode (``item_depth``): each child of
``<channel>`` is handed over on its own and dropped, so memory stays small even for
feeds of tens of thousands of items (``feed_stream.FeedStream`` even hands the
episodes over in batches while parsing goes on). Entity declarations are refused (xmltodict's
default ``disable_entities=True``): a feed that declares entities can expand a few
hundred bytes into gigabytes ("billion laughs") or pull local files into the text
(external entities, XXE), and no real podcast feed needs them.
"""
import hashlib
import html
import logging
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple
from xml.parsers.expat import ExpatError

import xmltodict

from podcast_pipeline import PodcastError

logger = logging.getLogger(__name__)

# Namespace URIs -> the prefixes used as dictionary keys below; a feed that declares
# another prefix for one of them is mapped onto these.
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
NAMESPACES = {
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
    "http://www.itunes.com/DTDs/Podcast-1.0.dtd": "itunes",
    "http://purl.org/rss/1.0/modules/content/": "content",
    ATOM_NAMESPACE: "atom",
    "http://purl.org/dc/elements/1.1/": "dc",
}
WEB_SCHEMES = ("http://", "https://")
_CHANNEL_PATH = ("rss", "channel")
_FORCE_LIST = frozenset(("enclosure",))
_LONGEST_DURATION = 2**31 - 1  # seconds (68 years)
_CHUNK_BYTES = 1 << 20
# Inline tags vanish without a space, as a browser shows them ("<a>Kai</a>." is "Kai.");
# then, in one pass, a script or style element with its content, or any other tag,
# becomes a space ("<p>One</p><p>Two</p>" is "One Two").
_INLINE_TAG = re.compile(r"</?(?:a|abbr|b|bdi|cite|code|em|font|i|mark|q|s|small|span|strong"
                         r"|sub|sup|u)\b[^>]*>", re.IGNORECASE)
_MARKUP = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
# The date form nearly every feed uses ("Wed, 01 May 2024 08:30:00 -0400"), read without
# email.utils (3x faster); anything else goes the general way in parse_published.
_COMMON_DATE = re.compile(
    r"(?:[A-Za-z]{3}, )?(\d{1,2}) ([A-Za-z]{3}) ([12]\d{3}) (\d\d):(\d\d):(\d\d) "
    r"(?:([+-])(\d\d)(\d\d)|GMT|UTC|UT|Z)", re.ASCII)
_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    start=1)}


class FeedParseError(PodcastError):
    """The document is not an RSS feed that can be read (HTML, Atom, broken XML, entities)."""


@dataclass(frozen=True)
class PodcastInfo:
    """Channel-level facts of a feed."""

    title: str | None = None
    link: str | None = None
    description: str | None = None
    image_url: str | None = None
    author: str | None = None
    language: str | None = None


class Episode(NamedTuple):
    """One ``<item>`` of a feed, normalised (a NamedTuple: small and immutable).

    ``guid`` is the identity: the item's ``<guid>``, else its enclosure URL, else a
    hash of title and date. ``published`` is ISO-8601 UTC (``2024-05-01T12:00:00Z``) or
    None when ``published_raw`` could not be parsed.
    """

    guid: str
    title: str | None = None
    link: str | None = None
    published: str | None = None
    description: str | None = None
    enclosure_url: str | None = None
    enclosure_type: str | None = None
    enclosure_length: int | None = None
    duration_seconds: int | None = None
    season: int | None = None
    episode_number: int | None = None
    published_raw: str | None = None


@dataclass
class ParsedFeed:
    """Everything read from one feed document."""

    podcast: PodcastInfo
    episodes: list[Episode]
    new_feed_url: str | None = None
    skipped: int = 0
    duplicates: int = 0
    warnings: list[str] = field(default_factory=list)

    def write_to(self, write: Callable[[list[Episode]], None]) -> "ParsedFeed":
        """Call ``write`` with all the episodes as one batch; return this feed (the same
        interface as ``feed_stream.FeedStream``)."""
        write(self.episodes)
        return self


def parse_feed(xml: bytes | BinaryIO, feed_url: str) -> ParsedFeed:
    """Parse an RSS 2.0 document given as bytes (or a binary file) into a ``ParsedFeed``.

    Bytes, not text: the encoding declared in the XML prolog decides how they are read.

    Args:
        xml: the raw response body, or an open binary file holding it.
        feed_url: the address the document came from (used in messages only).

    Returns:
        The channel facts, the episodes in feed order (one per guid) and counts of the
        items skipped as malformed or duplicate.

    Raises:
        FeedParseError: not well-formed XML, declares entities, or is not RSS.
    """
    builder = FeedBuilder(feed_url)
    read_channel(xml, feed_url, builder.add)
    return builder.result()


def parse_feed_file(path: Path, feed_url: str) -> ParsedFeed:
    """Parse the feed stored in ``path``, streaming it from disk (see ``parse_feed``)."""
    with path.open("rb") as stream:
        return parse_feed(stream, feed_url)


def read_channel(xml: bytes | BinaryIO, feed_url: str,
                 add: Callable[[list[tuple[str, Any]], Any], bool]) -> None:
    """Stream the document through xmltodict, calling ``add(path, value)`` for each child
    of ``<channel>`` (``FeedBuilder.add`` turns them into episodes).

    Namespace prefixes are kept as written (``itunes:duration``); resolving every name
    against its namespace made parsing ~20% slower. A feed that binds the iTunes or
    content namespace to another prefix is mapped back by ``FeedBuilder``.

    Attributes are read only where they are used: ``<enclosure>`` (by the postprocessor)
    and the children of ``<channel>`` such as ``<itunes:image href>`` (from the path, by
    ``FeedBuilder``). Letting xmltodict build an attribute dict for every element
    (``xml_attribs=True``) cost 5% more CPU for parse + store.
    """
    try:
        xmltodict.parse(xml if isinstance(xml, bytes) else _chunks(xml), force_list=_FORCE_LIST,
                        item_depth=3, item_callback=add, xml_attribs=False,
                        postprocessor=_keep_enclosure_attributes)
    except ExpatError as err:
        raise FeedParseError(f"{feed_url} is not well-formed XML ({err})") from err
    except ValueError as err:  # xmltodict's refusal of <!ENTITY ...> declarations
        raise FeedParseError(
            f"{feed_url} declares XML entities, which are refused ({err})") from err


def _keep_enclosure_attributes(path: list[tuple[str, Any]], key: str,
                               value: Any) -> tuple[str, Any]:
    """xmltodict postprocessor: give each ``<enclosure>`` its attributes as ``@name`` keys.

    ``path`` ends with the element being closed, as ``(name, attributes)``.
    """
    if key == "enclosure":
        return key, {"@" + name: text for name, text in (path[-1][1] or {}).items()}
    return key, value


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    """Read ``stream`` in 1 MiB pieces (expat's ParseFile reads 2 KiB at a time: 3% slower)."""
    while chunk := stream.read(_CHUNK_BYTES):
        yield chunk


class FeedBuilder:
    """Turn the ``<channel>`` children that ``read_channel`` streams into a ``ParsedFeed``.

    Each ``<item>`` becomes an ``Episode`` handed to ``emit`` (by default kept in
    ``episodes``); the other children are kept for ``result``.
    """

    def __init__(self, feed_url: str, emit: Callable[[Episode], None] | None = None) -> None:
        self.feed_url = feed_url
        self.channel: dict[str, Any] = {}
        self.episodes: list[Episode] = []
        self.emit = emit or self.episodes.append
        self.seen_guids: set[str] = set()
        self.counts = {"items": 0, "skipped": 0, "duplicates": 0}
        self.warnings: list[str] = []
        self.aliases: dict[str, str] | None = None

    def add(self, path: list[tuple[str, Any]], value: Any) -> bool:
        """Take one child of ``<channel>``; refuse documents that are not RSS."""
        if self.aliases is None:
            names = tuple(name for name, _ in path[:2])
            if names != _CHANNEL_PATH:
                raise FeedParseError(
                    f"{self.feed_url} is not an RSS feed ({_describe_root(path)})")
            self.aliases = _prefix_aliases(path)
        name, attributes = path[2]
        if value is None and attributes:  # an empty element such as <itunes:image href=...>
            value = {"@" + key: text for key, text in attributes.items()}
        if self.aliases:
            name = _alias(name, self.aliases)
            if isinstance(value, dict):
                value = {_alias(key, self.aliases): item for key, item in value.items()}
        if name == "item":
            self.counts["items"] += 1
            self._add_item(value)
        elif name not in self.channel:
            self.channel[name] = value
        return True

    def _add_item(self, item: Any) -> None:
        try:
            episode = parse_item(item)
        except ValueError as err:
            self.counts["skipped"] += 1
            self._warn(f"item {self.counts['items']} skipped: {err}")
            return
        if episode.guid in self.seen_guids:
            self.counts["duplicates"] += 1
            self._warn(f"item {self.counts['items']} skipped: duplicate guid {episode.guid!r}")
            return
        self.seen_guids.add(episode.guid)
        self.emit(episode)

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        logger.warning("%s: %s", self.feed_url, message)

    def result(self) -> ParsedFeed:
        """Return the parsed feed; raise when no RSS channel was seen at all."""
        if self.aliases is None:
            raise FeedParseError(f"{self.feed_url} is not an RSS feed (no <rss><channel> content)")
        channel = self.channel
        image = channel.get("itunes:image")
        image_url = image.get("@href") if isinstance(image, dict) else None
        if image_url is None and isinstance(channel.get("image"), dict):
            image_url = text_of(channel["image"].get("url"))
        podcast = PodcastInfo(
            title=text_of(channel.get("title")),
            link=web_url(text_of(channel.get("link"))),
            description=strip_html(text_of(channel.get("description"))
                                   or text_of(channel.get("itunes:summary"))),
            image_url=web_url(image_url),
            author=text_of(channel.get("itunes:author")),
            language=text_of(channel.get("language")),
        )
        new_url = web_url(text_of(channel.get("itunes:new-feed-url")))
        if new_url == self.feed_url:
            new_url = None
        return ParsedFeed(podcast=podcast, episodes=self.episodes, new_feed_url=new_url,
                          skipped=self.counts["skipped"], duplicates=self.counts["duplicates"],
                          warnings=self.warnings)


def _prefix_aliases(path: list[tuple[str, Any]]) -> dict[str, str]:
    """Map prefixes bound to known namespaces onto the usual ones (``it:`` -> ``itunes:``)."""
    aliases = {}
    for _, attrs in path[:2]:
        for key, uri in (attrs or {}).items():
            if key.startswith("xmlns:") and NAMESPACES.get(uri, key[6:]) != key[6:]:
                aliases[key[6:] + ":"] = NAMESPACES[uri] + ":"
    return aliases


def _alias(name: str, aliases: dict[str, str]) -> str:
    prefix, colon, local = name.partition(":")
    if not colon:
        return name
    return aliases.get(prefix + ":", prefix + ":") + local


def _describe_root(path: list[tuple[str, Any]]) -> str:
    root, attrs = path[0]
    if root == "feed" and (attrs or {}).get("xmlns") == ATOM_NAMESPACE:
        return "it is an Atom feed"
    if root.lower() == "html":
        return "it is an HTML page"
    return f"its root element is <{root}>"


def parse_item(item: Any) -> Episode:
    """Turn one xmltodict ``<item>`` mapping into an ``Episode``.

    Raises:
        ValueError: the item is empty or has none of guid, enclosure URL and title.
    """
    if not isinstance(item, dict):
        raise ValueError("not an element with children")
    title = text_of(item.get("title"))
    enclosure = _pick_enclosure(item.get("enclosure"))
    enclosure_url = web_url(enclosure.get("@url"))
    published_raw = text_of(item.get("pubDate")) or text_of(item.get("dc:date"))
    guid = text_of(item.get("guid")) or enclosure_url
    if guid is None:
        if title is None:
            raise ValueError("no guid, no enclosure URL and no title")
        key = f"{title}\n{published_raw or ''}".encode("utf-8")
        guid = "sha256:" + hashlib.sha256(key).hexdigest()[:32]
    description = (text_of(item.get("description")) or text_of(item.get("itunes:summary"))
                   or text_of(item.get("content:encoded")))
    return Episode(
        guid=guid,
        title=title,
        link=web_url(text_of(item.get("link"))),
        published=parse_published(published_raw),
        published_raw=published_raw,
        description=strip_html(description),
        enclosure_url=enclosure_url,
        enclosure_type=text_of(enclosure.get("@type")) if enclosure_url else None,
        enclosure_length=small_int(enclosure.get("@length")) if enclosure_url else None,
        duration_seconds=parse_duration(text_of(item.get("itunes:duration"))),
        season=small_int(text_of(item.get("itunes:season"))),
        episode_number=small_int(text_of(item.get("itunes:episode"))),
    )


def _pick_enclosure(enclosures: Any) -> dict[str, Any]:
    """Return the first audio/video enclosure with a URL, else the first with a URL."""
    candidates = [e for e in enclosures or [] if isinstance(e, dict) and e.get("@url")]
    for enclosure in candidates:
        if str(enclosure.get("@type", "")).startswith(("audio/", "video/")):
            return enclosure
    return candidates[0] if candidates else {}


def text_of(value: Any) -> str | None:
    """Return the stripped text of an xmltodict value, or None when empty.

    >>> text_of({"@isPermaLink": "false", "#text": " abc "})
    'abc'
    >>> text_of(["first", "second"]), text_of("   ")
    ('first', None)
    """
    if value is None:  # the common cases first: this runs ~10 times per item
        return None
    if value.__class__ is str:
        return value.strip() or None
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("#text")
    if not isinstance(value, str):
        return None
    return value.strip() or None


def web_url(value: str | None) -> str | None:
    """Return ``value`` when it is an http(s) URL, else None (``javascript:``, ``file:``...).

    >>> web_url("https://example.com/a.mp3"), web_url("file:///etc/passwd")
    ('https://example.com/a.mp3', None)
    """
    if value is None:
        return None
    value = value.strip()
    return value if value.lower().startswith(WEB_SCHEMES) and len(value) > 8 else None


def strip_html(text: str | None) -> str | None:
    """Return ``text`` as plain text: tags (and script/style bodies) removed, entities decoded.

    >>> strip_html("<p>Hello&nbsp;<b>world</b>!</p><p>Host: <a href='/k'>Kai</a>.</p>")
    'Hello world! Host: Kai.'
    """
    if text is None:
        return None
    if "<" in text:
        text = _MARKUP.sub(" ", _INLINE_TAG.sub("", text))
    if "&" in text:
        # Most descriptions escape nothing but "&": when every "&" starts "&amp;",
        # replacing those gives what html.unescape would, at a fifth of the cost.
        if text.count("&") == text.count("&amp;"):
            text = text.replace("&amp;", "&")
        else:
            text = html.unescape(text)
    return " ".join(text.split()) or None


def parse_published(raw: str | None) -> str | None:
    """Convert an RFC 822 date (or ISO-8601) to ISO-8601 UTC; None when unreadable.

    >>> parse_published("Wed, 01 May 2024 08:30:00 -0400")
    '2024-05-01T12:30:00Z'
    >>> parse_published("sometime in May") is None
    True
    """
    if not raw:
        return None
    common = _read_common_date(raw)
    if common is not None:
        return common
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:  # "-0000" or no zone: RFC 5322 says UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _read_common_date(raw: str) -> str | None:
    """Return ``parse_published(raw)`` for the usual RFC 822 form, else None (not that form)."""
    match = _COMMON_DATE.fullmatch(raw)
    if match is None:
        return None
    day, month_name, year, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
    month = _MONTHS.get(month_name.lower())
    if month is None:
        return None
    try:
        moment = datetime(int(year), month, int(day), int(hour), int(minute), int(second))
    except ValueError:  # 31 Feb, hour 24, a leap second: left to email.utils
        return None
    if sign is not None:
        offset_minutes = int(zone_hours) * 60 + int(zone_minutes)
        if offset_minutes >= 24 * 60:  # not a valid zone: left to email.utils
            return None
        if offset_minutes:  # most feeds write +0000: no arithmetic then
            moment += timedelta(minutes=-offset_minutes if sign == "+" else offset_minutes)
    return moment.isoformat() + "Z"


def parse_duration(text: str | None) -> int | None:
    """Return an ``itunes:duration`` (``HH:MM:SS``, ``MM:SS`` or seconds) in whole seconds.

    >>> parse_duration("1:02:03"), parse_duration("62:03"), parse_duration("3723.4")
    (3723, 3723, 3723)
    >>> parse_duration("about an hour") is None
    True
    """
    if not text:
        return None
    parts = text.split(":")
    if len(parts) > 3:
        return None
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        return None
    seconds = 0.0
    for number in numbers:
        if not 0 <= number < math.inf:  # negative, infinite or NaN
            return None
        seconds = seconds * 60 + number
    if seconds > _LONGEST_DURATION:  # "1e30" is no duration, and SQLite could not store it
        return None
    return round(seconds)


def small_int(text: Any) -> int | None:
    """Return a non-negative integer written with ASCII digits, else None.

    >>> small_int("12"), small_int("-1"), small_int("²")
    (12, None, None)
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    return int(text)

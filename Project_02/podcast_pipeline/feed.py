"""Parse a podcast feed (RSS 2.0, RSS 1.0 or Atom 1.0) into plain records.

One entry point, in the style of podcastparser's ``parse(url, stream)``:
``parse_feed(stream, feed_url) -> ParsedFeed``. Pure: no network, no database. Every
way a document can fail is one ``FeedParseError``.

- xmltodict reads the bytes with its own namespace processing, so a namespace is
  understood wherever it is declared and whatever prefix it gets (a default namespace on
  one element included): names are ``itunes:duration``, ``media:content``, ``atom:link``.
- The items are streamed (``item_depth``): each child of ``<channel>`` (or of an Atom
  ``<feed>``) is handed over and dropped, so the XML tree is never held whole.
- Relative URLs are resolved against ``xml:base`` and the feed's own URL; enclosures
  that are not http(s) (``javascript:``, ``file:``, ``data:``) are dropped and counted.
- Podcasting 2.0 ``<podcast:transcript>`` and ``<podcast:chapters>`` links of an item
  are read by ``podcast_tags`` and carried on its ``Episode``.
- Entity declarations are refused (xmltodict's ``disable_entities=True``): a feed that
  declares entities can expand a few hundred bytes into gigabytes ("billion laughs") or
  pull local files into the text (XXE), and no real podcast feed needs them.
"""
import hashlib
import html
import itertools
import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, BinaryIO, NamedTuple
from urllib.parse import urljoin
from xml.parsers import expat

import xmltodict

from podcast_pipeline import PodcastError
from podcast_pipeline.podcast_tags import chapters_url, transcript_links
from podcast_pipeline.transcript_choice import TranscriptLink
from podcast_pipeline.xml_encoding import UnknownEncodingError, choose_encoding, to_utf8

logger = logging.getLogger(__name__)

ATOM = "http://www.w3.org/2005/Atom"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PODCAST = "https://podcastindex.org/namespace/1.0"
PODCAST_DRAFT = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
XML = "http://www.w3.org/XML/1998/namespace"
NAMESPACES = {
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
    "http://www.itunes.com/DTDs/Podcast-1.0.dtd": "itunes",
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://search.yahoo.com/mrss/": "media",
    "http://search.yahoo.com/mrss": "media",
    PODCAST: "podcast",
    PODCAST_DRAFT: "podcast",  # the address the namespace had first, still in many feeds
    ATOM: "atom",
    RDF: "rdf",
    XML: "xml",
    "http://purl.org/rss/1.0/": "",  # RSS 1.0's default namespace: plain names
    "http://backend.userland.com/rss2": "",  # RSS 2.0 with a namespace of its own
}
"""Namespace URI -> the prefix this module reads ("" for none); xmltodict maps names."""
WEB_SCHEMES = ("http://", "https://")
_FORCE_LIST = frozenset(("enclosure", "media:content", "atom:link", "podcast:transcript",
                         "podcast:chapters"))
_LONGEST_DURATION = 2**31 - 1  # seconds (68 years)
_CHUNK_BYTES = 1 << 20
_BASE_KEY = "@xml:base"
_PATH_BASE_KEYS = (XML + ":base", "xml:base")  # xmltodict's path keeps names unmapped
_UNBOUND_PREFIX = expat.ErrorString(27)  # XML_ERROR_UNBOUND_PREFIX: "unbound prefix"
# Inline tags vanish without a space, as a browser shows them ("<a>Kai</a>." is "Kai.");
# then, in one pass, a script or style element with its content, or any other tag,
# becomes a space ("<p>One</p><p>Two</p>" is "One Two").
_INLINE_TAG = re.compile(r"</?(?:a|abbr|b|bdi|cite|code|em|font|i|mark|q|s|small|span|strong"
                         r"|sub|sup|u)\b[^>]*>", re.IGNORECASE)
_MARKUP = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)


class FeedParseError(PodcastError):
    """The document is not a feed that can be read (HTML, broken XML, entities...)."""


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
    """One ``<item>`` (or Atom ``<entry>``) of a feed, normalised.

    ``guid`` is the identity: the item's ``<guid>``, else its enclosure URL, else a
    hash of title and date. ``published`` is ISO-8601 UTC (``2024-05-01T12:00:00Z``) or
    None when ``published_raw`` could not be parsed. ``transcripts`` are the item's
    ``<podcast:transcript>`` links in feed order, ``chapters_url`` its JSON
    ``<podcast:chapters>``.
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
    transcripts: tuple[TranscriptLink, ...] = ()
    chapters_url: str | None = None


@dataclass
class ParsedFeed:
    """Everything read from one feed document."""

    podcast: PodcastInfo
    episodes: list[Episode]
    new_feed_url: str | None = None
    skipped: int = 0
    duplicates: int = 0
    dropped_enclosures: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the feed as plain JSON-able values (the golden files' layout)."""
        return {"podcast": self.podcast.__dict__,
                "episodes": [{**episode._asdict(), "transcripts": [
                    link.__dict__ for link in episode.transcripts]} for episode in self.episodes],
                "new_feed_url": self.new_feed_url, "skipped": self.skipped,
                "duplicates": self.duplicates, "dropped_enclosures": self.dropped_enclosures,
                "warnings": self.warnings}


def parse_feed(stream: BinaryIO | bytes, feed_url: str, *,
               http_charset: str | None = None) -> ParsedFeed:
    """Parse a feed document into its podcast facts and episodes.

    Bytes, not text: a byte-order mark, else the encoding declared in the XML prolog,
    else ``http_charset``, else UTF-8 decides how they are read (``xml_encoding``).

    Args:
        stream: an open binary file (or the bytes) of the document.
        feed_url: the address the document came from: relative URLs are resolved
            against it, and messages name it.
        http_charset: the ``charset`` of the HTTP ``Content-Type``, if any.

    Returns:
        The channel facts, the episodes in feed order (one per guid) and counts of the
        items skipped as malformed or duplicate and of the enclosures dropped.

    Raises:
        FeedParseError: not well-formed XML, declares entities, an unknown encoding, or
            not a feed.

    >>> feed = parse_feed(b"<rss><channel><title>T</title><item><guid>1</guid>"
    ...                   b"<enclosure url='a.mp3'/></item></channel></rss>",
    ...                   "https://example.com/feed.xml")
    >>> feed.podcast.title, feed.episodes[0].enclosure_url
    ('T', 'https://example.com/a.mp3')
    """
    start = None if isinstance(stream, bytes) or not stream.seekable() else stream.tell()
    try:
        return _parse(stream, feed_url, http_charset, namespaces=True)
    except FeedParseError as err:
        cause = err.__cause__
        if not (isinstance(cause, expat.ExpatError) and str(cause).startswith(_UNBOUND_PREFIX)
                and (start is not None or isinstance(stream, bytes))):
            raise
    # A prefix used without its declaration (``itunes:`` alone is common): read the
    # names as written, as podcast apps do.
    if not isinstance(stream, bytes):
        stream.seek(start)
    parsed = _parse(stream, feed_url, http_charset, namespaces=False)
    parsed.warnings.insert(0, "a namespace prefix is used without its declaration; "
                              "names were read as written")
    return parsed


def _parse(stream: BinaryIO | bytes, feed_url: str, http_charset: str | None,
           namespaces: bool) -> ParsedFeed:
    """``parse_feed`` with or without namespace processing."""
    chunks: Iterator[bytes] = (iter((stream,)) if isinstance(stream, bytes)
                               else iter(lambda: stream.read(_CHUNK_BYTES), b""))
    head = next(chunks, b"")
    try:
        encoding, transcode = choose_encoding(head, http_charset)
    except UnknownEncodingError as err:
        raise FeedParseError(f"{feed_url} cannot be read: {err}") from err
    chunks = itertools.chain((head,), chunks)
    if transcode:
        chunks, encoding = to_utf8(chunks, encoding), "utf-8"
    seen, chunks = _first_elements(chunks, encoding)
    kind = _feed_kind(seen, feed_url)
    builder = _FeedBuilder(feed_url, kind, channel_seen=len(seen) > 1)
    try:
        xmltodict.parse((chunk for chunk in chunks),  # xmltodict streams only generators
                        encoding=encoding, process_namespaces=namespaces,
                        namespaces=NAMESPACES if namespaces else None,
                        item_depth=3 if kind == "rss" else 2,
                        item_callback=builder.add, force_list=_FORCE_LIST)
    except expat.ExpatError as err:
        raise FeedParseError(f"{feed_url} is not well-formed XML ({err})") from err
    except ValueError as err:  # xmltodict's refusal of <!ENTITY ...> declarations
        raise FeedParseError(
            f"{feed_url} declares XML entities, which are refused ({err})") from err
    return builder.result()


class _Stop(Exception):
    """Raised inside expat handlers to end ``_first_elements`` early."""


def _first_elements(chunks: Iterator[bytes], encoding: str | None,
                    ) -> tuple[list[tuple[str, str]], Iterator[bytes]]:
    """Read just enough to know the root element and its first child.

    Returns:
        ``[(namespace, name)]`` of the root and its first child (fewer when the document
        has none, is broken or declares entities: the full parse then says why), and
        the chunks again, from the start.
    """
    parser = expat.ParserCreate(encoding, " ")
    seen: list[tuple[str, str]] = []

    def start(name: str, _attributes: Any) -> None:
        uri, _, local = name.rpartition(" ")
        seen.append((uri, local))
        if len(seen) == 2:
            raise _Stop

    def refuse(*_args: Any) -> None:
        raise _Stop  # never expand entities here; xmltodict refuses them with a reason

    parser.StartElementHandler = start
    parser.EndElementHandler = refuse  # the root (or a child of it) has ended: enough
    parser.EntityDeclHandler = refuse
    read: list[bytes] = []
    try:
        for chunk in chunks:
            read.append(chunk)
            parser.Parse(chunk, False)
    except (_Stop, expat.ExpatError):
        pass
    return seen, itertools.chain(read, chunks)


def _feed_kind(seen: list[tuple[str, str]], feed_url: str) -> str:
    """Return "rss", "atom" or "rdf" from the root element; refuse anything else."""
    if not seen:
        return "rss"  # broken or entity-declaring: xmltodict gives the reason
    uri, root = seen[0]
    if root == "rss":
        if len(seen) > 1 and seen[1][1] != "channel":
            raise FeedParseError(f"{feed_url} is not a podcast feed: its <rss> element "
                                 f"holds <{seen[1][1]}>, not a <channel>")
        return "rss"
    if (uri, root) == (ATOM, "feed"):
        return "atom"
    if (uri, root) == (RDF, "RDF"):
        return "rdf"
    if root.lower() == "html":
        raise FeedParseError(f"{feed_url} is not a podcast feed: it is an HTML page")
    raise FeedParseError(f"{feed_url} is not a podcast feed: its root element is <{root}>, "
                         "not <rss>, <rdf:RDF> or an Atom <feed>")


class _FeedBuilder:
    """Turn the elements xmltodict streams into a ``ParsedFeed``."""

    def __init__(self, feed_url: str, kind: str, channel_seen: bool) -> None:
        self.feed_url = feed_url
        self.kind = kind
        self.channel_seen = channel_seen or kind != "rss"
        self.channel: dict[str, Any] = {"atom:link": []}
        self.base: str | None = None  # xml:base of the channel (None: not read yet)
        self.explicit_base = False  # an xml:base above the items
        self.episodes: list[Episode] = []
        self.seen_guids: set[str] = set()
        self.counts = {"items": 0, "skipped": 0, "duplicates": 0, "dropped": 0}
        self.warnings: list[str] = []

    def add(self, path: list[tuple[str, Any]], value: Any) -> bool:
        """Take one streamed element: an item (or entry), or a channel fact."""
        if self.base is None:
            self.base = self.feed_url
            for _, attributes in path[:-1]:
                own = attributes and (attributes.get(_PATH_BASE_KEYS[0])
                                      or attributes.get(_PATH_BASE_KEYS[1]))
                if own:
                    self.base = urljoin(self.base, own.strip())
                    self.explicit_base = True
            if self.kind == "atom" and path[0][1]:
                self.channel["language"] = path[0][1].get(XML + ":lang")
        name = path[-1][0]
        if self.kind == "rss":
            if path[1][0] != "channel":
                return True
            self.channel_seen = True
        if name in ("item", "atom:entry"):
            self.counts["items"] += 1
            self._add_item(value)
        elif name == "channel" and isinstance(value, dict):  # RSS 1.0: beside the items
            self.channel.update(value)
        elif name == "atom:link":
            self.channel["atom:link"].append(value)
        elif name not in self.channel:
            self.channel[name] = value
        return True

    def _add_item(self, item: Any) -> None:
        try:
            episode, dropped = (parse_entry if self.kind == "atom" else parse_item)(
                item, self.base or self.feed_url, self.explicit_base)
        except ValueError as err:
            self.counts["skipped"] += 1
            self._warn(f"item {self.counts['items']} skipped: {err}")
            return
        self.counts["dropped"] += dropped
        if episode.guid in self.seen_guids:
            self.counts["duplicates"] += 1
            self._warn(f"item {self.counts['items']} skipped: duplicate guid {episode.guid!r}")
            return
        self.seen_guids.add(episode.guid)
        self.episodes.append(episode)

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        logger.warning("%s: %s", self.feed_url, message)

    def result(self) -> ParsedFeed:
        """Return the parsed feed; raise when an ``<rss>`` document held no channel."""
        if not self.channel_seen:
            raise FeedParseError(f"{self.feed_url} is not a podcast feed: its <rss> element "
                                 "holds no <channel>")
        if self.counts["dropped"]:
            self._warn(f"{self.counts['dropped']} enclosure URLs dropped: not http(s) "
                       "(javascript:, file:, data: ...)")
        podcast = (self._atom_podcast() if self.kind == "atom" else self._rss_podcast())
        new_url = web_url(text_of(self.channel.get("itunes:new-feed-url")))
        if new_url == self.feed_url:
            new_url = None
        return ParsedFeed(podcast=podcast, episodes=self.episodes, new_feed_url=new_url,
                          skipped=self.counts["skipped"], duplicates=self.counts["duplicates"],
                          dropped_enclosures=self.counts["dropped"], warnings=self.warnings)

    def _rss_podcast(self) -> PodcastInfo:
        channel, base = self.channel, self.base or self.feed_url
        image = channel.get("itunes:image")
        image_url = image.get("@href") if isinstance(image, dict) else None
        if image_url is None and isinstance(channel.get("image"), dict):
            image_url = text_of(channel["image"].get("url"))
        return PodcastInfo(
            title=text_of(channel.get("title")),
            link=absolute_url(text_of(channel.get("link")), base),
            description=strip_html(text_of(channel.get("description"))
                                   or text_of(channel.get("itunes:summary"))),
            image_url=absolute_url(image_url, base),
            author=text_of(channel.get("itunes:author")) or text_of(channel.get("dc:creator")),
            language=text_of(channel.get("language")) or text_of(channel.get("dc:language")),
        )

    def _atom_podcast(self) -> PodcastInfo:
        channel, base = self.channel, self.base or self.feed_url
        image = channel.get("itunes:image")
        author = channel.get("atom:author")
        return PodcastInfo(
            title=text_of(channel.get("atom:title")),
            link=absolute_url(_atom_href(channel["atom:link"], "alternate"), base),
            description=strip_html(text_of(channel.get("atom:subtitle"))
                                   or text_of(channel.get("itunes:summary"))),
            image_url=absolute_url((image.get("@href") if isinstance(image, dict) else None)
                                   or text_of(channel.get("atom:logo"))
                                   or text_of(channel.get("atom:icon")), base),
            author=(text_of(author.get("atom:name")) if isinstance(author, dict) else None)
            or text_of(channel.get("itunes:author")),
            language=channel.get("language"),
        )


def parse_item(item: Any, base: str, explicit_base: bool = False) -> tuple[Episode, int]:
    """Turn one xmltodict ``<item>`` mapping into an ``Episode``.

    Args:
        item: the item's mapping.
        base: the URL relative URLs of the item resolve against (channel ``xml:base``,
            else the feed's URL).
        explicit_base: True when ``base`` comes from an ``xml:base``: only then is a
            relative permalink guid resolved (a guid as written is the identity).

    Returns:
        The episode and how many enclosure URLs were dropped for their scheme.

    Raises:
        ValueError: the item is empty or has none of guid, enclosure URL and title.
    """
    if not isinstance(item, dict):
        raise ValueError("not an element with children")
    explicit_base = explicit_base or _BASE_KEY in item
    base = _based(base, item)
    enclosure, dropped = _pick_enclosure(
        [(e.get("@url"), e) for e in item.get("enclosure") or () if isinstance(e, dict)]
        + [(m.get("@url"), m) for m in _media_contents(item)], base)
    guid = _guid(item.get("guid"), base, explicit_base) or text_of(item.get("@rdf:about"))
    episode = _episode(item, guid=guid, link=absolute_url(text_of(item.get("link")), base),
                       published_raw=(text_of(item.get("pubDate"))
                                      or text_of(item.get("dc:date"))),
                       description=(text_of(item.get("description"))
                                    or text_of(item.get("itunes:summary"))
                                    or text_of(item.get("content:encoded"))),
                       title=text_of(item.get("title")), enclosure=enclosure)
    return _with_podcast_links(episode, item, base), dropped


def parse_entry(entry: Any, base: str, _explicit_base: bool = False) -> tuple[Episode, int]:
    """Turn one xmltodict Atom ``<entry>`` mapping into an ``Episode`` (see ``parse_item``).

    The enclosure is a ``<link rel="enclosure">``; the guid is ``<id>``.
    """
    if not isinstance(entry, dict):
        raise ValueError("not an element with children")
    base = _based(base, entry)
    links = [link for link in entry.get("atom:link") or () if isinstance(link, dict)]
    enclosure, dropped = _pick_enclosure(
        [(link.get("@href"), link) for link in links if link.get("@rel") == "enclosure"],
        base)
    episode = _episode(entry, guid=text_of(entry.get("atom:id")),
                       link=absolute_url(_atom_href(links, "alternate"), base),
                       published_raw=(text_of(entry.get("atom:published"))
                                      or text_of(entry.get("atom:updated"))),
                       description=(text_of(entry.get("atom:summary"))
                                    or text_of(entry.get("atom:content"))
                                    or text_of(entry.get("itunes:summary"))),
                       title=_atom_text(entry.get("atom:title")), enclosure=enclosure)
    return _with_podcast_links(episode, entry, base), dropped


def _atom_text(value: Any) -> str | None:
    """An Atom text construct as plain text (``type="html"`` loses its markup)."""
    if isinstance(value, dict) and value.get("@type") in ("html", "xhtml"):
        return strip_html(text_of(value))
    return text_of(value)


def _episode(item: dict[str, Any], *, guid: str | None, link: str | None,
             published_raw: str | None, description: str | None, title: str | None,
             enclosure: dict[str, Any]) -> Episode:
    """Build the ``Episode`` of an item or entry from the fields read so far."""
    enclosure_url = enclosure.get("url")
    guid = guid or enclosure_url
    if guid is None:
        if title is None:
            raise ValueError("no guid, no enclosure URL and no title")
        key = f"{title}\n{published_raw or ''}".encode("utf-8")
        guid = "sha256:" + hashlib.sha256(key).hexdigest()[:32]
    return Episode(
        guid=guid, title=title, link=link,
        published=parse_published(published_raw), published_raw=published_raw,
        description=strip_html(description),
        enclosure_url=enclosure_url,
        enclosure_type=text_of(enclosure.get("@type")) if enclosure_url else None,
        enclosure_length=(small_int(enclosure.get("@length") or enclosure.get("@fileSize"))
                          if enclosure_url else None),
        duration_seconds=parse_duration(text_of(item.get("itunes:duration"))),
        season=small_int(text_of(item.get("itunes:season"))),
        episode_number=small_int(text_of(item.get("itunes:episode"))),
    )


def _with_podcast_links(episode: Episode, item: dict[str, Any], base: str) -> Episode:
    """Add the item's ``<podcast:transcript>`` and ``<podcast:chapters>`` links, their
    relative URLs resolved against ``base`` (most items have none: returned as given)."""
    transcripts, chapters = item.get("podcast:transcript"), item.get("podcast:chapters")
    if transcripts is None and chapters is None:
        return episode
    return episode._replace(transcripts=tuple(transcript_links(transcripts, base)),
                            chapters_url=chapters_url(chapters, base))


def _media_contents(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``<media:content>`` elements of an item, directly or in a ``<media:group>``."""
    contents = [c for c in item.get("media:content") or () if isinstance(c, dict)]
    groups = item.get("media:group")
    for group in groups if isinstance(groups, list) else [groups]:
        if isinstance(group, dict):
            contents += [c for c in group.get("media:content") or () if isinstance(c, dict)]
    return contents


def _pick_enclosure(candidates: list[tuple[Any, dict[str, Any]]],
                    base: str) -> tuple[dict[str, Any], int]:
    """Choose the enclosure: the first audio/video one with an http(s) URL, else the first
    with one (``<enclosure>`` before ``<media:content>``, as given).

    Returns:
        The chosen element with its absolute URL under ``"url"`` (``{}`` for none), and
        how many candidates were dropped for a scheme that is not http(s).
    """
    usable, dropped = [], 0
    for raw_url, element in candidates:
        if not isinstance(raw_url, str) or not raw_url.strip():
            continue
        url = absolute_url(raw_url, _based(base, element))
        if url is None:
            dropped += 1
        else:
            usable.append({**element, "url": url})
    for enclosure in usable:
        kind = str(enclosure.get("@type") or enclosure.get("@medium") or "")
        if kind.startswith(("audio", "video")):
            return enclosure, dropped
    return (usable[0] if usable else {}), dropped


def _guid(value: Any, base: str, explicit_base: bool) -> str | None:
    """The item's guid; a relative permalink guid is resolved against an ``xml:base``.

    Without an ``xml:base`` in scope the text is kept as written: it is the identity,
    and resolving it against the feed's URL would change it when the feed moves.
    """
    guid = text_of(value)
    if guid is None or guid[:8].lower().startswith(WEB_SCHEMES):
        return guid
    attributes = value if isinstance(value, dict) else {}
    if not (explicit_base or _BASE_KEY in attributes) or str(
            attributes.get("@isPermaLink", "true")).strip().lower() == "false":
        return guid
    return absolute_url(guid, _based(base, attributes)) or guid


def _based(base: str, element: dict[str, Any]) -> str:
    """Return ``base`` joined with the element's own ``xml:base``, if it has one."""
    own = element.get(_BASE_KEY)
    return urljoin(base, own.strip()) if isinstance(own, str) and own.strip() else base


def _atom_href(links: list[Any], rel: str) -> str | None:
    """The ``href`` of the first Atom link with ``rel`` (a link without rel is alternate)."""
    for link in links:
        if isinstance(link, dict) and link.get("@rel", "alternate") == rel:
            return text_of(link.get("@href"))
    return None


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
    return value if value[:8].lower().startswith(WEB_SCHEMES) and len(value) > 8 else None


def absolute_url(value: str | None, base: str) -> str | None:
    """Resolve ``value`` against ``base``; return it if it is then an http(s) URL.

    >>> absolute_url("../x.mp3", "https://example.com/shows/feed.xml")
    'https://example.com/x.mp3'
    >>> absolute_url("javascript:alert(1)", "https://example.com/") is None
    True
    """
    if value is None:
        return None
    value = value.strip()
    if value[:8].lower().startswith(WEB_SCHEMES):
        return web_url(value)
    return web_url(urljoin(base, value)) if value else None


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
    """Convert an RFC 822 date (or ISO-8601, as Atom writes) to ISO-8601 UTC.

    Returns None when the text is no date (the caller keeps the raw text).

    >>> parse_published("Wed, 01 May 2024 08:30:00 -0400")
    '2024-05-01T12:30:00Z'
    >>> parse_published("2024-05-01T08:30:00+02:00"), parse_published("sometime in May")
    ('2024-05-01T06:30:00Z', None)
    """
    if not raw:
        return None
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

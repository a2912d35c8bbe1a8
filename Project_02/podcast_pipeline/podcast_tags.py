"""Read an item's Podcasting 2.0 ``<podcast:transcript>`` and ``<podcast:chapters>`` tags (pure).

Namespace ``https://podcastindex.org/namespace/1.0``. The values are what xmltodict
makes of the elements: a dict of attributes (keys with or without the ``@`` prefix),
or a list of them when an item has several. A relative URL is resolved against the
``base`` given (the item's ``xml:base`` or the feed's address); only http(s) URLs are kept.
"""
from typing import Any
from urllib.parse import urljoin

from podcast_pipeline.transcript_choice import TranscriptLink

PODCAST_NAMESPACE = "https://podcastindex.org/namespace/1.0"
CHAPTERS_TYPES = ("application/json+chapters", "application/json")
MAX_LINKS = 20  # transcripts kept per item: a feed listing thousands is not trusted further


def _attributes(value: Any) -> list[dict[str, str]]:
    """The attribute dicts of one element or a list of them (text-only elements skipped)."""
    items = value if isinstance(value, list) else [value]
    return [{key.lstrip("@").lower(): str(text).strip() for key, text in item.items()
             if isinstance(text, str)} for item in items if isinstance(item, dict)]


def _web_url(url: str | None, base: str | None = None) -> str | None:
    if url and base:
        url = urljoin(base, url)
    return url if url and url.lower().startswith(("http://", "https://")) else None


def transcript_links(value: Any, base: str | None = None) -> list[TranscriptLink]:
    """The item's transcript links in feed order (those without an http(s) URL or a
    type dropped), relative URLs resolved against ``base``.

    >>> transcript_links({"@url": "https://h/t.vtt", "@type": "text/vtt", "@rel": "captions"})
    [TranscriptLink(url='https://h/t.vtt', mime_type='text/vtt', language=None, rel='captions')]
    >>> transcript_links([{"@url": "javascript:x", "@type": "text/vtt"}, "text only"])
    []
    >>> transcript_links({"@url": "t.srt", "@type": "application/srt"}, "https://h/ep/")[0].url
    'https://h/ep/t.srt'
    """
    links = []
    for attributes in _attributes(value)[:MAX_LINKS]:
        url, mime_type = _web_url(attributes.get("url"), base), attributes.get("type")
        if url and mime_type:
            links.append(TranscriptLink(url, mime_type, attributes.get("language") or None,
                                        attributes.get("rel") or None))
    return links


def chapters_url(value: Any, base: str | None = None) -> str | None:
    """The item's JSON chapters URL (the first ``<podcast:chapters>`` of a JSON type),
    resolved against ``base``.

    >>> chapters_url({"@url": "https://h/c.json", "@type": "application/json+chapters"})
    'https://h/c.json'
    >>> chapters_url({"@url": "https://h/c.psc", "@type": "application/psc+xml"}) is None
    True
    """
    for attributes in _attributes(value):
        mime_type = attributes.get("type", "").split(";")[0].strip().lower()
        url = _web_url(attributes.get("url"), base)
        if url and mime_type in CHAPTERS_TYPES:
            return url
    return None

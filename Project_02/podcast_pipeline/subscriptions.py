"""Read the list of feeds to sync from a file: one URL a line, or an OPML export."""
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict

from podcast_pipeline import PodcastError
from podcast_pipeline.feed import web_url


class FeedListError(PodcastError):
    """The feeds file cannot be read or lists no http(s) feed."""


def read_feed_list(path: Path) -> list[str]:
    """Return the feed URLs listed in ``path``, in order, without duplicates.

    OPML (``<opml>`` with ``<outline xmlUrl=...>``, as podcast apps export) or plain text
    with one URL a line; blank lines and lines starting with ``#`` are ignored.

    Raises:
        FeedListError: the file is missing, unreadable or lists no http(s) URL.
    """
    try:
        content = path.read_bytes()
    except OSError as err:
        raise FeedListError(f"cannot read the feeds file {path}: {err.strerror}") from err
    if content.lstrip().startswith(b"<"):
        urls = _opml_urls(content, path)
    else:
        lines = content.decode("utf-8", errors="replace").splitlines()
        urls = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    bad = [url for url in urls if web_url(url) is None]
    if bad:
        raise FeedListError(f"{path}: not an http(s) URL: {bad[0]!r}")
    if not urls:
        raise FeedListError(f"{path} lists no feed")
    return list(dict.fromkeys(urls))


def _opml_urls(content: bytes, path: Path) -> list[str]:
    try:
        document = xmltodict.parse(content, force_list=("outline",))
    except (ExpatError, ValueError) as err:
        raise FeedListError(f"{path} is neither a list of URLs nor valid OPML ({err})") from err
    body = (document or {}).get("opml", {}) or {}
    urls: list[str] = []
    _collect(body.get("body") or {}, urls)
    return urls


def _collect(node: Any, urls: list[str]) -> None:
    """Gather ``xmlUrl`` attributes of nested ``<outline>`` elements, depth first."""
    if not isinstance(node, dict):
        return
    for outline in node.get("outline", []):
        if isinstance(outline, dict):
            if outline.get("@xmlUrl"):
                urls.append(outline["@xmlUrl"].strip())
            _collect(outline, urls)

"""Parse Podcasting 2.0 JSON chapters (``application/json+chapters``), refusing hostile JSON.

The document is ``{"version": "1.2.0", "chapters": [{"startTime": 0, "title": ...,
"endTime"?, "url"?, "img"?, "toc"?}, ...]}``. It comes from a third-party server, so it
is read under limits: at most ``MAX_CHAPTER_BYTES`` bytes and ``MAX_CHAPTERS`` chapters,
no nesting deep enough to exhaust the parser, and every field of the expected type;
anything else raises ``ChapterError`` (pure: bytes in, ``Chapter`` list out).
"""
import json
import math
from dataclasses import dataclass
from typing import Any

from podcast_pipeline import PodcastError

MAX_CHAPTER_BYTES = 1024 * 1024
MAX_CHAPTERS = 2_000
MAX_TITLE_CHARS = 500
_WEB_SCHEMES = ("http://", "https://")


class ChapterError(PodcastError):
    """A chapters document that cannot be used: too big, not JSON, or of the wrong shape."""


@dataclass(frozen=True)
class Chapter:
    """One chapter: where it starts (seconds), and what the publisher says about it.

    ``toc`` False marks a chapter the publisher keeps out of the table of contents
    (e.g. a sponsor break); ``url`` and ``image_url`` are http(s) or None.
    """

    start: float
    title: str | None = None
    end: float | None = None
    url: str | None = None
    image_url: str | None = None
    toc: bool = True


def parse_chapters(data: bytes) -> list[Chapter]:
    """Parse a JSON chapters document into chapters ordered by start time.

    Raises:
        ChapterError: too large, not UTF-8 JSON, nested too deeply, too many chapters,
            or a field of the wrong type (the message names the chapter, from 1).
    """
    if len(data) > MAX_CHAPTER_BYTES:
        raise ChapterError(f"chapters file is {len(data):,} bytes, more than the "
                           f"{MAX_CHAPTER_BYTES:,} allowed")
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except RecursionError as err:
        raise ChapterError("chapters JSON is nested too deeply") from err
    except ValueError as err:  # also UnicodeDecodeError
        raise ChapterError(f"chapters file is not UTF-8 JSON ({err})") from err
    items = document.get("chapters") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise ChapterError('chapters JSON has no "chapters" list')
    if len(items) > MAX_CHAPTERS:
        raise ChapterError(f"chapters JSON has {len(items):,} chapters, more than the "
                           f"{MAX_CHAPTERS:,} allowed")
    chapters = [_chapter(item, number) for number, item in enumerate(items, start=1)]
    return sorted(chapters, key=lambda chapter: chapter.start)


def _chapter(item: Any, number: int) -> Chapter:
    if not isinstance(item, dict):
        raise ChapterError(f"chapter {number} is not an object")
    start = _seconds(item.get("startTime"), number, "startTime")
    if start is None:
        raise ChapterError(f"chapter {number} has no startTime")
    end = _seconds(item.get("endTime"), number, "endTime")
    if end is not None and end < start:
        raise ChapterError(f"chapter {number} ends before it starts")
    title = _text(item.get("title"), number, "title")
    toc = item.get("toc", True)
    if not isinstance(toc, bool):
        raise ChapterError(f"chapter {number} has a toc that is not true or false")
    return Chapter(start=start, title=title[:MAX_TITLE_CHARS] if title else None, end=end,
                   url=_web_url(item.get("url"), number, "url"),
                   image_url=_web_url(item.get("img"), number, "img"), toc=toc)


def _seconds(value: Any, number: int, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < 0:
        raise ChapterError(f"chapter {number} has a {key} that is not a number of seconds")
    return float(value)


def _text(value: Any, number: int, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ChapterError(f"chapter {number} has a {key} that is not text")
    return " ".join(value.split()) or None


def _web_url(value: Any, number: int, key: str) -> str | None:
    """An http(s) address, or None (other schemes such as ``javascript:`` are dropped)."""
    text = _text(value, number, key)
    return text if text and text.lower().startswith(_WEB_SCHEMES) else None

"""Parse publisher transcripts into timed segments (pure: bytes in, ``Segment`` list out).

The Podcasting 2.0 ``<podcast:transcript>`` tag names one of five formats. WebVTT and
SRT are read by well-kept libraries (``webvtt-py``, ``srt``) rather than by regular
expressions of our own: both formats have corners (cue settings, NOTE and STYLE
blocks, voice spans, BOMs, CRLF, numbering) that those libraries already handle and
test. The Podcasting 2.0 JSON format is read with ``json``, HTML with the standard
library's ``html.parser``; plain text has no times.

Whatever is wrong with a document (too big, not in the format it claims, truncated,
negative or overlapping times, an encoding that cannot be read) raises one error,
``TranscriptError``, with a one-line reason: the caller turns it into a warning for
that episode.
"""
import codecs
import html
import io
import json
import math
import re
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import srt
import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from podcast_pipeline import PodcastError

MAX_TRANSCRIPT_BYTES = 16 * 1024 * 1024
"""A 3-hour episode's WebVTT is about 1-2 MB (word-level JSON about 5 MB); more is refused."""
MAX_SEGMENTS = 100_000
OVERLAP_TOLERANCE = 0.5
"""Seconds a segment may start before the previous one ends: real files round their
times and overlap by a few milliseconds; a longer overlap means broken times."""

FORMATS = ("vtt", "srt", "json", "html", "text")
"""Transcript formats, best first (the order ``transcript_choice`` prefers)."""
MIME_FORMATS = {
    "text/vtt": "vtt",
    "application/x-subrip": "srt",
    "application/srt": "srt",
    "text/srt": "srt",
    "application/x-srt": "srt",
    "text/x-srt": "srt",
    "application/json": "json",
    "text/html": "html",
    "text/plain": "text",
}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_TIME = re.compile(r"^(?:(\d+):)?([0-5]?\d):([0-5]\d(?:[.,]\d+)?)$")
_SPACES = re.compile(r"\s+")


class TranscriptError(PodcastError):
    """A transcript that cannot be used: too big, wrong format, broken times, bad encoding."""


@dataclass(frozen=True)
class Segment:
    """One timed piece of a transcript.

    ``start`` and ``end`` are seconds from the start of the audio; both are None in a
    plain-text transcript, and ``end`` is None where the format gives start times only
    (HTML). ``speaker`` is None when the format or the file names nobody.
    """

    start: float | None
    end: float | None
    speaker: str | None
    text: str


def format_of(mime_type: str | None) -> str | None:
    """Return the format name (``vtt``, ``srt``, ``json``, ``html``, ``text``) of a MIME
    type such as ``text/vtt; charset=utf-8``, or None for a type this package cannot read.

    >>> format_of("text/VTT; charset=utf-8")
    'vtt'
    >>> format_of("application/pdf") is None
    True
    """
    if not mime_type:
        return None
    return MIME_FORMATS.get(mime_type.split(";", 1)[0].strip().lower())


def parse_transcript(data: bytes, fmt: str, charset: str | None = None) -> list[Segment]:
    """Parse a transcript document into segments in time order.

    Args:
        data: the raw bytes as downloaded.
        fmt: one of ``FORMATS`` (see ``format_of``).
        charset: the charset the server named, if any; a byte-order mark wins over it,
            and without either the text must be UTF-8.

    Returns:
        The non-empty segments, in document order.

    Raises:
        TranscriptError: for any document that cannot be used (see the module docstring).
    """
    if fmt not in FORMATS:
        raise TranscriptError(f"unknown transcript format {fmt!r}")
    if len(data) > MAX_TRANSCRIPT_BYTES:
        raise TranscriptError(f"transcript is {len(data):,} bytes, more than the "
                              f"{MAX_TRANSCRIPT_BYTES:,} allowed")
    text = decode(data, charset)
    if fmt != "html" and _looks_like_html(text):
        raise TranscriptError(f"expected {fmt}, got an HTML page")
    segments = _PARSERS[fmt](text)
    if len(segments) > MAX_SEGMENTS:
        raise TranscriptError(f"transcript has {len(segments):,} segments, more than the "
                              f"{MAX_SEGMENTS:,} allowed")
    check_times(segments)
    return segments


def decode(data: bytes, charset: str | None = None) -> str:
    """Return ``data`` as text: by its byte-order mark, else ``charset``, else UTF-8.

    Raises:
        TranscriptError: an unknown charset name, bytes invalid in the encoding, or NUL
            characters (UTF-16 without a byte-order mark).
    """
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    encoding = encoding or (charset or "utf-8").strip().strip('"')
    try:
        text = data.decode(encoding)
    except LookupError as err:
        raise TranscriptError(f"unknown text encoding {encoding!r}") from err
    except UnicodeDecodeError as err:
        raise TranscriptError(f"transcript is not valid {encoding} text ({err.reason} at "
                              f"byte {err.start})") from err
    if "\x00" in text:
        raise TranscriptError("transcript holds NUL characters (an unknown encoding)")
    return text.removeprefix("\ufeff")


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:512].lower()
    return head.startswith(("<!doctype html", "<html", "<head", "<body"))


def check_times(segments: list[Segment]) -> None:
    """Refuse negative, non-finite, reversed or overlapping times.

    Raises:
        TranscriptError: naming the first segment at fault (counted from 1).
    """
    previous: Segment | None = None
    for number, segment in enumerate(segments, start=1):
        if segment.start is None:
            continue
        times = [segment.start] + ([] if segment.end is None else [segment.end])
        if not all(math.isfinite(t) and t >= 0 for t in times):
            raise TranscriptError(f"segment {number} has a negative or invalid time")
        if segment.end is not None and segment.end < segment.start:
            raise TranscriptError(f"segment {number} ends before it starts")
        if previous is not None and previous.start is not None:
            earliest = previous.start if previous.end is None else \
                max(previous.start, previous.end - OVERLAP_TOLERANCE)
            if segment.start < earliest:
                raise TranscriptError(f"segment {number} starts at {segment.start:g} s, "
                                      "before the one before it ends")
        previous = segment


def clean_text(text: str) -> str:
    """Collapse whitespace and decode HTML character references (``&amp;`` is ``&``).

    >>> clean_text("The  Fed &amp;\\nrates ")
    'The Fed & rates'
    """
    return squash_spaces(html.unescape(text))


def squash_spaces(text: str) -> str:
    """Collapse runs of whitespace into one space and trim the ends."""
    return _SPACES.sub(" ", text).strip()


def _parse_vtt(text: str) -> list[Segment]:
    try:
        captions = webvtt.from_buffer(io.StringIO(text), strict=True).captions
    except MalformedFileError as err:
        raise TranscriptError(f"not a WebVTT file ({err})") from err
    except MalformedCaptionError as err:
        raise TranscriptError(f"broken WebVTT cue ({err})") from err
    segments = []
    for caption in captions:
        body = clean_text(caption.text)
        if body:
            segments.append(Segment(_vtt_seconds(caption.start_time),
                                    _vtt_seconds(caption.end_time),
                                    clean_text(caption.voice or "") or None, body))
    return segments


def _vtt_seconds(stamp: Any) -> float:
    """Seconds of a webvtt-py ``Timestamp`` (its ``in_seconds`` drops the milliseconds)."""
    return (stamp.hours * 3600 + stamp.minutes * 60 + stamp.seconds
            + stamp.milliseconds / 1000)


def _parse_srt(text: str) -> list[Segment]:
    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as err:
        raise TranscriptError(f"not an SRT file or truncated ({_shorten(str(err))})") from err
    segments = []
    for subtitle in subtitles:
        body = clean_text(_strip_tags(subtitle.content))
        if body:
            segments.append(Segment(_seconds(subtitle.start), _seconds(subtitle.end), None,
                                    body))
    if not segments and text.strip():
        raise TranscriptError("not an SRT file (no subtitles found)")
    return segments


def _seconds(delta: timedelta) -> float:
    return delta.total_seconds()


def _parse_json(text: str) -> list[Segment]:
    """Podcasting 2.0 JSON: ``{"version": ..., "segments": [{"startTime", "endTime",
    "speaker"?, "body"}, ...]}``."""
    try:
        document = json.loads(text)
    except RecursionError as err:
        raise TranscriptError("JSON transcript is nested too deeply") from err
    except ValueError as err:
        raise TranscriptError(f"not a JSON document ({err})") from err
    items = document.get("segments") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise TranscriptError('JSON transcript has no "segments" list')
    if len(items) > MAX_SEGMENTS:
        raise TranscriptError(f"transcript has {len(items):,} segments, more than the "
                              f"{MAX_SEGMENTS:,} allowed")
    segments = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise TranscriptError(f"JSON segment {number} is not an object")
        start, end = _number(item, "startTime", number), _number(item, "endTime", number)
        body, speaker = item.get("body"), item.get("speaker")
        if not isinstance(body, str) or not isinstance(speaker, (str, type(None))):
            raise TranscriptError(f"JSON segment {number} has no text body or a bad speaker")
        if clean_text(body):
            segments.append(Segment(start, end, clean_text(speaker or "") or None,
                                    clean_text(body)))
    return join_words(segments)


def _number(item: dict[str, Any], key: str, number: int) -> float:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TranscriptError(f"JSON segment {number} has no numeric {key}")
    return float(value)


def join_words(segments: list[Segment], seconds: float = 5.0) -> list[Segment]:
    """Join word-level segments (as many JSON transcripts are) into lines of at most
    about ``seconds``, one speaker each, so that a phrase search finds words spoken
    together. Segments of three or more words are kept as they are.

    >>> words = [Segment(0.0, 0.4, "A", "Federal"), Segment(0.4, 0.9, "A", "Reserve")]
    >>> join_words(words)
    [Segment(start=0.0, end=0.9, speaker='A', text='Federal Reserve')]
    """
    joined: list[Segment] = []
    for segment in segments:
        last = joined[-1] if joined else None
        if last is not None and _continues(last, segment, seconds):
            joined[-1] = Segment(last.start, segment.end, last.speaker,
                                 f"{last.text} {segment.text}")
        else:
            joined.append(segment)
    return joined


def _continues(line: Segment, word: Segment, seconds: float) -> bool:
    """Whether ``word`` (a segment of one or two words) belongs to the line before it."""
    if len(word.text.split()) >= 3 or word.speaker != line.speaker:
        return False
    if line.start is None or word.end is None or word.end - line.start > seconds:
        return False
    return not line.text.endswith((".", "?", "!"))


class _TranscriptHTML(HTMLParser):
    """Podcasting 2.0 HTML: ``<cite>Speaker:</cite> <time>0:00</time> <p>text</p>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.segments: list[Segment] = []
        self.speaker: str | None = None
        self.start: float | None = None
        self.open: str | None = None  # the element whose text is being collected
        self.skip = 0  # depth inside <script>/<style>
        self.buffer: list[str] = []
        self.loose: list[str] = []  # text outside <p>, for pages without paragraphs

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in ("cite", "time", "p") and not self.skip:
            self._close()
            self.open = tag
            if tag == "time":
                self.buffer = [dict(attrs).get("datetime") or ""]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag == self.open:
            self._close()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        (self.buffer if self.open else self.loose).append(data)

    def _close(self) -> None:
        text = squash_spaces("".join(self.buffer))  # references already decoded
        tag, self.open, self.buffer = self.open, None, []
        if tag == "cite":
            self.speaker = text.rstrip(":").strip() or None
        elif tag == "time":
            self.start = parse_clock(text)
        elif tag == "p" and text:
            self.segments.append(Segment(self.start, None, self.speaker, text))
            self.start = None


def parse_clock(text: str) -> float | None:
    """Read ``H:MM:SS``, ``MM:SS`` or ``SS.mmm`` (a comma allowed); None if unreadable.

    >>> parse_clock("1:02:03.5"), parse_clock("12:34"), parse_clock("soon")
    (3723.5, 754.0, None)
    """
    text = text.strip()
    match = _TIME.match(text)
    if match:
        hours, minutes, seconds = match.groups()
        return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds.replace(",", "."))
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _parse_html(text: str) -> list[Segment]:
    parser = _TranscriptHTML()
    parser.feed(text)
    parser.close()
    parser.handle_endtag(parser.open or "")
    if parser.segments:
        return parser.segments
    body = squash_spaces(" ".join(parser.loose))
    return [Segment(None, None, None, body)] if body else []


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]*>", "", text)


def _parse_text(text: str) -> list[Segment]:
    """Plain text has no times: one untimed segment per paragraph (blank-line separated)."""
    paragraphs = (clean_text(part) for part in re.split(r"\n\s*\n", text))
    return [Segment(None, None, None, part) for part in paragraphs if part]


def _shorten(message: str, limit: int = 120) -> str:
    return message if len(message) <= limit else message[:limit] + "..."


_PARSERS = {"vtt": _parse_vtt, "srt": _parse_srt, "json": _parse_json, "html": _parse_html,
            "text": _parse_text}

"""Publisher transcripts: every format into segments, and every bad document refused."""
import doctest
import json
from pathlib import Path

import pytest

from podcast_pipeline import transcript_choice, transcript_formats
from podcast_pipeline.transcript_choice import TranscriptLink, choose_transcript
from podcast_pipeline.transcript_formats import (MAX_TRANSCRIPT_BYTES, Segment, TranscriptError,
                                                 parse_transcript)

DATA = Path(__file__).resolve().parent / "data" / "transcripts"


def fixture_bytes(name: str) -> bytes:
    """The bytes of a transcript fixture."""
    return (DATA / name).read_bytes()


def test_webvtt_keeps_speakers_and_strips_styling() -> None:
    """Voice spans become speakers; <i>, <b>, <c.class>, timestamps, NOTE and STYLE vanish;
    times keep their milliseconds; lines of a cue are joined; &amp; is decoded."""
    segments = parse_transcript(fixture_bytes("episode.vtt"), "vtt")
    assert segments[0] == Segment(0.0, 4.25, "Kai Ryssdal",
                                  "From American Public Media, this is Marketplace.")
    assert segments[2].text == ("We begin, as we so often do, with the Federal Reserve and what "
                                "it did today with interest rates.")
    assert segments[2].speaker == "Kai Ryssdal"  # <v.host Kai Ryssdal>
    assert segments[3] == Segment(754.0, 759.5, "Nancy Marshall-Genzer",
                                  "Rates stay where they are & the Fed says it is patient, "
                                  "for now.")
    assert segments[4].text == "Back to you, Kai."
    assert len(segments) == 5


def test_srt_with_bom_and_crlf() -> None:
    """The byte-order mark and CRLF line ends are no obstacle; tags are stripped."""
    data = fixture_bytes("episode.srt")
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    assert parse_transcript(data, "srt") == [
        Segment(0.0, 3.5, None, "Welcome back to the show."),
        Segment(3.5, 8.0, None, "Today: what the Federal Reserve means for your mortgage."),
        Segment(62.25, 66.0, None, "Caf\u00e9 owners say prices went up."),
    ]


def test_podcasting_json_joins_words_into_lines() -> None:
    """Word-level segments become lines ending at sentence ends, so phrases stay together."""
    assert parse_transcript(fixture_bytes("episode.json"), "json") == [
        Segment(0.5, 2.3, "Kai Ryssdal", "Welcome to Marketplace."),
        Segment(2.3, 5.0, "Kai Ryssdal", "The Federal Reserve met today."),
        Segment(754.0, 759.5, "Nancy Marshall-Genzer",
                "Rates stay where they are, and the Fed is patient."),
    ]


def test_html_reads_cite_time_and_paragraphs() -> None:
    """<cite> names the speaker, <time> the start; script and style text is ignored."""
    assert parse_transcript(fixture_bytes("episode.html"), "html") == [
        Segment(0.0, None, "Kai Ryssdal", "From American Public Media, this is Marketplace."),
        Segment(9.0, None, "Kai Ryssdal", "We begin with the Federal Reserve & interest rates."),
        Segment(754.0, None, "Nancy Marshall-Genzer", "Rates stay where they are, for now."),
    ]


def test_html_without_paragraphs_is_one_untimed_segment() -> None:
    """A page without the Podcasting 2.0 markup still gives its text."""
    page = b"<html><body><div>Just   words.</div><script>x()</script></body></html>"
    assert parse_transcript(page, "html") == [Segment(None, None, None, "Just words.")]


def test_plain_text_is_one_untimed_segment_per_paragraph() -> None:
    """Plain text has no times."""
    assert parse_transcript(fixture_bytes("episode.txt"), "text") == [
        Segment(None, None, None, "From American Public Media, this is Marketplace."),
        Segment(None, None, None, "We begin with the Federal Reserve and interest rates."),
    ]


def test_a_declared_charset_is_used() -> None:
    """A Latin-1 file is read right when the server names its charset."""
    data = "1\n00:00:01,000 --> 00:00:02,000\nCaf\u00e9\n".encode("latin-1")
    assert parse_transcript(data, "srt", charset="ISO-8859-1")[0].text == "Caf\u00e9"


VTT_HEAD = b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nHello there.\n\n"


@pytest.mark.parametrize(("data", "fmt", "charset", "message"), [
    (VTT_HEAD + b"00:00:05.000 --> 00:0", "vtt", None, "broken WebVTT cue"),
    (b"<!DOCTYPE html><html><body>Sign in</body></html>", "vtt", None, "got an HTML page"),
    (b"<html><body>Sign in</body></html>", "srt", None, "got an HTML page"),
    (b"Sign in to read this transcript", "vtt", None, "not a WebVTT file"),
    (VTT_HEAD + b"00:00:02.000 --> 00:00:06.000\nOverlap.\n", "vtt", None, "before the one"),
    (VTT_HEAD + b"00:00:09.000 --> 00:00:08.000\nBackwards.\n", "vtt", None, "ends before"),
    (b"1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:00:0", "srt", None, "truncated"),
    (b'{"segments": [{"startTime": -1, "endTime": 2, "body": "x"}]}', "json", None,
     "negative"),
    (b'{"segments": [{"startTime": "0", "endTime": 2, "body": "x"}]}', "json", None,
     "numeric startTime"),
    (b'{"segments": [{"startTime": 0, "endTime": 2, "body": ["x"]}]}', "json", None,
     "no text body"),
    (b'{"segments": [[1, 2]]}', "json", None, "not an object"),
    (b'{"version": "1.0.0"}', "json", None, 'no "segments" list'),
    (b'{"segments": [{"startTime": 0, "endTime": 2, "bo', "json", None, "not a JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "json", None, "nested too deeply"),
    ("Caf\u00e9 au lait".encode("latin-1"), "text", None, "not valid utf-8"),
    (b"hello", "text", "x-klingon", "unknown text encoding"),
    ("WEBVTT\n".encode("utf-16-le"), "vtt", None, "NUL characters"),
    (b"anything", "pdf", None, "unknown transcript format"),
])
def test_bad_documents_raise_transcript_error(data: bytes, fmt: str, charset: str | None,
                                              message: str) -> None:
    """Each kind of bad input is one TranscriptError naming what is wrong."""
    with pytest.raises(TranscriptError, match=message):
        parse_transcript(data, fmt, charset)


def test_oversized_document_is_refused_before_parsing() -> None:
    """A document over the cap is refused on its size alone."""
    with pytest.raises(TranscriptError, match="allowed"):
        parse_transcript(b" " * (MAX_TRANSCRIPT_BYTES + 1), "text")


def test_too_many_segments_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A huge segment array is refused (cap lowered to keep the test fast)."""
    monkeypatch.setattr(transcript_formats, "MAX_SEGMENTS", 10)
    items = [{"startTime": i, "endTime": i + 1, "body": "a b c"} for i in range(11)]
    with pytest.raises(TranscriptError, match="11 segments"):
        parse_transcript(json.dumps({"segments": items}).encode(), "json")


def test_small_overlaps_from_rounding_are_accepted() -> None:
    """Cues overlapping by a few milliseconds are normal and kept."""
    data = VTT_HEAD + b"00:00:03.990 --> 00:00:06.000\nNext.\n"
    assert [s.start for s in parse_transcript(data, "vtt")] == [1.0, 3.99]


def links(*specs: tuple[str, str | None]) -> list[TranscriptLink]:
    """Links named after their type, from (MIME type, language) pairs."""
    return [TranscriptLink(f"http://h/{mime}/{lang}", mime, lang) for mime, lang in specs]


@pytest.mark.parametrize(("specs", "feed_language", "expected"), [
    ((("text/html", "en"), ("text/vtt", "en"), ("application/x-subrip", "en")), "en", 1),
    ((("application/json", None), ("text/plain", None), ("text/html", None)), None, 0),
    ((("text/vtt", "de"), ("text/html", "en-US")), "en-us", 1),
    ((("text/vtt", "de"), ("application/srt", "en-GB")), "en-US", 1),
    ((("text/vtt", "en"), ("text/vtt", "en")), "en", 0),
    ((("application/pdf", "en"), ("text/plain", "fr")), "en", 1),
])
def test_choose_transcript_ranks_language_then_format(specs: tuple[tuple[str, str | None], ...],
                                                      feed_language: str | None,
                                                      expected: int) -> None:
    """The feed's language first, then WebVTT > SRT > JSON > HTML > text; ties keep order."""
    candidates = links(*specs)
    assert choose_transcript(candidates, feed_language) is candidates[expected]


def test_choose_transcript_without_a_readable_type() -> None:
    """Nothing to fetch when no type can be read."""
    assert choose_transcript(links(("application/pdf", "en")), "en") is None
    assert choose_transcript([], "en") is None


@pytest.mark.parametrize("module", [transcript_formats, transcript_choice])
def test_doctests(module: object) -> None:
    """The examples in the docstrings hold."""
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0

"""WebVTT export of stored segments: reads back the same, escapes text, estimates no-times."""
import doctest
from pathlib import Path

import pytest

from podcast_pipeline import vtt_export
from podcast_pipeline.transcript_formats import Segment, parse_transcript
from podcast_pipeline.vtt_export import ESTIMATED_NOTE, to_webvtt

DATA = Path(__file__).resolve().parent / "data" / "transcripts"


@pytest.mark.parametrize(("name", "fmt"), [("episode.vtt", "vtt"), ("episode.srt", "srt"),
                                           ("episode.json", "json")])
def test_export_reads_back_the_same_segments(name: str, fmt: str) -> None:
    """Times, speakers and text survive a round trip through WebVTT."""
    segments = parse_transcript((DATA / name).read_bytes(), fmt)
    exported = to_webvtt(segments)
    assert ESTIMATED_NOTE not in exported
    assert parse_transcript(exported.encode(), "vtt") == segments


def test_text_cannot_inject_markup_or_cue_breaks() -> None:
    """<, > and & are escaped, so "-->" and tags in the text stay text."""
    segments = [Segment(1.0, 2.0, "A <b>", "x --> y <c.red>z</c> & co")]
    exported = to_webvtt(segments)
    assert "x --&gt; y &lt;c.red&gt;z&lt;/c&gt; &amp; co" in exported
    assert parse_transcript(exported.encode(), "vtt") == segments


def test_missing_times_are_estimated_and_said_so() -> None:
    """HTML segments end where the next begins; untimed ones get 0.4 s a word, marked ~."""
    segments = [Segment(0.0, None, "Kai", "one two"), Segment(9.0, None, None, "three four"),
                Segment(None, None, None, "five six seven")]
    exported = to_webvtt(segments)
    assert exported.startswith("WEBVTT\n\nNOTE " + ESTIMATED_NOTE)
    assert "00:00:00.000 --> 00:00:09.000\n<v Kai>one two</v>" in exported
    assert "~2\n00:00:09.000 --> 00:00:09.800\nthree four" in exported
    assert "~3\n00:00:09.800 --> 00:00:11.000\nfive six seven" in exported
    assert [s.start for s in parse_transcript(exported.encode(), "vtt")] == [0.0, 9.0, 9.8]


def test_doctests() -> None:
    """The examples in the docstrings hold."""
    result = doctest.testmod(vtt_export)
    assert result.attempted > 0 and result.failed == 0

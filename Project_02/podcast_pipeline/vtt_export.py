"""Write transcript segments as a WebVTT document (pure: segments in, text out).

Written with webvtt-py, the library that reads WebVTT here, so that what is exported
reads back the same. A speaker becomes a voice span (``<v Name>``). Text is escaped
(``&``, ``<`` and ``>``), so a segment can never inject markup into the cue.

Segments without times (plain text, a speech-to-text transcript without timings) get
estimated ones, said so in a NOTE at the top: a cue starts where the one before ended
and lasts ``SECONDS_PER_WORD`` per word. A segment with a start but no end (HTML) ends
where the next one starts.
"""
import html

import webvtt
from webvtt.models import Caption

from podcast_pipeline.transcript_formats import Segment

SECONDS_PER_WORD = 0.4  # 150 words a minute
ESTIMATED_NOTE = "Times marked ~ in this file are estimated: the transcript had none."


def format_timestamp(seconds: float) -> str:
    """``HH:MM:SS.mmm`` as WebVTT writes it.

    >>> format_timestamp(754.0), format_timestamp(3723.5006)
    ('00:12:34.000', '01:02:03.501')
    """
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"


def cue_times(segments: list[Segment]) -> list[tuple[float, float, bool]]:
    """Return each segment's (start, end, estimated) for the cues, filling missing times.

    >>> cue_times([Segment(0.0, None, None, "a b"), Segment(9.0, None, None, "c d e f")])
    [(0.0, 9.0, False), (9.0, 10.6, True)]
    """
    times: list[tuple[float, float, bool]] = []
    for index, segment in enumerate(segments):
        start = segment.start
        if start is None:
            start = times[-1][1] if times else 0.0
        end, estimated = segment.end, segment.start is None
        if end is None:
            following = next((s.start for s in segments[index + 1:] if s.start is not None),
                             None)
            if following is not None and following > start:
                end = following
            else:
                end, estimated = start + SECONDS_PER_WORD * len(segment.text.split()), True
        times.append((start, max(end, start), estimated))
    return times


def to_webvtt(segments: list[Segment]) -> str:
    """Return a WebVTT document with one cue per segment."""
    captions = []
    times = cue_times(segments)
    for segment, (start, end, estimated) in zip(segments, times):
        text = html.escape(segment.text, quote=False)
        if segment.speaker:
            text = f"<v {html.escape(segment.speaker, quote=False)}>{text}</v>"
        captions.append(Caption(format_timestamp(start), format_timestamp(end), text,
                                identifier=f"~{len(captions) + 1}" if estimated else None))
    document = webvtt.WebVTT(captions=captions,
                             header_comments=[ESTIMATED_NOTE] if any(
                                 estimated for _, _, estimated in times) else None)
    return document.content

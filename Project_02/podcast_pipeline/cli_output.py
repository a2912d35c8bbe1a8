"""Format what the command line prints: run summaries, episode tables, CSV and JSON."""
import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from podcast_pipeline.chapters import Chapter
from podcast_pipeline.pipeline import SyncSummary, TranscribeSummary, TranscriptsSummary

EXPORT_FIELDS = ("id", "podcast", "title", "published", "published_raw", "duration_seconds",
                 "season", "episode_number", "link", "enclosure_url", "download_status",
                 "audio_path", "description")


def format_duration(seconds: int | None) -> str:
    """Return ``seconds`` as ``H:MM:SS`` (``-`` when unknown).

    >>> format_duration(3723), format_duration(None)
    ('1:02:03', '-')
    """
    if seconds is None:
        return "-"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def format_clock(seconds: float | None) -> str:
    """Return a time in the audio as ``M:SS`` or ``H:MM:SS`` (``-`` when unknown).

    >>> format_clock(754.0), format_clock(3723.9), format_clock(9.8), format_clock(None)
    ('12:34', '1:02:03', '0:09', '-')
    """
    if seconds is None:
        return "-"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _shorten(text: str | None, width: int) -> str:
    text = text or "-"
    return text if len(text) <= width else text[:width - 1] + "…"


def episodes_table(rows: Sequence[dict[str, Any]], snippets: bool = False) -> str:
    """Return episodes as an aligned text table, newest first as given."""
    if not rows:
        return "no episodes found"
    lines = [f"{'published':<10}  {'podcast':<20}  {'title':<50}  {'length':>8}  audio"]
    for row in rows:
        published = (row["published"] or row["published_raw"] or "-")[:10]
        lines.append(f"{published:<10}  {_shorten(row['podcast'], 20):<20}  "
                     f"{_shorten(row['title'], 50):<50}  "
                     f"{format_duration(row['duration_seconds']):>8}  "
                     f"{row['download_status'] or '-'}")
        if snippets and row.get("snippet"):
            lines.append(f"{'':<12}{_shorten(row['snippet'], 100)}")
        for segment in row.get("segments") or ():
            speaker = f"{segment['speaker']}: " if segment.get("speaker") else ""
            lines.append(f"{'':<12}{format_clock(segment['start']):>8}  "
                         f"{_shorten(speaker + segment['snippet'], 90)}")
    return "\n".join(lines)


def episode_table(row: dict[str, Any]) -> str:
    """Return one episode (``list --episode``) as a table row, then its chapters."""
    chapters = row.get("chapters") or []
    lines = [episodes_table([row]), f"chapters: {len(chapters) or 'none stored'}"]
    lines += [f"{format_clock(chapter.start):>8}  {_shorten(chapter.title, 90)}"
              + ("" if chapter.toc else "  (not in the table of contents)")
              for chapter in chapters]
    return "\n".join(lines)


def episodes_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Return episodes as CSV with a header row (``EXPORT_FIELDS``)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def episodes_json(rows: Sequence[dict[str, Any]], snippets: bool = False) -> str:
    """Return episodes as a JSON array of objects: ``EXPORT_FIELDS``, plus for search
    results ``snippet`` (the matching words in brackets) and ``segments`` (the matching
    transcript segments), plus ``chapters`` for ``list --episode``.

    Times are given in seconds (``start_seconds``, a number or null) and as text
    (``start``, as ``format_clock`` writes it).
    """
    fields = EXPORT_FIELDS + ("snippet",) if snippets else EXPORT_FIELDS
    items = []
    for row in rows:
        item = {field: row.get(field) for field in fields}
        if snippets:
            item["segments"] = [segment_json(segment) for segment in row.get("segments") or ()]
        if "chapters" in row:
            item["chapters"] = [chapter_json(chapter) for chapter in row["chapters"]]
        items.append(item)
    return json.dumps(items, ensure_ascii=False, indent=2)


def segment_json(segment: dict[str, Any]) -> dict[str, Any]:
    """One matching segment as JSON values.

    >>> segment_json({"start": 754.0, "end": 759.5, "speaker": None, "snippet": "[Fed]"})
    ... # doctest: +NORMALIZE_WHITESPACE
    {'start_seconds': 754.0, 'start': '12:34', 'end_seconds': 759.5, 'speaker': None,
     'snippet': '[Fed]'}
    """
    return {"start_seconds": segment["start"], "start": format_clock(segment["start"]),
            "end_seconds": segment["end"], "speaker": segment["speaker"],
            "snippet": segment["snippet"]}


def chapter_json(chapter: Chapter) -> dict[str, Any]:
    """One chapter as JSON values (times as in ``segment_json``)."""
    return {"start_seconds": chapter.start, "start": format_clock(chapter.start),
            "end_seconds": chapter.end, "title": chapter.title, "url": chapter.url,
            "image_url": chapter.image_url, "toc": chapter.toc}


def sync_report(summary: SyncSummary) -> str:
    """Return the lines printed after a run: one per feed, then the totals (and the
    transcripts line when any episode has transcript or chapters links)."""
    lines = []
    for feed in summary.feeds:
        state = "not modified" if feed.not_modified else (
            f"{feed.new} new, {feed.updated} updated, {feed.unchanged} unchanged")
        skipped = f", {feed.skipped} items skipped" if feed.skipped else ""
        lines.append(f"{feed.title or feed.subscription_url}: {state}{skipped}")
    for failure in summary.failed_feeds:
        lines.append(f"{failure.subscription_url}: FAILED")
    downloads = summary.downloads
    audio = ("downloads skipped" if downloads is None else
             f"{downloads.downloaded} downloaded ({downloads.bytes / 1e6:.1f} MB), "
             f"{downloads.failed} failed, {downloads.deleted} deleted")
    lines.append(f"episodes: {summary.new} new, {summary.updated} updated; audio: {audio}")
    texts = summary.transcripts
    if texts is not None and (texts.fetched or texts.unchanged or texts.failed or texts.skipped):
        lines.append(transcripts_report(summary.transcripts))
    return "\n".join(lines)


def transcripts_report(summary: TranscriptsSummary) -> str:
    """Return the line about the publishers' transcripts and chapters.

    >>> transcripts_report(TranscriptsSummary(fetched=2, segments=5, chapters=4, failed=1))
    'transcripts and chapters: 2 fetched (5 segments, 4 chapters), 0 unchanged, 1 failed'
    """
    line = (f"transcripts and chapters: {summary.fetched} fetched ({summary.segments} segments, "
            f"{summary.chapters} chapters), {summary.unchanged} unchanged, "
            f"{summary.failed} failed")
    return line + (f", {summary.skipped} failed recently (not retried yet)"
                   if summary.skipped else "")


def transcription_report(summary: TranscribeSummary) -> str:
    """Return the line printed after transcribing: counts, audio length, real-time factor.

    >>> transcription_report(TranscribeSummary(transcribed=2, failed=1, audio_seconds=3600.0,
    ...                                        compute_seconds=1800.0))
    'transcripts: 2 made (1:00:00 of audio in 0:30:00, real-time factor 0.50), 1 failed'
    """
    if summary.transcribed == 0 and summary.failed == 0:
        return "transcripts: every downloaded episode already has one"
    made = f"transcripts: {summary.transcribed} made"
    if summary.audio_seconds:
        made += (f" ({format_duration(round(summary.audio_seconds))} of audio in "
                 f"{format_duration(round(summary.compute_seconds))}, real-time factor "
                 f"{summary.compute_seconds / summary.audio_seconds:.2f})")
    return f"{made}, {summary.failed} failed"

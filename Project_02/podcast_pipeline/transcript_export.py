"""``export --transcripts DIR``: one WebVTT file per episode with a stored transcript.

Files are named ``<episode id>-<title slug>.vtt`` and written to ``<name>.part`` first,
then renamed, so a reader never sees half a file.
"""
import os
import sqlite3
from pathlib import Path

from podcast_pipeline import PodcastError, segment_store
from podcast_pipeline.download import slugify
from podcast_pipeline.vtt_export import to_webvtt


class ExportError(PodcastError):
    """The export folder cannot be created or written."""


def export_transcripts(conn: sqlite3.Connection, folder: Path,
                       podcast: str | None = None) -> list[Path]:
    """Write every stored transcript (publisher or generated) as WebVTT into ``folder``.

    Args:
        conn: an open connection.
        folder: the destination (created if missing).
        podcast: only episodes of podcasts whose title or feed URL contains this.

    Returns:
        The files written, in episode order.

    Raises:
        ExportError: the folder or a file cannot be written.
    """
    rows = conn.execute(
        "SELECT e.id, e.title FROM transcripts t JOIN episodes e ON e.id = t.episode_id "
        "JOIN podcasts p ON p.id = e.podcast_id WHERE :podcast IS NULL "
        "OR p.title LIKE :pattern OR p.feed_url LIKE :pattern ORDER BY e.id",
        {"podcast": podcast, "pattern": f"%{podcast}%"}).fetchall()
    written = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for episode_id, title in rows:
            path = folder / f"{episode_id}-{slugify(title or '', 60) or 'episode'}.vtt"
            part = path.with_name(path.name + ".part")
            part.write_text(to_webvtt(segment_store.segments_of(conn, episode_id)),
                            encoding="utf-8")
            os.replace(part, path)
            written.append(path)
    except OSError as err:
        raise ExportError(f"cannot write transcripts to {folder}: {err}") from err
    return written

"""Transcripts of downloaded episodes: which ones are due, and storing each result.

Written with ``UPDATE episodes SET ... WHERE id = ?`` only, so no other column of an
episode is touched; the full-text index follows through its update trigger.
"""
import sqlite3
from typing import Any

from podcast_pipeline.database import transaction, utc_now



def pending_transcriptions(conn: sqlite3.Connection,
                           limit: int | None = None) -> list[sqlite3.Row]:
    """Return downloaded episodes without a transcript, newest first.

    An episode with a publisher's transcript (``transcripts.source = 'publisher'``) is
    never due: speech-to-text is slower and worse than the publisher's text.

    An episode whose transcription failed is tried again only once its audio changed
    (a new download with another sha256): the same bytes would fail the same way.

    Args:
        conn: an open connection.
        limit: at most this many episodes (None: all).
    """
    return conn.execute("""
        SELECT e.id, e.title, e.duration_seconds, p.title AS podcast_title,
               d.path AS audio_path, d.sha256 AS audio_sha256
        FROM episodes e JOIN podcasts p ON p.id = e.podcast_id
        JOIN downloads d ON d.episode_id = e.id
        WHERE d.status = 'done' AND d.path IS NOT NULL
          AND (e.transcript_status IS NULL
               OR (e.transcript_status = 'failed'
                   AND e.transcript_audio_sha256 IS NOT d.sha256))
          AND NOT EXISTS (SELECT 1 FROM transcripts t
                          WHERE t.episode_id = e.id AND t.source = 'publisher')
        ORDER BY e.published DESC, e.id DESC LIMIT :limit""",
                        {"limit": -1 if limit is None else limit}).fetchall()


def record_transcript(conn: sqlite3.Connection, episode_id: int, transcript: dict[str, Any],
                      audio_sha256: str | None) -> None:
    """Store an episode's transcript with ``UPDATE ... WHERE`` (other columns untouched).

    Args:
        conn: an open connection.
        episode_id: the episode.
        transcript: ``text``, ``engine``, ``model``, ``audio_seconds``, ``compute_seconds``.
        audio_sha256: hash of the audio file it was made from.
    """
    with transaction(conn):
        conn.execute(
            "UPDATE episodes SET transcript = :text, transcript_status = 'done', "
            "transcript_error = NULL, transcript_engine = :engine, transcript_model = :model, "
            "transcript_audio_seconds = :audio_seconds, "
            "transcript_compute_seconds = :compute_seconds, "
            "transcript_audio_sha256 = :audio_sha256, transcribed_at = :now WHERE id = :id",
            {**transcript, "audio_sha256": audio_sha256, "now": utc_now(), "id": episode_id})


def record_transcription_failure(conn: sqlite3.Connection, episode_id: int, *, error: str,
                                 audio_sha256: str | None) -> None:
    """Record that an episode's audio could not be transcribed (other columns untouched)."""
    with transaction(conn):
        conn.execute(
            "UPDATE episodes SET transcript_status = 'failed', transcript_error = ?, "
            "transcript_audio_sha256 = ?, transcribed_at = ? WHERE id = ?",
            (error, audio_sha256, utc_now(), episode_id))

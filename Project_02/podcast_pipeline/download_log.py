"""The download log: which episodes' audio to fetch, and what each attempt gave."""
import sqlite3
from collections.abc import Iterable
from typing import Any

from podcast_pipeline.database import transaction, utc_now


def pending_downloads(conn: sqlite3.Connection, *, podcast_ids: Iterable[int] | None = None,
                      limit: int | None = None,
                      newest_per_podcast: int | None = None) -> list[sqlite3.Row]:
    """Return episodes whose audio should be fetched now, newest first.

    Episodes already downloaded (or deleted by ``--keep``) are left out; failed ones are
    tried again. Only http(s) enclosures qualify.

    Args:
        conn: an open connection.
        podcast_ids: restrict to these podcasts (None: all).
        limit: at most this many episodes (None: no limit).
        newest_per_podcast: consider only each podcast's newest N episodes.
    """
    ids = None if podcast_ids is None else list(podcast_ids)
    sql = """
        WITH ranked AS (
            SELECT e.*, p.title AS podcast_title,
                   ROW_NUMBER() OVER (PARTITION BY e.podcast_id
                                      ORDER BY e.published DESC, e.id DESC) AS recency
            FROM episodes e JOIN podcasts p ON p.id = e.podcast_id
            WHERE e.enclosure_url LIKE 'http://%' OR e.enclosure_url LIKE 'https://%'
        )
        SELECT r.*, d.attempts AS attempts FROM ranked r
        LEFT JOIN downloads d ON d.episode_id = r.id
        WHERE (d.status IS NULL OR d.status = 'failed')
          AND (:per_podcast IS NULL OR r.recency <= :per_podcast)
    """
    params: dict[str, Any] = {"per_podcast": newest_per_podcast}
    if ids is not None:
        sql += f" AND r.podcast_id IN ({_placeholders(len(ids))})"
        params.update({f"id{i}": value for i, value in enumerate(ids)})
    sql += " ORDER BY r.published DESC, r.id DESC"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return conn.execute(sql, params).fetchall()


def _placeholders(count: int) -> str:
    return ", ".join(f":id{i}" for i in range(count)) or "NULL"


def record_download_done(conn: sqlite3.Connection, episode_id: int, *, source_url: str,
                         path: str, size: int, sha256: str) -> None:
    """Record a completed download (its own small transaction)."""
    _record_download(conn, (episode_id, "done", path, size, sha256, source_url, None, utc_now()))


def record_download_failure(conn: sqlite3.Connection, episode_id: int, *, source_url: str,
                            error: str) -> None:
    """Record a failed download; it is tried again on the next run."""
    _record_download(conn, (episode_id, "failed", None, None, None, source_url, error,
                            utc_now()))


def _record_download(conn: sqlite3.Connection, values: tuple[Any, ...]) -> None:
    with transaction(conn):
        conn.execute(
            "INSERT INTO downloads (episode_id, status, path, bytes, sha256, source_url, "
            "attempts, last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) "
            "ON CONFLICT (episode_id) DO UPDATE SET status = excluded.status, "
            "path = COALESCE(excluded.path, path), bytes = COALESCE(excluded.bytes, bytes), "
            "sha256 = COALESCE(excluded.sha256, sha256), source_url = excluded.source_url, "
            "attempts = attempts + 1, last_error = excluded.last_error, "
            "updated_at = excluded.updated_at", values)


def downloads_beyond_newest(conn: sqlite3.Connection, keep: int,
                            podcast_ids: Iterable[int] | None = None) -> list[sqlite3.Row]:
    """Return the downloaded files older than each podcast's newest ``keep`` downloads."""
    ids = None if podcast_ids is None else set(podcast_ids)
    rows = conn.execute("""
        SELECT * FROM (
            SELECT d.episode_id, d.path, e.podcast_id,
                   ROW_NUMBER() OVER (PARTITION BY e.podcast_id
                                      ORDER BY e.published DESC, e.id DESC) AS recency
            FROM downloads d JOIN episodes e ON e.id = d.episode_id
            WHERE d.status = 'done')
        WHERE recency > ?""", (keep,)).fetchall()
    return [row for row in rows if ids is None or row["podcast_id"] in ids]


def mark_deleted(conn: sqlite3.Connection, episode_ids: Iterable[int]) -> None:
    """Mark downloads whose files were removed by ``--keep`` (never fetched again)."""
    with transaction(conn):
        conn.executemany("UPDATE downloads SET status = 'deleted', updated_at = ? "
                         "WHERE episode_id = ?", [(utc_now(), i) for i in episode_ids])

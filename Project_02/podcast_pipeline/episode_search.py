"""``search``: episodes whose title, description or transcript segments match.

Two full-text indexes answer: ``catalog.search_episodes`` (titles and descriptions) and
``segment_store.search_segments`` (transcript segments, publisher or generated). The
result is one row per episode, as ``catalog.list_episodes`` gives it, plus ``snippet``
(the matching title/description words, or None) and ``segments`` (the matching
segments, in time order). Episodes matched by title or description come first, in
their rank order, then those matched only in a transcript, by their best segment.
"""
import sqlite3
from typing import Any

from podcast_pipeline import catalog, segment_store

MAX_SEGMENT_HITS = 100  # best segments read: a page of 20 episodes x 5
SEGMENTS_PER_EPISODE = 5  # matching segments shown per episode


def search(conn: sqlite3.Connection, text: str, limit: int | None = 20) -> list[dict[str, Any]]:
    """Return up to ``limit`` episodes matching every word of ``text`` (best first).

    Each row has ``snippet`` and ``segments`` (dicts with ``start``, ``end`` seconds or
    None, ``speaker`` and ``snippet``), at most ``SEGMENTS_PER_EPISODE`` of them.
    """
    rows = catalog.search_episodes(conn, text, limit=limit)
    hits: dict[int, list[dict[str, Any]]] = {}
    for hit in segment_store.search_segments(conn, text, limit=MAX_SEGMENT_HITS):
        hits.setdefault(hit.pop("episode_id"), []).append(hit)
    known = {row["id"] for row in rows}
    more = [episode_id for episode_id in hits if episode_id not in known]
    listed = catalog.episodes_by_id(conn, more)
    rows += [{**listed[episode_id], "snippet": None} for episode_id in more
             if episode_id in listed]
    if limit is not None:
        rows = rows[:limit]
    for row in rows:
        best = hits.get(row["id"], [])[:SEGMENTS_PER_EPISODE]
        row["segments"] = sorted(best, key=_start_or_last)
    return rows


def _start_or_last(segment: dict[str, Any]) -> float:
    """Sort key: the start time, untimed segments last."""
    return float("inf") if segment["start"] is None else segment["start"]

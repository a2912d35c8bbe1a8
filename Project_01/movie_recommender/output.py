"""Render an answer as a text table or as the documented JSON object.

JSON object (one per query; ``--batch`` writes one per line)::

    {"query": {"text": "Toy Story", "year": null},
     "matched_movie": {"movieId": 1, "title": "Toy Story (1995)", "year": 1995,
                       "genres": ["Adventure", ...], "match_score": 1.0},
     "candidates": [ ...the other title matches, same fields... ],
     "method": "sequential", "basis": "collaborative", "fallback": false,
     "fallback_reason": null,
     "recommendations": [{"rank": 1, "movieId": 3114, "title": "Toy Story 2 (1999)",
                          "year": 1999, "genres": [...], "score": 0.93,
                          "reason": "liked by 58 % of its 68 fans"}, ...]}

``basis`` is "content-based" and ``fallback`` true when the movie had too few fans (or the
filters left nothing): ``fallback_reason`` then says which, one of ``recommender.FALLBACKS``.
A query that fails in ``--batch`` gives ``{"query": {...}, "error": "no movie matches ..."}``.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from movie_recommender.catalog import Catalog
from movie_recommender.recommender import Answer

TITLE_WIDTH = 42
GENRES_WIDTH = 30


def movie_fields(catalog: Catalog, position: int) -> dict[str, Any]:
    """movieId, title, year and genres of one movie."""
    return {"movieId": int(catalog.movie_ids[position]), "title": catalog.titles[position],
            "year": catalog.year(position), "genres": catalog.genres(position)}


def query_fields(text: str, year: int | None) -> dict[str, Any]:
    """How the query is echoed in JSON."""
    return {"text": text, "year": year}


def answer_to_dict(answer: Answer, catalog: Catalog, query: dict[str, Any]) -> dict[str, Any]:
    """The documented JSON object for one answered query (see the module docstring)."""
    best, *others = answer.matches
    return {
        "query": query,
        "matched_movie": {**movie_fields(catalog, best.position), "match_score": best.score},
        "candidates": [{**movie_fields(catalog, m.position), "match_score": m.score}
                       for m in others],
        "method": answer.method,
        "basis": "collaborative" if answer.fallback is None else "content-based",
        "fallback": answer.fallback is not None,
        "fallback_reason": answer.fallback,
        "recommendations": [
            {"rank": rank, **movie_fields(catalog, rec.item), "score": round(rec.score, 6),
             "reason": rec.reason}
            for rank, rec in enumerate(answer.recommendations, start=1)],
    }


def error_to_dict(query: dict[str, Any], message: str) -> dict[str, Any]:
    """The JSON object for a query that could not be answered."""
    return {"query": query, "error": message}


def to_json(record: dict[str, Any], *, indent: int | None = None) -> str:
    """Serialise one record (one line unless ``indent``), keeping non-ASCII letters."""
    return json.dumps(record, ensure_ascii=False, indent=indent)


def format_table(answer: Answer, catalog: Catalog) -> str:
    """Human-readable answer: the title matches, then the ranked recommendations."""
    lines = ["Title matches (best first):"]
    for rank, match in enumerate(answer.matches, start=1):
        marker = "->" if rank == 1 else "  "
        lines.append(f" {marker} {match.score:4.2f}  {catalog.titles[match.position]}"
                     f"  [movieId {int(catalog.movie_ids[match.position])}]")
    movie = answer.movie
    heading = f"Recommendations for {catalog.titles[movie]} (method: {answer.method})"
    if answer.fallback is not None:
        heading += f" -- {answer.fallback_note()}"
    lines += ["", heading + ":"]
    if not answer.recommendations:
        lines.append("  (no movie passes the filters; try a lower --min-ratings or "
                     "another --genre)")
        return "\n".join(lines)
    lines += ranked_lines(catalog, [(rec.item, rec.score, rec.reason)
                                    for rec in answer.recommendations])
    return "\n".join(lines)


def ranked_lines(catalog: Catalog, ranked: Sequence[tuple[int, float, str]]) -> list[str]:
    """The table of ranked movies, header first: ``ranked`` holds (position, score, reason)."""
    header = (f"{'Rank':>4}  {'Title':<{TITLE_WIDTH}}  {'Year':>4}  "
              f"{'Genres':<{GENRES_WIDTH}}  {'Score':>6}  Reason")
    lines = [header, "-" * len(header)]
    for rank, (item, score, reason) in enumerate(ranked, start=1):
        title = _cut(catalog.title_without_year(item), TITLE_WIDTH)
        genres = _cut("|".join(catalog.genres(item)), GENRES_WIDTH)
        year = catalog.year(item) or ""
        lines.append(f"{rank:>4}  {title:<{TITLE_WIDTH}}  {year:>4}  {genres:<{GENRES_WIDTH}}"
                     f"  {score:6.3f}  {reason}")
    return lines


def _cut(text: str, width: int) -> str:
    """Shorten ``text`` to ``width`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= width else text[:width - 1] + "\u2026"

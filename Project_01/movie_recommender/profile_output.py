"""Render the answer to ``--ratings-file`` as a text table or as the documented JSON.

JSON::

    {"matched": 37, "rows": 40, "format": "letterboxd",
     "profile": [{"line": 2, "title": "The Matrix", "year": 1999, "rating": 5.0,
                  "movieId": 2571, "matched_title": "Matrix, The (1999)", "match_score": 1.0},
                 ...],
     "recommendations": [{"rank": 1, "movieId": 1240, "title": "Terminator, The (1984)",
                          "year": 1984, "genres": [...], "score": 0.51,
                          "because": ["Matrix, The (1999)", "Aliens (1986)"]}, ...]}
"""
from __future__ import annotations

import re
from typing import Any

from movie_recommender.catalog import Catalog
from movie_recommender.output import movie_fields, ranked_lines
from movie_recommender.profile_matching import MatchedRow
from movie_recommender.profile_scorers import ProfileRecommendation


_TRAILING_ARTICLE = re.compile(r"^(?P<body>.+), (?P<article>The|A|An)$")


def display_title(title: str) -> str:
    """A MovieLens title as people write it.

    >>> display_title("Matrix, The")
    'The Matrix'
    """
    match = _TRAILING_ARTICLE.match(title)
    return f"{match.group('article')} {match.group('body')}" if match else title


def because_text(catalog: Catalog, because: list[int]) -> str:
    """'because you liked Alien and Blade Runner'."""
    names = [display_title(catalog.title_without_year(item)) for item in because]
    return "because you liked " + " and ".join(names) if names else ""


def profile_to_dict(kind: str, matched: list[MatchedRow],
                    recommendations: list[ProfileRecommendation],
                    catalog: Catalog) -> dict[str, Any]:
    """The documented JSON object (see the module docstring)."""
    profile = []
    for item in matched:
        row = item.row
        profile.append({
            "line": row.line, "title": row.title or None, "year": row.year,
            "input_movieId": row.movie_id, "imdbId": row.imdb_id, "rating": row.rating,
            "movieId": None if item.position is None
            else int(catalog.movie_ids[item.position]),
            "matched_title": None if item.position is None else catalog.titles[item.position],
            "match_score": round(item.score, 6)})
    return {
        "format": kind, "rows": len(matched),
        "matched": sum(item.position is not None for item in matched),
        "profile": profile,
        "recommendations": [
            {"rank": rank, **movie_fields(catalog, rec.item), "score": round(rec.score, 6),
             "method": rec.method, "because": [catalog.titles[item] for item in rec.because]}
            for rank, rec in enumerate(recommendations, start=1)]}


def format_profile_table(kind: str, matched: list[MatchedRow],
                         recommendations: list[ProfileRecommendation],
                         catalog: Catalog) -> str:
    """How many rows matched, then the ranked recommendations with their reasons."""
    hits = sum(item.position is not None for item in matched)
    lines = [f"Matched {hits} of {len(matched)} rows of the {kind} export."]
    missing = [item.row for item in matched if item.position is None]
    if missing:
        lines.append("Not matched: " + "; ".join(
            row.title + (f" ({row.year})" if row.year else "") if row.title
            else f"movieId {row.movie_id}" for row in missing[:5])
                     + ("; ..." if len(missing) > 5 else ""))
    lines += ["", "Recommendations for you:"]
    if not recommendations:
        lines.append("  (no movie passes the filters; try a lower --min-ratings or "
                     "another --genre)")
        return "\n".join(lines)
    lines += ranked_lines(catalog, [(rec.item, rec.score, because_text(catalog, rec.because))
                                    for rec in recommendations])
    return "\n".join(lines)

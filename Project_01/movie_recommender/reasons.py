"""Why a movie was recommended, in words a person can read (one function per method).

A reason always quotes exact counts: even when a scorer estimates co-occurrence from a
sample of the fans (``scorers.MAX_FANS``), ``SharedFans`` counts all of them.
"""
from __future__ import annotations

import numpy as np

from movie_recommender.liked import LikedMatrices


def percent(share: float) -> str:
    """A share as a whole percentage.

    >>> percent(0.314)
    '31 %'
    """
    return f"{100 * share:.0f} %"


class SharedFans:
    """Counts, exactly, how many fans of the query movie also liked another movie."""

    def __init__(self, model: LikedMatrices, fans: np.ndarray) -> None:
        self._model = model
        self._is_fan = np.zeros(model.n_users, dtype=bool)
        self._is_fan[fans] = True
        self.n_fans = len(fans)

    def count(self, item: int) -> int:
        """How many of the fans liked ``item``."""
        return int(self._is_fan[self._model.fans(item)].sum())

    def phrase(self, item: int) -> str:
        """'liked by 31 % of its 147 fans'."""
        return f"liked by {percent(self.count(item) / self.n_fans)} of its {self.n_fans:,} fans"


def popular(likes: int, share: float) -> str:
    """Reason of the ``popular`` baseline."""
    return f"liked by {likes:,} users ({percent(share)} of all), most liked overall"


def cosine(shared: SharedFans, item: int, score: float) -> str:
    """Reason of the ``cosine`` method."""
    return f"{shared.phrase(item)} (cosine {score:.2f})"


def lift(fan_share: float, all_share: float) -> str:
    """Reason of the original ``lift`` score."""
    return (f"rated above 4 by {percent(fan_share)} of its fans "
            f"vs {percent(all_share)} of all users")


def sequential(shared: SharedFans, item: int, liked_next: float) -> str:
    """Reason of the default ``sequential`` method."""
    if liked_next:
        return f"liked next by {liked_next:,.0f} of its fans, {shared.phrase(item)}"
    return shared.phrase(item)


def content(genres: list[str], tags: list[str], n_ratings: int) -> str:
    """Reason of a content-based (fallback) recommendation.

    >>> content(["Comedy"], ["pixar"], 1200)
    'content-based: shares Comedy; tags pixar; 1,200 ratings'
    """
    parts = []
    if genres:
        parts.append(f"shares {', '.join(genres)}")
    if tags:
        parts.append(f"tags {', '.join(tags)}")
    parts.append(f"{n_ratings:,} ratings")
    return "content-based: " + "; ".join(parts)

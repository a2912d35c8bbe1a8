"""The one top-k selection every ranked list uses (recommendations, fallback, tuning)."""
from __future__ import annotations

import numpy as np


def top_k(scores: np.ndarray, k: int, allowed: np.ndarray,
          prefer: np.ndarray | None = None) -> np.ndarray:
    """Positions of the ``k`` best positive, allowed scores, best first.

    Ties go to the higher ``prefer`` value (if given), then to the lower position, so
    the same input always gives the same list (``np.argpartition`` alone would not).

    >>> top_k(np.array([0.0, 2.0, 1.0, 2.0]), 2, np.ones(4, dtype=bool))
    array([1, 3])
    >>> top_k(np.array([0.0, 2.0, 1.0, 2.0]), 2, np.ones(4, dtype=bool), np.arange(4))
    array([3, 1])
    """
    candidates = np.flatnonzero(allowed & (scores > 0))
    values = scores[candidates]
    if len(candidates) > k > 0:
        kth = np.partition(values, len(values) - k)[len(values) - k]
        keep = values >= kth  # keeps every tie at the boundary, so the cut is deterministic
        candidates, values = candidates[keep], values[keep]
    keys = (candidates, -values) if prefer is None else \
        (candidates, -np.asarray(prefer)[candidates].astype(np.float64), -values)
    return candidates[np.lexsort(keys)][:max(k, 0)]

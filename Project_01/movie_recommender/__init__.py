"""Recommend movies that fans of a title also liked.

TF-IDF title search, then collaborative filtering on MovieLens ratings.
"""


class MovieRecommenderError(Exception):
    """Base class of every error this package reports to the user as one line."""


class ArraysMismatchError(MovieRecommenderError, ValueError):
    """Arrays that should describe the same movies or ratings do not fit together
    (bad input, or an index written by another version of the code)."""

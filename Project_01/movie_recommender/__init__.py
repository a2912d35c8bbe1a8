"""Recommend movies that fans of a title also loved.

TF-IDF title search, then collaborative filtering on MovieLens ratings.
"""


class MovieRecommenderError(Exception):
    """Base class of every error this package reports to the user as one line."""

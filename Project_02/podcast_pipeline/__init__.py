"""Fetch podcast RSS feeds, store their episodes in SQLite and download the audio."""


class PodcastError(Exception):
    """Base class of every error this package reports to the user as one line."""

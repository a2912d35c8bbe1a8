"""Choose the best of an episode's ``<podcast:transcript>`` links (pure).

Formats rank WebVTT > SRT > Podcasting 2.0 JSON > HTML > plain text (the order of
``transcript_formats.FORMATS``: timed, with speakers, then less). The language comes
first: a transcript in the feed's language beats a better format in another one; a
link without a language is taken to be in the feed's language.
"""
from dataclasses import dataclass

from podcast_pipeline.transcript_formats import FORMATS, format_of


@dataclass(frozen=True)
class TranscriptLink:
    """One ``<podcast:transcript url type language rel>`` of an item."""

    url: str
    mime_type: str
    language: str | None = None
    rel: str | None = None

    @property
    def format(self) -> str | None:
        """The format name of ``mime_type`` (None: a type this package cannot read)."""
        return format_of(self.mime_type)


def language_rank(language: str | None, feed_language: str | None) -> int:
    """0: same language tag as the feed (or either unknown); 1: same primary language
    (``en`` and ``en-GB``); 2: another language.

    >>> language_rank("en-US", "en-us"), language_rank("en", "en-GB"), language_rank("de", "en")
    (0, 1, 2)
    """
    if not language or not feed_language:
        return 0
    mine, feeds = language.strip().lower(), feed_language.strip().lower()
    if mine == feeds:
        return 0
    return 1 if mine.split("-")[0] == feeds.split("-")[0] else 2


def choose_transcript(links: list[TranscriptLink],
                      feed_language: str | None) -> TranscriptLink | None:
    """Return the link to fetch, or None when no link has a readable format.

    Ties (same language rank and format) keep the feed's order.
    """
    readable = [link for link in links if link.format is not None]
    if not readable:
        return None
    return min(readable, key=lambda link: (language_rank(link.language, feed_language),
                                           FORMATS.index(link.format or "")))

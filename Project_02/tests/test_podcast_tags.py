"""Podcasting 2.0 item tags as xmltodict gives them."""
import doctest

from podcast_pipeline import podcast_tags
from podcast_pipeline.podcast_tags import chapters_url, transcript_links
from podcast_pipeline.transcript_choice import TranscriptLink


def test_several_transcripts_keep_order_type_language_and_rel() -> None:
    """Each link's attributes are kept; bad URLs and missing types are dropped."""
    value = [{"@url": "https://h/t.html", "@type": "text/html", "@language": "en"},
             {"@url": "https://h/t.vtt", "@type": "text/vtt", "@language": "es",
              "@rel": "captions"},
             {"@url": "file:///etc/passwd", "@type": "text/plain"},
             {"@url": "https://h/no-type"}]
    assert transcript_links(value) == [
        TranscriptLink("https://h/t.html", "text/html", "en"),
        TranscriptLink("https://h/t.vtt", "text/vtt", "es", "captions")]


def test_too_many_links_are_cut() -> None:
    """A feed listing thousands of transcripts per item is not followed further."""
    value = [{"url": f"https://h/{n}.vtt", "type": "text/vtt"} for n in range(1000)]
    assert len(transcript_links(value)) == podcast_tags.MAX_LINKS


def test_chapters_url_takes_the_first_json_one() -> None:
    """Only JSON chapters are read; the first of them counts."""
    value = [{"@url": "https://h/c.xml", "@type": "application/psc+xml"},
             {"@url": "https://h/c.json", "@type": "application/json+chapters"},
             {"@url": "https://h/d.json", "@type": "application/json"}]
    assert chapters_url(value) == "https://h/c.json"
    assert chapters_url(None) is None


def test_doctests() -> None:
    """The examples in the docstrings hold."""
    result = doctest.testmod(podcast_tags)
    assert result.attempted > 0 and result.failed == 0

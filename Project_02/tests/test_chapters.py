"""Podcasting 2.0 JSON chapters: the real shape parsed, hostile documents refused."""
import json
from pathlib import Path

import pytest

from podcast_pipeline import chapters
from podcast_pipeline.chapters import Chapter, ChapterError, parse_chapters

DATA = Path(__file__).resolve().parent / "data" / "transcripts"


def test_chapters_fixture() -> None:
    """Times, titles, links, images and toc come through; unknown keys are ignored."""
    assert parse_chapters((DATA / "chapters.json").read_bytes()) == [
        Chapter(0.0, "Intro"),
        Chapter(9.8, "The Federal Reserve", url="https://www.federalreserve.gov/",
                image_url="https://podcast.test/img/fed.jpg"),
        Chapter(754.0, "Markets", end=1500.5),
        Chapter(1500.5, "Sponsor", toc=False),
    ]


def test_chapters_are_ordered_and_unsafe_links_dropped() -> None:
    """Out-of-order chapters are sorted; a javascript: link is not kept."""
    document = {"chapters": [{"startTime": 60, "title": "Two", "url": "javascript:alert(1)"},
                             {"startTime": 0, "title": "  One \n"}]}
    assert parse_chapters(json.dumps(document).encode()) == [Chapter(0.0, "One"),
                                                             Chapter(60.0, "Two")]


@pytest.mark.parametrize(("data", "message"), [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"chapters": [{"startTime": 0', "not UTF-8 JSON"),
    (b"<html>404</html>", "not UTF-8 JSON"),
    (b"\xff\xfe{}", "not UTF-8 JSON"),
    (b'{"chapters": {"startTime": 0}}', 'no "chapters" list'),
    (b'[{"startTime": 0}]', 'no "chapters" list'),
    (b'{"chapters": ["Intro"]}', "chapter 1 is not an object"),
    (b'{"chapters": [{"title": "Intro"}]}', "chapter 1 has no startTime"),
    (b'{"chapters": [{"startTime": 0}, {"startTime": "10"}]}', "chapter 2 has a startTime"),
    (b'{"chapters": [{"startTime": true}]}', "startTime"),
    (b'{"chapters": [{"startTime": -5}]}', "startTime"),
    (b'{"chapters": [{"startTime": 10, "endTime": 5}]}', "ends before it starts"),
    (b'{"chapters": [{"startTime": 0, "title": {"a": [[[1]]]}}]}', "title that is not text"),
    (b'{"chapters": [{"startTime": 0, "toc": "no"}]}', "toc"),
    (b'{"chapters": [{"startTime": 0, "url": 7}]}', "url that is not text"),
])
def test_hostile_chapters_raise_chapter_error(data: bytes, message: str) -> None:
    """Deep nesting, broken JSON and wrong types are one ChapterError each."""
    with pytest.raises(ChapterError, match=message):
        parse_chapters(data)


def test_huge_arrays_and_files_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """More chapters or bytes than the caps allow are refused."""
    many = json.dumps({"chapters": [{"startTime": i} for i in range(2_001)]}).encode()
    with pytest.raises(ChapterError, match="2,001 chapters"):
        parse_chapters(many)
    monkeypatch.setattr(chapters, "MAX_CHAPTER_BYTES", 100)
    with pytest.raises(ChapterError, match="bytes, more than"):
        parse_chapters(b" " * 101)

"""Fetching feeds: bounded retries, conditional GET, redirects (429/5xx end to end: test_faults)."""
import time

import pytest

from podcast_pipeline.http_client import USER_AGENT, BoundedRetry, FeedFetchError, fetch_feed

BODY = b"<rss><channel><title>x</title></channel></rss>"


def test_plain_fetch_returns_bytes_validators_and_our_user_agent(server, session) -> None:
    """A 200 gives the exact bytes and validators; the request names this tool."""
    server.add("/f", BODY, etag='"abc"', last_modified="Wed, 01 May 2024 00:00:00 GMT")
    result = fetch_feed(session, server.url("/f"))
    assert (result.status, result.content) == (200, BODY)
    assert (result.etag, result.last_modified) == ('"abc"', "Wed, 01 May 2024 00:00:00 GMT")
    assert server.hits("/f")[0]["User-Agent"] == USER_AGENT
    assert "python-requests/" not in USER_AGENT


def test_matching_etag_gives_304_and_no_body(server, session) -> None:
    """If-None-Match with the current ETag: not modified, nothing to do."""
    server.add("/f", BODY, etag='"abc"')
    result = fetch_feed(session, server.url("/f"), etag='"abc"')
    assert result.not_modified and result.content is None


def test_matching_last_modified_gives_304(server, session) -> None:
    """If-Modified-Since works for servers without ETags."""
    stamp = "Wed, 01 May 2024 00:00:00 GMT"
    server.add("/f", BODY, last_modified=stamp)
    assert fetch_feed(session, server.url("/f"), last_modified=stamp).status == 304
    assert fetch_feed(session, server.url("/f"), last_modified="yesterday").status == 200


def test_persistent_500_is_one_clear_error(server, session) -> None:
    """Retries are bounded; the error names the feed and the status."""
    server.add("/f", BODY, script=[(500, {})] * 5)
    with pytest.raises(FeedFetchError, match=r"/f: HTTP 500"):
        fetch_feed(session, server.url("/f"))
    assert len(server.hits("/f")) == 3  # first try + 2 retries


def test_404_is_not_retried(server, session) -> None:
    """A missing feed fails at once."""
    with pytest.raises(FeedFetchError, match="HTTP 404"):
        fetch_feed(session, server.url("/missing"))
    assert len(server.hits("/missing")) == 1


def test_unreachable_host_names_the_feed(session) -> None:
    """Connection refused: one readable reason, no urllib3 internals."""
    with pytest.raises(FeedFetchError) as error:
        fetch_feed(session, "http://127.0.0.1:9/feed.xml", timeout=2)
    assert str(error.value) == ("cannot reach feed http://127.0.0.1:9/feed.xml: connection "
                                "failed (offline, unknown host or refused)")


def test_slow_server_times_out(server, session) -> None:
    """A body that stalls longer than the timeout is an error, not a hang."""
    server.add("/slow", BODY, chunk_delay=2.0)
    started = time.monotonic()
    with pytest.raises(FeedFetchError, match="/slow"):
        fetch_feed(session, server.url("/slow"), timeout=0.3)
    assert time.monotonic() - started < 5


def test_permanent_redirect_is_reported(server, session) -> None:
    """301 -> 308 -> 200: the final address is where the feed moved permanently."""
    server.add("/old", server.url("/older").encode(), status=301)
    server.add("/older", server.url("/new").encode(), status=308)
    server.add("/new", BODY)
    result = fetch_feed(session, server.url("/old"))
    assert result.content == BODY
    assert result.permanent_redirect and result.moved_to == server.url("/new")


def test_temporary_redirect_is_followed_but_not_recorded(server, session) -> None:
    """302 is followed; the subscription keeps its address."""
    server.add("/old", server.url("/new").encode(), status=302)
    server.add("/new", BODY)
    result = fetch_feed(session, server.url("/old"))
    assert result.content == BODY and result.moved_to is None
    assert result.final_url == server.url("/new")


def test_permanent_then_temporary_records_the_permanent_hop(server, session) -> None:
    """Only the leading permanent hops count: 301 to /b, then 302 to /c records /b."""
    server.add("/a", server.url("/b").encode(), status=301)
    server.add("/b", server.url("/c").encode(), status=302)
    server.add("/c", BODY)
    assert fetch_feed(session, server.url("/a")).moved_to == server.url("/b")


def test_oversized_feed_is_refused(server, session) -> None:
    """A body over the limit is refused instead of filling memory."""
    server.add("/big", b"x" * 5000)
    with pytest.raises(FeedFetchError, match="more than the 1,000"):
        fetch_feed(session, server.url("/big"), max_bytes=1000)


def test_retry_after_is_capped() -> None:
    """A server asking for a day's wait gets at most MAX_RETRY_AFTER seconds."""
    assert BoundedRetry(total=1).parse_retry_after("86400") == BoundedRetry.MAX_RETRY_AFTER
    assert BoundedRetry(total=1).parse_retry_after("2") == 2

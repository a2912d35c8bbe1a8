"""HTTP for the pipeline: a retrying ``requests.Session`` and conditional feed fetches."""
import hashlib
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from podcast_pipeline import PodcastError
from podcast_pipeline.settings import DEFAULT_TIMEOUT, MAX_FEED_BYTES

logger = logging.getLogger(__name__)

# Some hosts refuse the default "python-requests/x.y" agent; say who we are instead.
USER_AGENT = ("podcast-pipeline/1.0 (+https://github.com/; MLOps Essentials "
              "podcast_summary.py) python-requests")
RETRY_STATUSES = (429, 500, 502, 503, 504)
PERMANENT_REDIRECTS = (301, 308)
CHUNK_SIZE = 256 * 1024


class FeedFetchError(PodcastError):
    """A feed could not be fetched (unreachable host, timeout, HTTP error, too large)."""


class BoundedRetry(Retry):
    """urllib3 ``Retry`` that honours ``Retry-After`` but never waits longer than a cap.

    A server asking for ``Retry-After: 86400`` would otherwise stall the run for a day.
    """

    MAX_RETRY_AFTER = 60.0

    def parse_retry_after(self, retry_after: str) -> float:
        """Return the server's delay in seconds, capped at ``MAX_RETRY_AFTER``."""
        return min(super().parse_retry_after(retry_after), self.MAX_RETRY_AFTER)


def make_session(user_agent: str = USER_AGENT, retries: int = 3,
                 backoff: float = 0.5, pool_size: int = 10) -> requests.Session:
    """Return a Session that retries connection errors and 429/5xx answers.

    Waits grow exponentially (``backoff`` x 2^n seconds, at most 30 s) and follow the
    server's ``Retry-After`` header when it sends one.

    Args:
        user_agent: the User-Agent header sent with every request.
        retries: attempts after the first one, per request.
        backoff: base of the exponential wait between attempts, in seconds.
        pool_size: connections kept per host.
    """
    retry = BoundedRetry(total=retries, connect=retries, read=retries, status=retries,
                         status_forcelist=RETRY_STATUSES, allowed_methods=("GET", "HEAD"),
                         backoff_factor=backoff, backoff_max=30.0,
                         respect_retry_after_header=True, raise_on_status=False)
    adapter = HTTPAdapter(max_retries=retry, pool_connections=pool_size, pool_maxsize=pool_size)
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    return session


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one conditional GET of a feed.

    ``moved_to`` is the address a permanent redirect (301/308) pointed to, which the
    next run should use; ``status`` 304 means unchanged since the last fetch.
    """

    status: int
    content: bytes | None
    sha256: str | None
    etag: str | None
    last_modified: str | None
    final_url: str
    permanent_redirect: bool = False
    moved_to: str | None = None
    charset: str | None = None

    @property
    def not_modified(self) -> bool:
        """True when the server answered 304 Not Modified."""
        return self.status == 304


def fetch_feed(session: requests.Session, url: str, *, etag: str | None = None,
               last_modified: str | None = None, timeout: float = DEFAULT_TIMEOUT,
               max_bytes: int = MAX_FEED_BYTES,
               sink: Callable[[bytes], object] | None = None) -> FetchResult:
    """GET a feed, sending the validators from the last fetch.

    Args:
        session: a session from ``make_session``.
        url: the feed address.
        etag: the ETag stored from the previous fetch, if any.
        last_modified: the Last-Modified stored from the previous fetch, if any.
        timeout: seconds to wait for the connection and between received bytes.
        max_bytes: larger bodies are refused.
        sink: called with each chunk of the body instead of keeping it (then
            ``content`` is None), so a feed of hundreds of megabytes is never held in
            memory.

    Returns:
        The status, body bytes (None on 304 or when given to ``sink``), its
        sha256, new validators and redirect facts.

    Raises:
        FeedFetchError: the feed could not be reached or answered with an error.
    """
    headers = {"Accept": "application/rss+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with session.get(url, headers=headers, timeout=timeout, stream=True) as response:
            if response.status_code >= 400:
                raise FeedFetchError(f"cannot fetch feed {url}: HTTP {response.status_code} "
                                     f"{response.reason}")
            content, sha256 = None, None
            if response.status_code != 304:
                content, sha256 = _read_body(response, max_bytes, sink)
    except requests.RequestException as err:
        raise FeedFetchError(f"cannot reach feed {url}: {describe_request_error(err)}") from err
    except ValueError as err:
        raise FeedFetchError(f"cannot fetch feed {url}: {err}") from err
    moved_to = permanent_target(response)
    return FetchResult(status=response.status_code, content=content, sha256=sha256,
                       etag=response.headers.get("ETag"),
                       last_modified=response.headers.get("Last-Modified"),
                       final_url=response.url, permanent_redirect=moved_to is not None,
                       moved_to=moved_to, charset=content_charset(response.headers))


def _read_body(response: requests.Response, max_bytes: int,
               sink: Callable[[bytes], object] | None) -> tuple[bytes | None, str]:
    """Read a streamed body (into memory, or into ``sink``), refusing more than ``max_bytes``.

    Returns:
        The bytes (None when given to ``sink``) and their sha256.
    """
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ValueError(f"the feed is {int(declared):,} bytes, more than the "
                         f"{max_bytes:,} allowed")
    buffer, digest, size = io.BytesIO(), hashlib.sha256(), 0
    write = sink if sink is not None else buffer.write
    for chunk in response.iter_content(CHUNK_SIZE):
        size += len(chunk)
        if size > max_bytes:
            raise ValueError(f"the feed is larger than the {max_bytes:,} bytes allowed")
        digest.update(chunk)
        write(chunk)
    return (None if sink is not None else buffer.getvalue()), digest.hexdigest()


def content_charset(headers: dict[str, str] | requests.structures.CaseInsensitiveDict
                    ) -> str | None:
    """Return the ``charset`` parameter of a ``Content-Type`` header, if it names one.

    Unlike ``requests``, no ISO-8859-1 is assumed for ``text/*`` without a charset.

    >>> content_charset({"Content-Type": 'text/xml; charset="Big5"'})
    'Big5'
    >>> content_charset({"Content-Type": "text/xml"}) is None
    True
    """
    message = Message()
    message["Content-Type"] = headers.get("Content-Type", "")
    charset = message.get_param("charset")
    return charset.strip() or None if isinstance(charset, str) else None


def permanent_target(response: requests.Response) -> str | None:
    """Return where the leading permanent redirects (301/308) of ``response`` point, if any."""
    urls = [hop.url for hop in response.history] + [response.url]
    target = None
    for index, hop in enumerate(response.history):
        if hop.status_code not in PERMANENT_REDIRECTS:
            break
        target = urls[index + 1]
    return target


# Most specific first: e.g. ConnectTimeout is both a Timeout and a ConnectionError.
_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (requests.Timeout, "timed out"),
    (requests.exceptions.RetryError, "too many failed attempts"),
    (requests.exceptions.TooManyRedirects, "too many redirects"),
    (requests.exceptions.ChunkedEncodingError, "the connection broke while receiving the body"),
    (requests.exceptions.ContentDecodingError, "the body could not be decoded"),
    (requests.exceptions.SSLError, "TLS/SSL error"),
    (requests.ConnectionError, "connection failed (offline, unknown host or refused)"),
    (requests.exceptions.InvalidSchema, "not an http(s) URL"),
    (requests.exceptions.MissingSchema, "not an http(s) URL"),
    (requests.exceptions.InvalidURL, "not a valid URL"),
)


def describe_request_error(err: requests.RequestException) -> str:
    """Return a short, human reason for a requests failure (no nested tracebacks)."""
    # After its retries, urllib3 reports read timeouts as MaxRetryError, which requests
    # raises as a plain ConnectionError: look at the underlying reason.
    if isinstance(getattr(err.args[0] if err.args else None, "reason", None),
                  urllib3.exceptions.ReadTimeoutError):
        return "timed out"
    for error_type, reason in _REASONS:
        if isinstance(err, error_type):
            return reason
    return type(err).__name__


def clone_session(session: requests.Session) -> requests.Session:
    """Return a new Session with the same headers and retry settings as ``session``.

    requests does not promise that one Session is safe to share between threads, so
    each download thread gets its own copy.
    """
    clone = requests.Session()
    clone.headers.update(session.headers)
    for prefix, adapter in session.adapters.items():
        if isinstance(adapter, HTTPAdapter):
            clone.mount(prefix, HTTPAdapter(max_retries=adapter.max_retries))
    return clone

"""Fetch a transcript or chapters document: conditional GET, size cap, ``.part`` + rename.

Uses the run's own ``requests`` session (so its retries, backoff and User-Agent). The
body is streamed to ``<dest>.part`` and renamed to ``dest`` only once it is complete
and within the cap: a crash or a dropped connection never leaves a half document
where a whole one is expected.
"""
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import requests

from podcast_pipeline import PodcastError
from podcast_pipeline.http_client import describe_request_error

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024  # the transcript parser's cap (transcript_formats)
CHUNK_SIZE = 64 * 1024
ACCEPT = ("text/vtt, application/x-subrip;q=0.9, application/json;q=0.8, "
          "text/html;q=0.7, text/plain;q=0.6, */*;q=0.1")


class DocumentFetchError(PodcastError):
    """A transcript or chapters file could not be fetched (HTTP error, unreachable, too big)."""


@dataclass(frozen=True)
class DocumentFetch:
    """The outcome of one conditional GET.

    ``path`` is None when the server answered 304 Not Modified (nothing was written).
    """

    path: Path | None
    etag: str | None
    last_modified: str | None
    content_type: str | None = None
    sha256: str | None = None

    @property
    def not_modified(self) -> bool:
        """True when the stored copy is still current (HTTP 304)."""
        return self.path is None

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of the Content-Type, if the server named one."""
        for part in (self.content_type or "").split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"')
        return None


def fetch_document(session: requests.Session, url: str, dest: Path, *,
                   etag: str | None = None, last_modified: str | None = None,
                   timeout: float = 30.0,
                   max_bytes: int = MAX_DOCUMENT_BYTES) -> DocumentFetch:
    """GET ``url`` into ``dest`` (via ``dest.part``), sending the stored validators.

    Raises:
        DocumentFetchError: not http(s), unreachable, an HTTP error, or larger than
            ``max_bytes`` (declared or received); ``dest`` is then left as it was.
    """
    if not url.lower().startswith(("http://", "https://")):
        raise DocumentFetchError(f"refused {url[:80]!r}: only http and https URLs are fetched")
    headers = {"Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    part = dest.with_name(dest.name + ".part")
    try:
        with session.get(url, headers=headers, timeout=timeout, stream=True) as response:
            if response.status_code == 304:
                return DocumentFetch(None, response.headers.get("ETag") or etag,
                                     response.headers.get("Last-Modified") or last_modified)
            if response.status_code >= 400:
                raise DocumentFetchError(f"cannot fetch {url}: HTTP {response.status_code} "
                                         f"{response.reason}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            sha256 = _write_body(response, part, max_bytes)
    except requests.RequestException as err:
        part.unlink(missing_ok=True)
        raise DocumentFetchError(f"cannot reach {url}: {describe_request_error(err)}") from err
    except (DocumentFetchError, OSError) as err:
        part.unlink(missing_ok=True)
        if isinstance(err, DocumentFetchError):
            raise
        raise DocumentFetchError(f"cannot write {dest}: {err}") from err
    os.replace(part, dest)
    return DocumentFetch(dest, response.headers.get("ETag"),
                         response.headers.get("Last-Modified"),
                         response.headers.get("Content-Type"), sha256)


def _write_body(response: requests.Response, part: Path, max_bytes: int) -> str:
    """Stream the body into ``part``, refusing more than ``max_bytes``; return its sha256."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise DocumentFetchError(f"{response.url} is {int(declared):,} bytes, more than the "
                                 f"{max_bytes:,} bytes allowed")
    digest, size = hashlib.sha256(), 0
    with part.open("wb") as out:
        for chunk in response.iter_content(CHUNK_SIZE):
            size += len(chunk)
            if size > max_bytes:
                raise DocumentFetchError(f"{response.url} is larger than the {max_bytes:,} "
                                         "bytes allowed")
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()

"""Fixtures shared by the Project_02 tests: a local HTTP server, golden feeds, sessions.

Nothing here reaches the internet: feeds and audio are served from 127.0.0.1 by a
threaded ``http.server`` started inside the test.
"""
import http.server
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from podcast_pipeline.http_client import make_session
from podcast_pipeline.transcription import SpeechEngine, load_engine

FEEDS_DIR = Path(__file__).resolve().parent / "feeds"
GOLDEN_HOST = b"http://podcast.test"  # golden feeds use this; served copies use the server's
CHUNK_SIZE = 64 * 1024
_RANGE = re.compile(r"bytes=(\d+)-$")


@dataclass
class Route:
    """What the server answers for one path.

    ``script`` holds (status, headers) answers sent, in order, before the normal one
    (e.g. a 429 then 200); ``drop_after`` sends that many body bytes and then closes the
    connection, ``drops`` times; ``chunk_delay`` makes a slow body.
    """

    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml"
    etag: str | None = None
    last_modified: str | None = None
    ranges: bool = True
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    drop_after: int | None = None
    drops: int = 1
    chunk_delay: float = 0.0


class LocalServer:
    """Routes, the requests received, and URLs of the running test server."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []

    def url(self, path: str) -> str:
        """Return the full URL of ``path`` (starting with ``/``)."""
        return self.base_url + path

    def add(self, path: str, body: bytes = b"", **options: object) -> Route:
        """Serve ``body`` at ``path`` with the given ``Route`` options; return the route."""
        route = Route(body=body, **options)  # type: ignore[arg-type]
        self.routes[path] = route
        return route

    def add_feed(self, path: str, name: str, **options: object) -> Route:
        """Serve the golden feed ``name`` with its links pointing at this server."""
        body = (FEEDS_DIR / name).read_bytes().replace(GOLDEN_HOST, self.base_url.encode())
        return self.add(path, body, **options)

    def hits(self, path: str) -> list[dict[str, str]]:
        """Return the headers of every request received for ``path``."""
        return [headers for got, headers in self.requests if got == path]


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serve ``LocalServer.routes`` with conditional GET, Range and scripted faults."""

    server_state: LocalServer

    def do_GET(self) -> None:  # pylint: disable=invalid-name  # http.server calls this name
        """Answer one GET (a client hanging up early is normal in these tests)."""
        try:
            self._answer()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _answer(self) -> None:
        state = self.server_state
        path = self.path.split("?")[0]
        state.requests.append((path, dict(self.headers)))
        route = state.routes.get(path)
        if route is None:
            self._send(404, {}, b"not found")
        elif route.script:
            status, headers = route.script.pop(0)
            self._send(status, headers, b"")
        elif route.status != 200:
            self._send(route.status, {"Location": route.body.decode()}
                       if route.status in (301, 302, 307, 308) else {}, b"")
        elif self._not_modified(route):
            self._send(304, self._validators(route), b"")
        else:
            self._send_body(route)

    def _not_modified(self, route: Route) -> bool:
        if route.etag and self.headers.get("If-None-Match") == route.etag:
            return True
        return bool(route.last_modified
                    and self.headers.get("If-Modified-Since") == route.last_modified)

    @staticmethod
    def _validators(route: Route) -> dict[str, str]:
        headers = {}
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        return headers

    def _send_body(self, route: Route) -> None:
        headers = {"Content-Type": route.content_type, **self._validators(route)}
        if route.ranges:
            headers["Accept-Ranges"] = "bytes"
        body, status = route.body, 200
        match = _RANGE.match(self.headers.get("Range", ""))
        if route.ranges and match:
            start = int(match[1])
            if start >= len(body):
                self._send(416, {"Content-Range": f"bytes */{len(body)}"}, b"")
                return
            headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
            body, status = body[start:], 206
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        if route.drop_after is not None and route.drops > 0:
            route.drops -= 1
            self.wfile.write(body[:route.drop_after])
            self.wfile.flush()  # HTTP/1.0: the connection closes after this answer
            return
        for start in range(0, len(body), CHUNK_SIZE):
            if route.chunk_delay:
                time.sleep(route.chunk_delay)
            self.wfile.write(body[start:start + CHUNK_SIZE])

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # pylint: disable=redefined-builtin
        """Keep the test output quiet."""


@pytest.fixture(name="server")
def fixture_server() -> Iterator[LocalServer]:
    """A threaded HTTP server on 127.0.0.1 (port 0) for the length of one test."""
    handler = type("Handler", (_Handler,), {})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    state = LocalServer(f"http://127.0.0.1:{httpd.server_address[1]}")
    handler.server_state = state
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(name="sigint_reaches_children")
def fixture_sigint_reaches_children() -> Iterator[None]:
    """Let the CLI processes a test starts receive Ctrl-C (SIGINT).

    A shell starts background jobs with SIGINT ignored, and a child inherits "ignored"
    (a handler is reset to the default on exec): a test run started in the background
    would see the CLI ignore the signal. Handling SIGINT here while the test runs gives
    its children the default, so Python raises KeyboardInterrupt in them as in a terminal.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(name="session")
def fixture_session() -> Iterator[requests.Session]:
    """A retrying Session with tiny backoff, so fault tests stay fast."""
    session = make_session(retries=2, backoff=0.01)
    yield session
    session.close()


@pytest.fixture(name="feed_bytes")
def fixture_feed_bytes() -> Callable[[str], bytes]:
    """Return a loader: golden feed file name -> its bytes."""
    def load(name: str) -> bytes:
        return (FEEDS_DIR / name).read_bytes()
    return load


@pytest.fixture(name="fast_pipeline", autouse=True)
def fixture_fast_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the pipeline's own sessions retry quickly, and keep PODCAST_DATA_DIR unset."""
    monkeypatch.setattr("podcast_pipeline.pipeline.make_session",
                        lambda: make_session(retries=2, backoff=0.01))
    monkeypatch.delenv("PODCAST_DATA_DIR", raising=False)


# --- speech-to-text (issue 8) ----------------------------------------------------------------
AUDIO_DIR = Path(__file__).resolve().parent / "audio"
# audio/speech.mp3 is this sentence, made with the command in audio/README.md.
SPOKEN_SENTENCE = "We will talk about money, markets and the economy."


@pytest.fixture(name="spoken_words")
def fixture_spoken_words() -> set[str]:
    """The distinct lower-case words of the sentence spoken in the speech clips."""
    return set(SPOKEN_SENTENCE.lower().replace(",", "").rstrip(".").split())


@pytest.fixture(name="committed_speech_mp3")
def fixture_committed_speech_mp3() -> Path:
    """A 4-second MP3 of SPOKEN_SENTENCE kept in the repository (11 KB)."""
    return AUDIO_DIR / "speech.mp3"


@pytest.fixture(name="synthesised_speech_mp3")
def fixture_synthesised_speech_mp3(tmp_path: Path) -> Path:
    """SPOKEN_SENTENCE spoken now by espeak-ng and written as MP3 by soundfile."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    soundfile = pytest.importorskip("soundfile")
    wav = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en-us+f2", "-s", "150", "-w", str(wav),
                    SPOKEN_SENTENCE], check=True, capture_output=True)
    samples, sample_rate = soundfile.read(str(wav), dtype="float32")
    mp3 = tmp_path / "speech.mp3"
    soundfile.write(str(mp3), samples, sample_rate, format="MP3")
    return mp3


@pytest.fixture(name="engine", scope="session")
def fixture_engine() -> SpeechEngine:
    """One loaded PocketSphinx engine for the whole session (loading takes about 1 s)."""
    pytest.importorskip("pocketsphinx")
    pytest.importorskip("soundfile")
    return load_engine()


@pytest.fixture(name="serve_podcast")
def fixture_serve_podcast(server: LocalServer) -> Callable[[list[bytes]], str]:
    """Return a function: audio files (oldest first) -> URL of a feed with one episode each.

    Episode ``n`` (1 = oldest) has guid ``ep<n>``, title ``Episode <n>``, a description,
    a publication date on 2024-01-0<n> and its audio at ``/audio/ep<n>.mp3``.
    """
    def serve(audio_files: list[bytes]) -> str:
        items = []
        for number, audio in enumerate(audio_files, start=1):
            server.add(f"/audio/ep{number}.mp3", audio, content_type="audio/mpeg")
            items.append(
                f"<item><title>Episode {number}</title><guid>ep{number}</guid>"
                f"<description>Description of episode {number}</description>"
                f"<pubDate>Mon, 0{number} Jan 2024 06:00:00 GMT</pubDate>"
                f'<enclosure url="{server.url(f"/audio/ep{number}.mp3")}" '
                f'type="audio/mpeg" length="{len(audio)}"/></item>')
        feed = f"<rss><channel><title>Speech Radio</title>{''.join(items)}</channel></rss>"
        server.add("/feed.xml", feed.encode())
        return server.url("/feed.xml")
    return serve

"""Fixtures shared by the Project_01 tests."""
from __future__ import annotations

import csv
import hashlib
import io
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from movie_recommender.index_build import build_arrays
from movie_recommender.recommender import Recommender

# ---------------------------------------------------------------------------------------------
# Data fixtures (owned by p01-core; used by the title-search, data, index and CLI tests).
# ---------------------------------------------------------------------------------------------

PROJECT_DIR = Path(__file__).resolve().parents[1]
BUNDLED_DIR = PROJECT_DIR / "data" / "ml-latest-small"

# A tiny MovieLens set whose right answers are certain: "family" fans love the Toy
# Story films and Amelie, "action" fans love The Matrix, Terminator and Aliens; nobody
# likes "Lonely Film" (so it has no fans); the 1996 Hamlet has more ratings than the
# 1948 one (so it wins a tie on title alone).
TINY_MOVIES = [
    (1, "Toy Story (1995)", "Adventure|Animation|Children|Comedy"),
    (2, "Toy Story 2 (1999)", "Adventure|Animation|Children|Comedy"),
    (3, "Matrix, The (1999)", "Action|Sci-Fi|Thriller"),
    (4, "Terminator, The (1984)", "Action|Sci-Fi"),
    (5, "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)", "Comedy|Romance"),
    (6, "Hamlet (1948)", "Drama"),
    (7, "Hamlet (1996)", "Crime|Drama|Romance"),
    (8, "Aliens (1986)", "Action|Horror|Sci-Fi"),
    (9, "Lonely Film (2000)", "Comedy|Romance"),
    (10, "Romance of Amelie (2005)", "Romance"),
]
FAMILY_USERS = range(1, 7)
ACTION_USERS = range(7, 13)


def tiny_ratings() -> list[tuple[int, int, float, int]]:
    """(userId, movieId, rating, timestamp) rows of the tiny set."""
    rows = []
    clock = 1_000_000_000
    for user in FAMILY_USERS:
        for movie, rating in ((1, 5.0), (2, 5.0), (5, 4.5), (7, 3.0), (9, 2.0)):
            clock += 60
            rows.append((user, movie, rating, clock))
    for user in ACTION_USERS:
        for movie, rating in ((3, 5.0), (4, 5.0), (8, 4.5), (6, 3.0), (10, 2.5)):
            clock += 60
            rows.append((user, movie, rating, clock))
    rows.append((1, 7, 3.5, clock + 60))
    return rows


def write_movielens(folder: Path, movies: list[tuple], ratings: list[tuple]) -> Path:
    """Write ``movies.csv`` and ``ratings.csv`` in the MovieLens layout into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "movies.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["movieId", "title", "genres"])
        writer.writerows(movies)
    with (folder / "ratings.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["userId", "movieId", "rating", "timestamp"])
        writer.writerows((user, movie, f"{rating:.1f}", stamp)
                         for user, movie, rating, stamp in ratings)
    return folder


@pytest.fixture(name="make_movielens")
def fixture_make_movielens() -> Callable[[Path, list[tuple], list[tuple]], Path]:
    """``write_movielens``: write a MovieLens folder from movie and rating rows."""
    return write_movielens


@pytest.fixture(name="tiny_rows")
def fixture_tiny_rows() -> tuple[list[tuple], list[tuple]]:
    """The tiny set's (movie rows, rating rows)."""
    return list(TINY_MOVIES), tiny_ratings()


@pytest.fixture(name="bundled_dir")
def fixture_bundled_dir() -> Path:
    """The bundled ml-latest-small folder (read-only: never write into it)."""
    return BUNDLED_DIR


@pytest.fixture(name="tiny_dir")
def fixture_tiny_dir(tmp_path: Path) -> Path:
    """A folder with the tiny MovieLens set (fresh for each test, so tests may edit it)."""
    return write_movielens(tmp_path / "tiny", TINY_MOVIES, tiny_ratings())


@pytest.fixture(name="cache_dir")
def fixture_cache_dir(tmp_path: Path) -> Path:
    """An empty cache folder: tests never touch the user's real cache."""
    return tmp_path / "cache"


@pytest.fixture(name="bundled", scope="session")
def fixture_bundled() -> Recommender:
    """The bundled ml-latest-small, indexed in memory once per test session."""
    return Recommender.from_arrays(build_arrays(BUNDLED_DIR, progress=False))


# ---------------------------------------------------------------------------------------------
# Download fixtures (owned by p01-download; used by test_download.py).
# A local GroupLens stand-in on 127.0.0.1 that serves zips and their .md5 files, honours
# Range requests, and can misbehave on demand (errors, dropped connections, stalls).
# ---------------------------------------------------------------------------------------------

@dataclass
class RecordedRequest:
    """One request the fake server received."""

    path: str
    headers: dict[str, str]


@dataclass
class FakeGroupLens:
    """What the local server serves, how it misbehaves, and what it was asked.

    Attributes:
        base_url: ``http://127.0.0.1:<port>/``, to pass as ``fetch_dataset(base_url=...)``.
        files: URL path -> body; any other path answers 404.
        statuses: URL path -> HTTP error status to answer instead of the file.
        drops: URL path -> how many more responses send only half their body (with the
            full Content-Length) and then close the connection.
        ignore_range: URL paths answered in full (200) even when a Range is asked for.
        stall_seconds: wait this long before answering any request.
        requests: every request received, in order.
    """

    base_url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    drops: dict[str, int] = field(default_factory=dict)
    ignore_range: set[str] = field(default_factory=set)
    stall_seconds: float = 0.0
    requests: list[RecordedRequest] = field(default_factory=list)

    def publish(self, name: str, archive: bytes, md5: str | None = None) -> None:
        """Serve ``<name>.zip`` and ``<name>.zip.md5`` (md5sum format; the real md5 by default)."""
        digest = md5 if md5 is not None else hashlib.md5(archive).hexdigest()
        self.files[f"/{name}.zip"] = archive
        self.files[f"/{name}.zip.md5"] = f"{digest}  {name}.zip\n".encode()

    def requests_for(self, path: str) -> list[RecordedRequest]:
        """Return the requests received for ``path``."""
        return [request for request in self.requests if request.path == path]


def _handler_for(state: FakeGroupLens) -> type[BaseHTTPRequestHandler]:
    """Build a request handler class that serves ``state``."""

    class Handler(BaseHTTPRequestHandler):
        """Serve files with Range support and the misbehaviours configured in ``state``."""

        protocol_version = "HTTP/1.1"  # keep-alive, so one client session reuses connections

        def serve_get(self) -> None:
            """Answer a GET from ``state``."""
            state.requests.append(RecordedRequest(self.path, dict(self.headers.items())))
            time.sleep(state.stall_seconds)
            if self.path in state.statuses:
                self.send_error(state.statuses[self.path])
            elif self.path not in state.files:
                self.send_error(404)
            else:
                self._send_file(state.files[self.path])

        do_GET = serve_get  # the name http.server dispatches GET requests to

        def _send_file(self, body: bytes) -> None:
            """Send ``body``, or the part of it a ``Range`` header asks for."""
            start = self._requested_start()
            if start is not None and start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if start is None:
                self.send_response(200)
                start = 0
            else:
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            payload = body[start:]
            self.send_header("Content-Length", str(len(payload)))
            if state.drops.get(self.path, 0) > 0:
                state.drops[self.path] -= 1
                payload = payload[:len(payload) // 2]
                self.send_header("Connection", "close")  # hang up after the half body
            self.end_headers()
            self.wfile.write(payload)

        def _requested_start(self) -> int | None:
            """Return N of a ``Range: bytes=N-`` header, unless told to ignore ranges."""
            header = self.headers.get("Range", "")
            if self.path in state.ignore_range or not header.startswith("bytes="):
                return None
            return int(header.removeprefix("bytes=").split("-")[0])

        def log_message(self, *args: object) -> None:
            """Keep the test output quiet."""

    return Handler


@pytest.fixture(name="grouplens")
def fixture_grouplens() -> Iterator[FakeGroupLens]:
    """Run a fake GroupLens file server on 127.0.0.1 (random port) for one test."""
    state = FakeGroupLens()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(state))
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/"
    # a short poll interval keeps shutdown() (run once per test) quick
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(name="closed_port_url")
def fixture_closed_port_url() -> str:
    """Return an ``http://127.0.0.1:<port>/`` URL where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(name="movielens_csvs")
def fixture_movielens_csvs() -> dict[str, bytes]:
    """Small movies.csv and ratings.csv in the MovieLens layout.

    ratings.csv has a few thousand rows so the zip is several chunks long and a transfer
    can be cut in the middle.
    """
    movies = b"movieId,title,genres\n1,Toy Story (1995),Adventure|Animation|Children\n" \
             b"2,Jumanji (1995),Adventure|Children|Fantasy\n"
    rows = [f"{user},{1 + user % 2},{0.5 + user % 10 / 2},{964982703 + user}"
            for user in range(1, 12_001)]
    ratings = ("userId,movieId,rating,timestamp\n" + "\n".join(rows) + "\n").encode()
    return {"movies.csv": movies, "ratings.csv": ratings}


@pytest.fixture(name="make_zip")
def fixture_make_zip() -> Callable[[dict[str, bytes]], bytes]:
    """Return a function building a zip (in memory, stored uncompressed) from name -> bytes."""

    def make_zip(members: dict[str, bytes]) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        return buffer.getvalue()

    return make_zip

# ---------------------------------------------------------------------------------------------
# End of the download fixtures.
# ---------------------------------------------------------------------------------------------

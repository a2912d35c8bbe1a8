"""The test suites never reach the internet: only loopback connections are allowed.

pytest-socket enforces this for the whole repository (``--allow-hosts`` in pytest.ini);
these tests prove the guard is on, so a test that forgets to serve its own data
fails at once instead of hanging or depending on a live site.
"""
import http.server
import socket
import threading
from collections.abc import Iterator

import pytest
import requests
from pytest_socket import SocketConnectBlockedError

PUBLIC_ADDRESS = ("93.184.215.14", 80)  # a public IPv4 address (example.com's, once)


class _HelloHandler(http.server.BaseHTTPRequestHandler):
    """Answer every GET with a fixed body."""

    def do_GET(self) -> None:  # pylint: disable=invalid-name  # http.server calls this name
        """Send ``hello``."""
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # pylint: disable=redefined-builtin
        """Keep the test output quiet."""


@pytest.fixture(name="local_url")
def fixture_local_url() -> Iterator[str]:
    """Serve ``_HelloHandler`` on 127.0.0.1 for the length of one test."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HelloHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_connecting_to_a_public_address_fails_at_once() -> None:
    """A raw socket connect to a non-loopback address is refused by the guard."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(SocketConnectBlockedError):
            sock.connect(PUBLIC_ADDRESS)


def test_requests_to_a_public_host_fail_at_once() -> None:
    """requests cannot reach a public address either."""
    with pytest.raises(SocketConnectBlockedError):
        requests.get(f"http://{PUBLIC_ADDRESS[0]}/", timeout=5)


def test_a_server_on_loopback_is_reachable(local_url: str) -> None:
    """Tests may talk to the servers they start themselves on 127.0.0.1."""
    response = requests.get(local_url, timeout=5)
    assert response.status_code == 200
    assert response.text == "hello"

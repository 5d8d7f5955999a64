"""The HTTP protocol's GET: where it connects (proxies, NO_PROXY), and what it does with
redirects, ranges and silence, against a real HTTP server and a real forward proxy on 127.0.0.1."""

from __future__ import annotations

import http.client
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest

from downloader import http_get
from downloader.failures import HttpStatusError
from downloader.hub import transfer_http

BODY = bytes(range(256)) * 4096  # 1 MiB


@pytest.mark.parametrize(
    ("url", "proxies", "no_proxy", "expected"),
    [
        pytest.param(
            "https://hub.example/org/m/resolve/main/w.bin?download=1",
            {},
            None,
            http_get.Route("https", "hub.example", 443, "/org/m/resolve/main/w.bin?download=1"),
            id="direct-https",
        ),
        pytest.param(
            "http://127.0.0.1:8080",
            {},
            None,
            http_get.Route("http", "127.0.0.1", 8080, "/"),
            id="direct-http-empty-path",
        ),
        pytest.param(
            "https://cdn.example/x",
            {"https": "http://proxy:3128"},
            None,
            http_get.Route("https", "cdn.example", 443, "/x", proxy="http://proxy:3128"),
            id="https-through-a-tunnel",
        ),
        pytest.param(
            "http://hub.internal:8000/a#frag",
            {"http": "http://proxy:3128"},
            None,
            http_get.Route("http", "hub.internal", 8000, "http://hub.internal:8000/a", proxy="http://proxy:3128"),
            id="http-through-a-proxy-absolute-target",
        ),
        pytest.param(
            "https://hub.internal/x",
            {"https": "http://proxy:3128"},
            "hub.internal,other",
            http_get.Route("https", "hub.internal", 443, "/x"),
            id="no-proxy-bypasses",
        ),
    ],
)
def test_route(
    url: str, proxies: dict[str, str], no_proxy: str | None, expected: http_get.Route, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    if no_proxy is not None:
        monkeypatch.setenv("no_proxy", no_proxy)
    assert http_get.route(url, proxies) == expected


def test_route_rejects_other_schemes() -> None:
    with pytest.raises(ValueError, match="not an http"):
        http_get.route("ftp://host/x", {})


class _Origin(http.server.BaseHTTPRequestHandler):
    """/file (ranges), /moved → /file, /elsewhere → the other origin, /forbidden, /silent."""

    requests: ClassVar[list[dict[str, Any]]] = []
    other_origin: ClassVar[str] = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.requests.append({"path": self.path, "headers": dict(self.headers)})
        path = self.path
        if path == "/moved":
            self._redirect("/file")
        elif path == "/elsewhere":
            self._redirect(self.other_origin + "/file")
        elif path == "/forbidden":
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/silent":
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY[:1000])
            self.wfile.flush()
            threading.Event().wait(1)
        else:
            start = 0
            if (wanted := self.headers.get("Range")) is not None:
                start = int(wanted.removeprefix("bytes=").rstrip("-"))
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(BODY) - 1}/{len(BODY)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(BODY) - start))
            self.end_headers()
            self.wfile.write(BODY[start:])

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _ForwardProxy(http.server.BaseHTTPRequestHandler):
    """A plain-HTTP forward proxy: relays absolute-URI GETs and records them."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append({"target": self.path, "headers": dict(self.headers)})
        parts = urlsplit(self.path)
        upstream = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=5)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-authorization"}
        upstream.request("GET", parts.path or "/", headers=headers)
        response = upstream.getresponse()
        body = response.read()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("transfer-encoding", "connection"):
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        upstream.close()


def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def origin(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    _Origin.requests = []
    yield from _serve(_Origin)


@pytest.fixture
def other_origin(origin: str) -> str:
    # Same server on another address: "localhost" is a different host in a URL.
    port = origin.rsplit(":", 1)[1]
    _Origin.other_origin = f"http://localhost:{port}"
    return _Origin.other_origin


def test_downloads_the_body(origin: str, tmp_path: Path) -> None:
    partial = tmp_path / "w.incomplete"
    transfer_http(f"{origin}/file", {}, partial, len(BODY))
    assert partial.read_bytes() == BODY
    assert _Origin.requests[0]["headers"]["Accept-Encoding"] == "identity"


def test_resumes_from_the_end_of_the_partial_file(origin: str, tmp_path: Path) -> None:
    partial = tmp_path / "w.incomplete"
    partial.write_bytes(BODY[:300_000])
    transfer_http(f"{origin}/file", {}, partial, len(BODY))
    assert partial.read_bytes() == BODY
    assert _Origin.requests[-1]["headers"]["Range"] == "bytes=300000-"


def test_follows_redirects_and_keeps_the_token_on_the_same_host(origin: str, tmp_path: Path) -> None:
    partial = tmp_path / "w.incomplete"
    transfer_http(f"{origin}/moved", {"authorization": "Bearer hf_sametoken123"}, partial, len(BODY))
    assert partial.read_bytes() == BODY
    assert [r["path"] for r in _Origin.requests] == ["/moved", "/file"]
    assert _Origin.requests[1]["headers"].get("authorization") == "Bearer hf_sametoken123"


def test_drops_the_token_when_a_redirect_leaves_the_host(origin: str, other_origin: str, tmp_path: Path) -> None:
    partial = tmp_path / "w.incomplete"
    transfer_http(f"{origin}/elsewhere", {"authorization": "Bearer hf_sametoken123"}, partial, len(BODY))
    assert partial.read_bytes() == BODY
    assert "authorization" not in {k.lower() for k in _Origin.requests[1]["headers"]}


def test_an_error_status_names_it(origin: str, tmp_path: Path) -> None:
    with pytest.raises(HttpStatusError) as raised:
        transfer_http(f"{origin}/forbidden", {}, tmp_path / "w.incomplete", None)
    assert raised.value.status == 403


def _read_body(url: str, read_timeout: float) -> int:
    total = 0
    with http_get.get(url, {}, connect_timeout=2, read_timeout=read_timeout) as response:
        buffer = bytearray(len(BODY))
        while count := response.readinto(buffer):
            total += count
    return total


def test_a_silent_server_times_out(origin: str) -> None:
    with pytest.raises(TimeoutError):
        _read_body(f"{origin}/silent", read_timeout=0.5)


def test_goes_through_the_environment_proxy(origin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _ForwardProxy.seen = []
    for proxy in _serve(_ForwardProxy):
        host, port = proxy.removeprefix("http://").split(":")
        monkeypatch.setenv("HTTP_PROXY", f"http://user:p%40ss@{host}:{port}")
        partial = tmp_path / "w.incomplete"
        transfer_http(f"{origin}/file", {}, partial, len(BODY))
        assert partial.read_bytes() == BODY
    assert _ForwardProxy.seen[0]["target"] == f"{origin}/file"
    assert _ForwardProxy.seen[0]["headers"]["Proxy-Authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss


def test_too_many_redirects(monkeypatch: pytest.MonkeyPatch) -> None:
    class Loop(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", "/again")
            self.send_header("Content-Length", "0")
            self.end_headers()

    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    for url in _serve(Loop):
        with pytest.raises(http_get.TooManyRedirectsError), http_get.get(url, {}, 2, 2):
            pass


def test_unused_port_is_a_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionError), http_get.get(f"http://127.0.0.1:{port}/x", {}, 2, 2):
        pass

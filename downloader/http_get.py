"""One streaming HTTP GET with the standard library's http.client, for the HTTP protocol's file
transfer: proxies from the environment (HTTP(S)_PROXY, NO_PROXY, as httpx and urllib3 honour
them), redirects, and separate connect and read timeouts.

Why http.client and not urllib3 (which botocore brings anyway): the body is read with
`HTTPResponse.readinto` into one reused buffer, straight from the socket. urllib3 2.x's
`read(amt)` allocates, buffers and joins every chunk; on loopback that doubled the time of a
2 GiB file (docs/performance.md), while readinto outruns `curl -o`.
"""

from __future__ import annotations

import base64
import http.client
import ssl
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5

RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (http.client.HTTPException, ConnectionError, TimeoutError)
"""A broken or silent connection: worth another GET from where the file ends."""


class TooManyRedirectsError(http.client.HTTPException):
    pass


@dataclass(frozen=True)
class Route:
    """Where to connect for a URL, and what to put on the request line."""

    scheme: str
    host: str
    port: int
    request_target: str
    proxy: str | None = None
    """The proxy URL, when the request goes through one."""


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def route(url: str, proxies: dict[str, str] | None = None) -> Route:
    """The connection and request target for `url`: direct, or through the environment's proxy
    for its scheme unless NO_PROXY names the host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url}")
    path = parts.path or "/"
    target = f"{path}?{parts.query}" if parts.query else path
    port = parts.port or _default_port(parts.scheme)
    known = urllib.request.getproxies() if proxies is None else proxies
    proxy = known.get(parts.scheme)
    if proxy and urllib.request.proxy_bypass(parts.hostname):
        proxy = None
    if proxy and parts.scheme == "http":
        # Plain HTTP through a proxy: the absolute URL goes on the request line.
        target = url.split("#", 1)[0]
    return Route(parts.scheme, parts.hostname, port, target, proxy)


def _connection(to: Route, connect_timeout: float) -> tuple[http.client.HTTPConnection, dict[str, str]]:
    """The connection, and the headers every request on it carries (proxy credentials)."""
    if to.proxy is None:
        if to.scheme == "https":
            context = ssl.create_default_context()
            return http.client.HTTPSConnection(to.host, to.port, timeout=connect_timeout, context=context), {}
        return http.client.HTTPConnection(to.host, to.port, timeout=connect_timeout), {}
    proxy = urlsplit(to.proxy if "://" in to.proxy else f"http://{to.proxy}")
    proxy_host, proxy_port = proxy.hostname or "", proxy.port or _default_port(proxy.scheme)
    auth: dict[str, str] = {}
    if proxy.username is not None:
        credentials = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()
        auth["Proxy-Authorization"] = "Basic " + base64.b64encode(credentials).decode()
    if to.scheme == "https":
        # CONNECT through the proxy, then TLS with the origin.
        tunnel = http.client.HTTPSConnection(
            proxy_host, proxy_port, timeout=connect_timeout, context=ssl.create_default_context()
        )
        tunnel.set_tunnel(to.host, to.port, headers=auth)
        return tunnel, {}
    return http.client.HTTPConnection(proxy_host, proxy_port, timeout=connect_timeout), auth


@contextmanager
def get(
    url: str, headers: dict[str, str], connect_timeout: float, read_timeout: float
) -> Iterator[http.client.HTTPResponse]:
    """The response to a GET of `url` after redirects (the Authorization header is dropped when a
    redirect leaves the host, as huggingface_hub does for its CDN). Read the body with
    `readinto`; the connection is closed on leaving the block."""
    current, sent = url, dict(headers)
    for _ in range(MAX_REDIRECTS + 1):
        to = route(current)
        connection, extra = _connection(to, connect_timeout)
        try:
            connection.connect()
            if connection.sock is not None:
                connection.sock.settimeout(read_timeout)
            connection.request("GET", to.request_target, headers={**sent, **extra})
            response = connection.getresponse()
            location = response.getheader("Location")
            if response.status in REDIRECT_STATUSES and location:
                response.close()
                following = urljoin(current, location)
                if urlsplit(following).netloc != urlsplit(current).netloc:
                    sent = {k: v for k, v in sent.items() if k.lower() != "authorization"}
                current = following
                continue
            yield response
            return
        finally:
            connection.close()
    raise TooManyRedirectsError(f"more than {MAX_REDIRECTS} redirects from {url}")

"""Look-alikes of Docker Hub's API and GitHub's packages API on 127.0.0.1, for the
AIMClusterModelSource listing tests. Each runs in the test process (a ThreadingHTTPServer on a
thread of its own), so a controller started by the test reaches it at `.url` too. Only what the
controller uses is served, answering as the real services document it:

`DockerHubLookalike` (https://hub.docker.com):

* `POST /v2/auth/token` `{"identifier", "secret"}` → `{"access_token"}` for a known user, else 401;
* `GET /v2/namespaces/<namespace>/repositories?page_size=N&page=P` → `{"count", "next", "previous",
  "results": [{"name", "namespace", "is_private", "repository_type"}]}`; `next` is an absolute URL
  (on `next_base` when a test sets it). Private repositories are listed only with a bearer token
  it issued, as Docker Hub lists only public ones anonymously; an unknown bearer token is 401, an
  unknown namespace 404.

`GitHubPackagesLookalike` (https://api.github.com):

* `GET /orgs/<org>/packages?package_type=container&per_page=N&page=P` and the same under
  `/users/<user>/` → `[{"id", "name", "package_type", "visibility"}]`, with
  `Link: <…>; rel="next", <…>; rel="last"` while there are more pages and `X-RateLimit-*` headers;
  401 `Requires authentication` without a token, `Bad credentials` with an unknown one; 404 for an
  owner that is not an organisation (or user) there.

`rate_limit(times, …)` makes the next `times` listing requests answer as each service does when
asked too often: Docker Hub 429 with `Retry-After`, GitHub 403 with `X-RateLimit-Remaining: 0` and
`X-RateLimit-Reset`. `requests` records what was asked (method, path with query, Authorization).
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from requests.structures import CaseInsensitiveDict

Answer = tuple[int, dict[str, str], Any]


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    """Path and query as sent."""
    authorization: str | None


class _Lookalike:
    """A JSON API on 127.0.0.1; subclasses answer `(status, headers, document)`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._limited = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _take_rate_limit(self) -> bool:
        with self._lock:
            if self._limited <= 0:
                return False
            self._limited -= 1
            return True

    def answer(self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: Any) -> Answer:
        raise NotImplementedError

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        lookalike = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                lookalike.requests.append(Recorded(method, self.path, self.headers.get("Authorization")))
                split = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(split.query))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                sent = CaseInsensitiveDict(self.headers.items())
                status, headers, document = lookalike.answer(method, split.path, query, sent, body)
                payload = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _page(query: dict[str, str], size_key: str, default_size: int) -> tuple[int, int]:
    try:
        page, size = int(query.get("page", "1")), int(query.get(size_key, str(default_size)))
    except ValueError:
        return 1, default_size
    return max(1, page), max(1, min(size, 100))


class DockerHubLookalike(_Lookalike):
    _LISTING = re.compile(r"^/v2/namespaces/(?P<namespace>[^/]+)/repositories/?$")

    def __init__(
        self,
        namespaces: Mapping[str, Sequence[str]],
        private: Iterable[str] = (),
        users: Mapping[str, str] | None = None,
    ):
        """`namespaces`: namespace → repository names; `private`: namespaces whose repositories are
        all private; `users`: username → password (or access token) that `/v2/auth/token` accepts."""
        self.namespaces = {name: list(repos) for name, repos in namespaces.items()}
        self.private = set(private)
        self.users = dict(users or {})
        self.tokens: set[str] = set()
        self.next_base: str | None = None
        """Where `next` points (another host in a test); this server's own URL when None."""
        self.retry_after = "60"
        super().__init__()

    def rate_limit(self, times: int, retry_after: int) -> None:
        with self._lock:
            self._limited, self.retry_after = times, str(retry_after)

    def answer(self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: Any) -> Answer:
        if method == "POST" and path == "/v2/auth/token":
            return self._login(body)
        match = self._LISTING.match(path)
        if method != "GET" or match is None:
            return 404, {}, {"message": "page not found"}
        if self._take_rate_limit():
            return 429, {"Retry-After": self.retry_after}, {"detail": "Rate limit exceeded"}
        authorization = headers.get("Authorization")
        signed_in = False
        if authorization is not None:
            if authorization.removeprefix("Bearer ") not in self.tokens:
                return 401, {}, {"detail": "Token is invalid or expired"}
            signed_in = True
        namespace = urllib.parse.unquote(match["namespace"])
        if namespace not in self.namespaces:
            return 404, {}, {"message": "object not found", "errinfo": {"namespace": namespace}}
        is_private = namespace in self.private
        visible = [] if is_private and not signed_in else sorted(self.namespaces[namespace])
        page, size = _page(query, "page_size", 10)
        chunk = visible[(page - 1) * size : page * size]
        base = self.next_base or self.url
        more = page * size < len(visible)
        listing = f"{base}/v2/namespaces/{namespace}/repositories?page_size={size}&page="
        document = {
            "count": len(visible),
            "next": f"{listing}{page + 1}" if more else None,
            "previous": f"{listing}{page - 1}" if page > 1 else None,
            "results": [
                {"name": name, "namespace": namespace, "is_private": is_private, "repository_type": "image"}
                for name in chunk
            ],
        }
        return 200, {"X-RateLimit-Limit": "180", "X-RateLimit-Remaining": "179"}, document

    def _login(self, body: Any) -> Answer:
        given = body if isinstance(body, dict) else {}
        user, secret = given.get("identifier"), given.get("secret")
        if not isinstance(user, str) or self.users.get(user) != secret:
            return 401, {}, {"detail": "Incorrect authentication credentials"}
        token = f"hub-{uuid.uuid4().hex}"
        self.tokens.add(token)
        return 200, {}, {"access_token": token}


class GitHubPackagesLookalike(_Lookalike):
    _LISTING = re.compile(r"^/(?P<kind>orgs|users)/(?P<owner>[^/]+)/packages$")

    def __init__(
        self,
        orgs: Mapping[str, Sequence[str]] | None = None,
        users: Mapping[str, Sequence[str]] | None = None,
        tokens: Iterable[str] = (),
    ):
        """`orgs` / `users`: owner → container package names; `tokens`: the tokens it accepts."""
        self.owners = {
            "orgs": {name: list(packages) for name, packages in (orgs or {}).items()},
            "users": {name: list(packages) for name, packages in (users or {}).items()},
        }
        self.tokens = set(tokens)
        self.reset_in = 600
        super().__init__()

    def rate_limit(self, times: int, reset_in: int) -> None:
        with self._lock:
            self._limited, self.reset_in = times, reset_in

    def answer(self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: Any) -> Answer:
        match = self._LISTING.match(path)
        if method != "GET" or match is None:
            return 404, {}, {"message": "Not Found"}
        authorization = headers.get("Authorization")
        if authorization is None:
            return 401, {}, {"message": "Requires authentication"}
        if authorization.removeprefix("Bearer ") not in self.tokens:
            return 401, {}, {"message": "Bad credentials"}
        if self._take_rate_limit():
            limit = {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(time.time()) + self.reset_in),
            }
            return 403, limit, {"message": "API rate limit exceeded for user ID 1."}
        owner = urllib.parse.unquote(match["owner"])
        packages = self.owners[match["kind"]].get(owner)
        if packages is None or query.get("package_type") != "container":
            return 404, {}, {"message": "Not Found"}
        page, size = _page(query, "per_page", 30)
        names = sorted(packages)
        chunk = names[(page - 1) * size : page * size]
        last = max(1, -(-len(names) // size))
        link = f"{self.url}{path}?package_type=container&per_page={size}&page="
        answer_headers = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999"}
        if page < last:
            answer_headers["Link"] = f'<{link}{page + 1}>; rel="next", <{link}{last}>; rel="last"'
        document = [
            {"id": index, "name": name, "package_type": "container", "visibility": "public"}
            for index, name in enumerate(chunk, start=(page - 1) * size + 1)
        ]
        return 200, answer_headers, document

"""moto's S3 server (the same WSGI app and request handler as `python -m moto.server`) with two
additions for the downloader's tests:

* fault injection and a request log (`tests.servers.faults`) as WSGI middleware;
* ranged GETs that read only the range. moto 5.2 reads the whole object for every ranged GET
  (`FakeKey.value`) and slices it afterwards: 256 reads of 2 GiB for one 2 GiB download in
  8 MiB parts, 10 such copies in memory at once. While a ranged GET is being answered, the
  object's value is a view that reads the requested slice from moto's own buffer instead.

Credentials: moto accepts any until told otherwise; `POST /moto-api/reset-auth` with body `0`
(moto's own switch for INITIAL_NO_AUTH_ACTION_COUNT) makes it check every request's access key
and signature against its IAM backend, as AWS does.

`python -m tests.servers.s3 --port N`
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from moto.moto_server.threaded_moto_server import MotoRequestHandler  # type: ignore[attr-defined]
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.s3.models import FakeKey
from moto.s3.responses import S3Response
from werkzeug.serving import run_simple

from tests.servers.faults import ADMIN_PREFIX, FaultState, Pacer, Rule

_ranged = threading.local()


class _KeySlices:
    """Stands for an object's bytes in a ranged GET: its length, and slices read on demand."""

    def __init__(self, key: FakeKey):
        self.key = key

    def __len__(self) -> int:
        return int(self.key.size)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __getitem__(self, item: slice) -> bytes:
        start, stop, _ = item.indices(len(self))
        with self.key.lock:
            self.key._value_buffer.seek(start)
            data: bytes = self.key._value_buffer.read(max(0, stop - start))
        return data

    def to_bytes(self) -> bytes:
        return self[0 : len(self)]


def _patch_ranged_gets() -> None:
    original_value = FakeKey.value
    original_key_response = S3Response.key_response

    def value(self: FakeKey) -> Any:
        if getattr(_ranged, "active", False):
            return _KeySlices(self)
        return original_value.fget(self)  # type: ignore[attr-defined]

    def key_response(self: S3Response, request: Any, full_url: str, headers: Any) -> Any:
        ranged = request.method == "GET" and bool(request.headers.get("range"))
        _ranged.active = ranged
        try:
            status, response_headers, body = original_key_response(self, request, full_url, headers)
        finally:
            _ranged.active = False
        if isinstance(body, _KeySlices):  # a Range moto ignored: answer the whole object
            body = body.to_bytes()
        return status, response_headers, body

    FakeKey.value = property(value, original_value.fset)  # type: ignore[method-assign,assignment,attr-defined]
    S3Response.key_response = key_response  # type: ignore[method-assign]


class FaultMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]], state: FaultState):
        self.app = app
        self.state = state

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(ADMIN_PREFIX):
            return self._admin(environ, start_response, path)
        record, rule = self.state.begin(
            environ["REQUEST_METHOD"], path, environ.get("HTTP_USER_AGENT", ""), environ.get("HTTP_RANGE")
        )
        if rule is not None and rule.action == "fail":
            record.status = rule.status
            start_response(f"{rule.status} Injected", [("Content-Type", "text/plain")])
            return [b"injected failure"]

        def recording_start_response(status: str, headers: Any, *args: Any) -> Any:
            record.status = int(status.split()[0])
            return start_response(status, headers, *args)

        body = self.app(environ, recording_start_response)
        return self._paced(body, record, Pacer(rule))

    @staticmethod
    def _paced(body: Iterable[bytes], record: Any, pacer: Pacer) -> Iterator[bytes]:
        try:
            for block in body:
                view = memoryview(block)
                while view:
                    size = pacer.allowance(len(view))
                    if size == 0:
                        time.sleep(3600)  # stalled: the client gives up first
                        continue
                    yield bytes(view[:size])
                    record.bytes_sent += size
                    view = view[size:]
                    delay = pacer.delay(size)
                    if delay:
                        time.sleep(delay)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    def _admin(self, environ: dict[str, Any], start_response: Callable[..., Any], path: str) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        answer: object = {"status": "ok"}
        if path == f"{ADMIN_PREFIX}faults" and method == "PUT":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            rules = [Rule.model_validate(r) for r in json.loads(environ["wsgi.input"].read(length))]
            self.state.set_rules(rules)
        elif path == f"{ADMIN_PREFIX}requests":
            answer = self.state.snapshot()
        elif path == f"{ADMIN_PREFIX}reset" and method == "POST":
            self.state.reset()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(answer).encode()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    _patch_ranged_gets()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        FaultMiddleware(app, FaultState()),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()

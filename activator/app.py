"""The activator's HTTP server (edge layer): forwards, holds while there is no pod, reports demand."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

import anyio
import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.types import Receive, Scope, Send

from activator.routing import Demand, RouteError, parse_service, target

log = logging.getLogger("aim-activator")

# Headers of one connection, not of the request (RFC 9110 §7.6.1), and those httpx sets itself.
_NOT_FORWARDED = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


class ActivatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIM_ACTIVATOR_")

    host: str = "0.0.0.0"  # noqa: S104 - a Service in front of a pod
    port: int = 8080
    hold_seconds: float = 300.0
    """How long a request waits for the predictor's first pod before it is answered 503."""
    cluster_domain: str = "cluster.local"
    retry_ceiling_seconds: float = 1.0
    """The longest pause between two connection attempts while holding."""


def _forwardable(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _NOT_FORWARDED}


class _Relay(StreamingResponse):
    """The predictor's answer, streamed. However the response ends (done, failed, or cancelled when
    the client goes away mid-stream), the upstream is closed and the answer uncounted, once."""

    def __init__(self, upstream: httpx.Response, done: Callable[[], None], held: float) -> None:
        super().__init__(upstream.aiter_raw(), status_code=upstream.status_code)
        # Every header as the predictor sent it, repeated ones (Set-Cookie) kept apart.
        self.raw_headers = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in upstream.headers.multi_items()
            if k.lower() not in _NOT_FORWARDED
        ] + [(b"x-aim-activator-held-seconds", f"{held:.3f}".encode())]
        self._upstream = upstream
        self._done: Callable[[], None] | None = done

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self._upstream.aclose()
            if self._done is not None:
                self._done()
                self._done = None


def create_app(settings: ActivatorSettings, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    # No timeout on reading the answer: a completion may stream for minutes.
    # No connection cap: a held or streaming request must never wait for a pool slot (the hold
    # deadline would not apply to that wait).
    client = httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(None, connect=5.0),
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=100),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await client.aclose()

    app = FastAPI(title="aim-activator", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    demand = Demand.empty()
    app.state.demand = demand

    @app.get("/-/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/-/activation/{namespace}/{service}")
    async def activation(namespace: str, service: str) -> Response:
        try:
            key = parse_service(namespace, service)
        except RouteError as error:
            return JSONResponse({"error": str(error)}, status_code=404)
        return JSONResponse(demand.report(key))

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    async def forward(request: Request) -> Response:
        # The path as sent (percent-encoding kept): a decoded %2F or %3F would change the URL.
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        try:
            to = target(raw_path.decode("latin-1"), request.url.query, settings.cluster_domain)
        except RouteError as error:
            return JSONResponse({"error": {"message": str(error), "type": "not_found_error"}}, status_code=404)
        body = await request.body()
        headers = _forwardable(request.headers)
        if not any(k.lower() == "accept-encoding" for k in headers):
            headers["accept-encoding"] = "identity"  # relayed raw: no encoding the client did not ask for
        outgoing = client.build_request(request.method, to.url, headers=headers, content=body)
        held_since = time.monotonic()
        deadline = held_since + settings.hold_seconds
        pause = 0.05
        demand.held[to.key] += 1
        try:
            while True:
                try:
                    upstream = await client.send(outgoing, stream=True)
                    break
                except (httpx.ConnectError, httpx.ConnectTimeout):
                    # No ready pod behind the predictor's Service (kube-proxy refuses the
                    # connection): the request never reached a server, so trying again is safe.
                    if await request.is_disconnected():  # nobody waits for the answer any more
                        return Response(status_code=499)
                    if time.monotonic() >= deadline:
                        message = (
                            f"{to.namespace}/{to.service}: no predictor pod answered within "
                            f"{settings.hold_seconds:.0f} s (is the service scaled from zero by KEDA?)"
                        )
                        log.warning(message)
                        return JSONResponse({"error": {"message": message, "type": "unavailable"}}, status_code=503)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, settings.retry_ceiling_seconds)
        finally:
            demand.held[to.key] -= 1
        held = time.monotonic() - held_since
        if held > 1:
            log.info("%s/%s: held %.1f s until a predictor pod answered", to.namespace, to.service, held)
        demand.answering[to.key] += 1
        return _Relay(upstream, lambda: demand.answering.subtract([to.key]), held)

    return app

"""The activator's HTTP server (edge layer): forwards, holds while there is no pod, reports demand."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic_settings import BaseSettings, SettingsConfigDict

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


def create_app(settings: ActivatorSettings, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    # No timeout on reading the answer: a completion may stream for minutes.
    client = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(None, connect=5.0))

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
        try:
            to = target(request.url.path, request.url.query, settings.cluster_domain)
        except RouteError as error:
            return JSONResponse({"error": {"message": str(error), "type": "not_found_error"}}, status_code=404)
        body = await request.body()
        outgoing = client.build_request(request.method, to.url, headers=_forwardable(request.headers), content=body)
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

        async def relay() -> AsyncIterator[bytes]:
            try:
                async for chunk in upstream.aiter_raw():
                    yield chunk
            finally:
                await upstream.aclose()
                demand.answering[to.key] -= 1

        headers = _forwardable(upstream.headers)
        headers["x-aim-activator-held-seconds"] = f"{held:.3f}"
        return StreamingResponse(relay(), status_code=upstream.status_code, headers=headers)

    return app

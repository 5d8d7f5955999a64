"""The activator's server with its upstream replaced by a transport that refuses connections until
the "pod" is up (what kube-proxy does for a Service without endpoints). The real predictor, KEDA
and kube-proxy are in tests/realnode/test_data_plane.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest

from activator.app import ActivatorSettings, create_app


class PodComingUp(httpx.AsyncBaseTransport):
    """Refuses the first `refusals` connections, then answers with what it was asked, streamed."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.refusals > 0:
            self.refusals -= 1
            raise httpx.ConnectError("connection refused", request=request)
        self.requests.append(request)
        body = json.dumps({"url": str(request.url), "body": (await request.aread()).decode()}).encode()
        return httpx.Response(200, headers={"content-type": "application/json"}, stream=httpx.ByteStream(body))


def client(upstream: httpx.AsyncBaseTransport, **settings: float) -> httpx.AsyncClient:
    app = create_app(ActivatorSettings(retry_ceiling_seconds=0.01, **settings), transport=upstream)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://activator")


@pytest.mark.asyncio
async def test_a_request_is_held_until_the_pod_answers_and_counted_meanwhile() -> None:
    upstream = PodComingUp(refusals=30)
    async with client(upstream) as activator:
        asking = asyncio.create_task(activator.post("/team/chat/v1/chat/completions", json={"messages": []}))
        await asyncio.sleep(0.05)
        held = (await activator.get("/-/activation/team/chat")).json()
        assert (held["value"], held["held"]) == (1, 1)
        answer = await asking
        assert answer.status_code == 200
        assert answer.json()["body"] == '{"messages":[]}'
        assert answer.json()["url"].endswith(".team.svc.cluster.local/v1/chat/completions")
        assert float(answer.headers["x-aim-activator-held-seconds"]) > 0
        assert (await activator.get("/-/activation/team/chat")).json()["value"] == 0
    [forwarded] = upstream.requests
    assert forwarded.headers["host"].endswith(".team.svc.cluster.local"), "the predictor's, not the activator's"


@pytest.mark.asyncio
async def test_a_pod_that_never_comes_is_a_503_naming_the_service() -> None:
    async with client(PodComingUp(refusals=10**6), hold_seconds=0.2) as activator:
        answer = await activator.get("/team/chat/v1/models")
        assert answer.status_code == 503
        assert "team/chat: no predictor pod answered within 0 s" in answer.json()["error"]["message"]
        assert (await activator.get("/-/activation/team/chat")).json()["value"] == 0


@pytest.mark.asyncio
async def test_a_path_naming_no_service_is_a_404_that_says_why() -> None:
    async with client(PodComingUp(refusals=0)) as activator:
        answer = await activator.get("/Team/chat/v1/models")
        assert answer.status_code == 404
        assert "namespace 'Team' is not a valid name" in answer.json()["error"]["message"]
        assert (await activator.get("/-/activation/team/Chat")).status_code == 404
        assert (await activator.get("/-/healthz")).json() == {"status": "ok"}


@pytest.mark.asyncio
async def test_the_path_goes_on_as_sent_and_repeated_headers_come_back_apart() -> None:
    class Cookies(PodComingUp):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            headers = [("set-cookie", "a=1"), ("set-cookie", "b=2"), ("connection", "close")]
            return httpx.Response(200, headers=headers, stream=httpx.ByteStream(b"{}"))

    upstream = Cookies(refusals=0)
    async with client(upstream) as activator:
        answer = await activator.get("/team/chat/v1/files/a%2Fb%23c")
    assert upstream.requests[0].url.raw_path == b"/v1/files/a%2Fb%23c"
    assert answer.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert "connection" not in answer.headers or answer.headers["connection"] != "close"


@pytest.mark.asyncio
async def test_a_client_that_leaves_while_held_is_no_longer_counted() -> None:
    app = create_app(ActivatorSettings(retry_ceiling_seconds=0.01), transport=PodComingUp(refusals=10**6))
    sent: list[MutableMapping[str, Any]] = []
    asked = False

    async def receive() -> dict[str, object]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"{}", "more_body": False}
        return {"type": "http.disconnect"}  # the client is gone: uvicorn queues this at once

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/team/chat/v1/chat/completions",
        "raw_path": b"/team/chat/v1/chat/completions",
        "query_string": b"",
        "headers": [(b"host", b"activator")],
        "server": ("activator", 80),
        "client": ("127.0.0.1", 1),
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=5)
    assert sent[0]["status"] == 499
    assert app.state.demand.value(("team", "chat")) == 0

"""The FastAPI application factory: routers, health, metrics. No business rule lives here."""

from __future__ import annotations

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from webhooks.lookups import ReferenceChecker
from webhooks.metrics import WebhookMetrics
from webhooks.routes import admission, convert


def create_app(references: ReferenceChecker | None = None) -> FastAPI:
    """`references` checks that named objects exist (warnings only); None turns the check off."""
    app = FastAPI(title="AIM Engine webhooks", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.metrics = WebhookMetrics()
    app.state.references = references
    app.include_router(convert.router)
    app.include_router(admission.router)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app

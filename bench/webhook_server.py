"""The production webhook server plus one constant-answer endpoint, the benchmark's baseline.

`POST /baseline` reads the request body like the real endpoints and answers pre-encoded bytes:
what is left is the cost of TLS, HTTP and the framework, so real endpoint minus baseline is ours.
"""

from __future__ import annotations

import sys

from fastapi import Request, Response

from webhooks.__main__ import serve
from webhooks.app import create_app
from webhooks.settings import WebhookSettings

CONSTANT_ANSWER = (
    b'{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",'
    b'"response":{"uid":"00000000-0000-0000-0000-000000000000","allowed":true}}'
)


def main() -> int:
    app = create_app(references=None)

    @app.post("/baseline")
    async def baseline(request: Request) -> Response:
        await request.body()
        return Response(CONSTANT_ANSWER, media_type="application/json")

    serve(app, WebhookSettings(host="127.0.0.1", log_level="warning"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

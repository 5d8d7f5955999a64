"""`python -m webhooks`: serve the admission and conversion webhooks over TLS with uvicorn."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from webhooks.app import create_app
from webhooks.lookups import ReferenceChecker, kubernetes_exists
from webhooks.settings import WebhookSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--cert-file", type=Path)
    parser.add_argument("--key-file", type=Path)
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in vars(args).items() if v is not None}
    settings = WebhookSettings(**overrides)
    references = ReferenceChecker(kubernetes_exists()) if settings.check_references else None
    uvicorn.run(
        create_app(references),
        host=settings.host,
        port=settings.port,
        ssl_certfile=str(settings.cert_file),
        ssl_keyfile=str(settings.key_file),
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

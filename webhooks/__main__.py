"""`python -m webhooks`: serve the admission and conversion webhooks over TLS with uvicorn."""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from certs.rotation import load_authority, needs_renewal, renew_serving_certificate
from webhooks.app import create_app
from webhooks.lookups import ReferenceChecker, kubernetes_exists
from webhooks.settings import WebhookSettings
from webhooks.tls import CertificateReloader, Renewal


def serve(app: FastAPI, settings: WebhookSettings) -> None:
    """Serve `app` over TLS on one uvicorn worker, renewing and reloading the certificate as configured."""
    renewal = None
    if settings.ca_cert_file and settings.ca_key_file:
        renewal = Renewal(
            settings.ca_cert_file,
            settings.ca_key_file,
            settings.cert_dns_names,
            settings.cert_ip_addresses,
            dt.timedelta(hours=settings.cert_validity_hours),
            dt.timedelta(hours=settings.cert_renew_before_hours),
        )
        if needs_renewal(settings.cert_file, renewal.renew_before):
            renew_serving_certificate(
                load_authority(renewal.ca_cert, renewal.ca_key),
                settings.cert_file,
                settings.key_file,
                renewal.dns_names,
                renewal.ip_addresses,
                renewal.validity,
            )
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ssl_certfile=str(settings.cert_file),
        ssl_keyfile=str(settings.key_file),
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
        loop="uvloop",
        http="httptools",
    )
    config.load()  # builds the SSL context the reloader updates in place
    assert config.ssl is not None
    CertificateReloader(config.ssl, settings.cert_file, settings.key_file, renewal).run_in_background(
        settings.cert_reload_interval
    )
    # Everything allocated so far (modules, app, schemas) lives as long as the process: freezing
    # it keeps the collector's full passes from re-scanning it, which otherwise paused a
    # 500-object conversion for ~60 ms now and then (docs/performance.md).
    gc.freeze()
    uvicorn.Server(config).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--cert-file", type=Path)
    parser.add_argument("--key-file", type=Path)
    parser.add_argument("--ca-cert-file", type=Path, help="with --ca-key-file: renew the certificate from this CA")
    parser.add_argument("--ca-key-file", type=Path)
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in vars(args).items() if v is not None}
    settings = WebhookSettings(**overrides)
    references = ReferenceChecker(kubernetes_exists()) if settings.check_references else None
    serve(create_app(references), settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())

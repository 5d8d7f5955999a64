"""`python -m webhooks`: serve the admission and conversion webhooks over TLS with uvicorn."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import uvicorn

from certs.rotation import load_authority, needs_renewal, renew_serving_certificate
from webhooks.app import create_app
from webhooks.lookups import ReferenceChecker, kubernetes_exists
from webhooks.settings import WebhookSettings
from webhooks.tls import CertificateReloader, Renewal


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
        create_app(references),
        host=settings.host,
        port=settings.port,
        ssl_certfile=str(settings.cert_file),
        ssl_keyfile=str(settings.key_file),
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
    )
    config.load()  # builds the SSL context the reloader updates in place
    assert config.ssl is not None
    CertificateReloader(config.ssl, settings.cert_file, settings.key_file, renewal).run_in_background(
        settings.cert_reload_interval
    )
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

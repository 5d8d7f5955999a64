"""Hot reload (and, when given the CA, renewal) of the webhook's serving certificate.

The serving context is never modified: loading a pair into a live context leaves it without a key
for a moment (and for good if the pair does not match), failing handshakes. Instead each reload
copies the files once (a consistent snapshot), builds a fresh context from them, and only if that
succeeds makes it current; the serving context's SNI callback, which OpenSSL calls for every
ClientHello (with or without a server name), hands each new connection the current context.
Connections already open keep theirs, so nothing in flight is lost and the process never restarts.
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from certs.rotation import load_authority, needs_renewal, renew_serving_certificate

log = logging.getLogger(__name__)


@dataclass
class Renewal:
    ca_cert: Path
    ca_key: Path
    dns_names: list[str]
    ip_addresses: list[str]
    validity: dt.timedelta
    renew_before: dt.timedelta


class CertificateReloader:
    def __init__(self, context: ssl.SSLContext, cert_file: Path, key_file: Path, renewal: Renewal | None = None):
        self._cert_file = cert_file
        self._key_file = key_file
        self._renewal = renewal
        self._current = context
        self._loaded = self._fingerprint()
        self._stop = threading.Event()
        self.reloads = 0
        context.sni_callback = self._select_context

    def _select_context(self, connection: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
        if connection.context is not self._current:
            connection.context = self._current

    def _fingerprint(self) -> tuple[float, float]:
        return (self._cert_file.stat().st_mtime, self._key_file.stat().st_mtime)

    def check(self) -> None:
        if self._renewal and needs_renewal(self._cert_file, self._renewal.renew_before):
            renewal = self._renewal
            authority = load_authority(renewal.ca_cert, renewal.ca_key)
            issued = renew_serving_certificate(
                authority, self._cert_file, self._key_file, renewal.dns_names, renewal.ip_addresses, renewal.validity
            )
            log.info("Renewed the serving certificate, valid until %s", issued.not_after.isoformat())
        fingerprint = self._fingerprint()
        if fingerprint == self._loaded:
            return
        try:
            self._current = self._fresh_context()
        except (ssl.SSLError, OSError) as error:  # caught mid-rotation: keep the old pair, retry
            log.warning("Could not load the new serving certificate yet: %s", error)
            return
        self._loaded = fingerprint
        self.reloads += 1
        log.info("Loaded the serving certificate from %s", self._cert_file)

    def _fresh_context(self) -> ssl.SSLContext:
        with tempfile.TemporaryDirectory(prefix="aim-tls-") as scratch:
            cert, key = Path(scratch) / "tls.crt", Path(scratch) / "tls.key"
            cert.write_bytes(self._cert_file.read_bytes())
            key.write_bytes(self._key_file.read_bytes())
            key.chmod(0o600)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)  # raises on a torn or mismatched pair
        context.sni_callback = self._select_context
        return context

    def run_in_background(self, interval: float) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.check()
                except Exception:  # never let a bad file stop the watcher
                    log.exception("Certificate check failed")

        threading.Thread(target=loop, name="cert-reloader", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

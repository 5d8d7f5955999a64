"""Renewal of the self-managed webhook certificate kept in a Secret."""

from __future__ import annotations

import base64
import datetime as dt
import threading
import time

import pytest
from cryptography import x509

from certs import new_certificate_authority
from controller.kube.certificates import CertificateKeeper
from controller.pipeline.certificates import renewed_secret_data

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
NAMES = ["aim-webhook.aim-system.svc", "aim-webhook.aim-system.svc.cluster.local"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def secret_data(issued_days_ago: float, validity_days: float = 90) -> dict[str, str]:
    ca = new_certificate_authority("test-ca")
    issued = ca.issue_server(
        NAMES[0], NAMES, [], dt.timedelta(days=validity_days), now=NOW - dt.timedelta(days=issued_days_ago)
    )
    return {
        "ca.crt": b64(ca.cert_pem),
        "ca.key": b64(ca.certificate.key_pem),
        "tls.crt": b64(issued.cert_pem),
        "tls.key": b64(issued.key_pem),
    }


@pytest.mark.parametrize(
    ("issued_days_ago", "renewed"),
    [(1, False), (59, False), (61, True), (120, True)],
    ids=["fresh", "two-thirds-minus", "last-third", "expired"],
)
def test_renewal_in_the_last_third(issued_days_ago: float, renewed: bool) -> None:
    data = secret_data(issued_days_ago)
    result = renewed_secret_data(data, NOW)
    assert (result is not None) == renewed
    if result is None:
        return
    assert result["ca.crt"] == data["ca.crt"]  # same CA: caBundles keep matching
    cert = x509.load_pem_x509_certificate(base64.b64decode(result["tls.crt"]))
    assert cert.not_valid_after_utc - NOW > dt.timedelta(days=89)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == NAMES
    ca = x509.load_pem_x509_certificate(base64.b64decode(data["ca.crt"]))
    cert.verify_directly_issued_by(ca)


def test_a_secret_without_the_ca_key_is_not_ours() -> None:
    data = secret_data(120)
    del data["ca.key"]
    assert renewed_secret_data(data, NOW) is None


class CountingKeeper(CertificateKeeper):
    def __init__(self) -> None:
        self.checks = threading.Semaphore(0)

    def check_once(self, now: dt.datetime | None = None) -> bool:
        self.checks.release()
        return False


def test_the_keeper_checks_as_soon_as_it_leads_and_again_after_each_election() -> None:
    keeper, leading, stop = CountingKeeper(), threading.Event(), threading.Event()
    thread = threading.Thread(target=keeper.run, args=(leading, stop, 3600.0, 0.01))
    thread.start()
    try:
        assert not keeper.checks.acquire(timeout=0.1)  # a follower never writes the Secret
        leading.set()
        assert keeper.checks.acquire(timeout=2)  # at once, not after the hour
        assert not keeper.checks.acquire(timeout=0.1)  # then only every period
        leading.clear()
        time.sleep(0.05)
        leading.set()
        assert keeper.checks.acquire(timeout=2)  # leading again: checked again at once
    finally:
        stop.set()
        thread.join(timeout=2)

"""The certificate authority issues what kube-apiserver and TLS clients accept."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from certs import new_certificate_authority, new_signing_key_pem, public_key_pem


@pytest.fixture(scope="module")
def ca():  # type: ignore[no-untyped-def]
    return new_certificate_authority("test-ca")


def test_server_certificate_has_sans_and_verifies_against_the_ca(ca) -> None:  # type: ignore[no-untyped-def]
    issued = ca.issue_server("webhook", ["aim-webhook.aim-system.svc", "localhost"], ["127.0.0.1"])
    cert = x509.load_pem_x509_certificate(issued.cert_pem)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["aim-webhook.aim-system.svc", "localhost"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH]
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    cert.verify_directly_issued_by(ca_cert)


def test_client_certificate_carries_user_and_groups(ca) -> None:  # type: ignore[no-untyped-def]
    cert = x509.load_pem_x509_certificate(ca.issue_client("admin", ["system:masters"]).cert_pem)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "admin"
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["system:masters"]


def test_validity_is_backdated_and_bounded(ca) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    issued = ca.issue_server("x", ["x"], [], validity=dt.timedelta(days=1), now=now)
    cert = x509.load_pem_x509_certificate(issued.cert_pem)
    assert cert.not_valid_before_utc < now
    assert issued.not_after == now + dt.timedelta(days=1)


def test_signing_key_round_trips_to_its_public_key() -> None:
    private = new_signing_key_pem()
    assert public_key_pem(private).startswith(b"-----BEGIN PUBLIC KEY-----")
    assert isinstance(
        __import__("cryptography.hazmat.primitives.serialization", fromlist=["x"]).load_pem_public_key(
            public_key_pem(private)
        ),
        ec.EllipticCurvePublicKey,
    )

"""A small X.509 certificate authority built on `cryptography`.

Keys are ECDSA P-256: fast to generate (the test harness mints several per session) and
accepted by kube-apiserver, etcd, uvicorn and the Python ssl module alike.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_VALIDITY = dt.timedelta(days=365)
# Backdating the start absorbs clock skew between the minting process and whoever verifies;
# the validity still counts from the moment of issue.
_BACKDATE = dt.timedelta(minutes=5)


def _private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def new_signing_key_pem() -> bytes:
    """A fresh private key in PEM, e.g. for signing service-account tokens."""
    return _private_key_pem(ec.generate_private_key(ec.SECP256R1()))


def public_key_pem(private_key_pem: bytes) -> bytes:
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class IssuedCertificate:
    cert_pem: bytes
    key_pem: bytes

    @property
    def not_after(self) -> dt.datetime:
        return x509.load_pem_x509_certificate(self.cert_pem).not_valid_after_utc

    def write(self, cert_path: Path, key_path: Path) -> None:
        """Write both files; the key is created readable by its owner only."""
        cert_path.write_bytes(self.cert_pem)
        key_path.touch(mode=0o600, exist_ok=True)
        key_path.chmod(0o600)
        key_path.write_bytes(self.key_pem)


@dataclass(frozen=True)
class CertificateAuthority:
    certificate: IssuedCertificate

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.cert_pem

    def _sign(
        self,
        subject: x509.Name,
        extended_usages: list[x509.ObjectIdentifier],
        dns_names: list[str],
        ip_addresses: list[str],
        validity: dt.timedelta,
        now: dt.datetime | None,
    ) -> IssuedCertificate:
        ca_cert = x509.load_pem_x509_certificate(self.certificate.cert_pem)
        ca_key = serialization.load_pem_private_key(self.certificate.key_pem, password=None)
        # Our CAs use P-256; Helm's genCA (the chart's self-managed CA) makes RSA keys.
        if not isinstance(ca_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise TypeError(f"unsupported CA key type {type(ca_key).__name__}")
        key = ec.generate_private_key(ec.SECP256R1())
        issued_at = now or dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(issued_at - _BACKDATE)
            .not_valid_after(issued_at + validity)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_encipherment=False,
                    content_commitment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(extended_usages), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        )
        alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
        alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
        if alt_names:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        return IssuedCertificate(cert.public_bytes(serialization.Encoding.PEM), _private_key_pem(key))

    def issue_server(
        self,
        common_name: str,
        dns_names: list[str],
        ip_addresses: list[str],
        validity: dt.timedelta = DEFAULT_VALIDITY,
        now: dt.datetime | None = None,
        *,
        also_client: bool = False,
    ) -> IssuedCertificate:
        """A TLS serving certificate; clients check `dns_names`/`ip_addresses` (SANs), not the CN.
        `also_client`: usable as a client certificate too (peers that present one certificate in
        both roles, as KEDA's operator and adapter do over gRPC)."""
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        usages = [ExtendedKeyUsageOID.SERVER_AUTH] + ([ExtendedKeyUsageOID.CLIENT_AUTH] if also_client else [])
        return self._sign(subject, usages, dns_names, ip_addresses, validity, now)

    def issue_client(
        self,
        user: str,
        groups: list[str],
        validity: dt.timedelta = DEFAULT_VALIDITY,
        now: dt.datetime | None = None,
    ) -> IssuedCertificate:
        """A client certificate as kube-apiserver reads it: CN is the user, each O a group."""
        attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, user))
        return self._sign(x509.Name(attributes), [ExtendedKeyUsageOID.CLIENT_AUTH], [], [], validity, now)


def new_certificate_authority(
    common_name: str, validity: dt.timedelta = DEFAULT_VALIDITY * 10, now: dt.datetime | None = None
) -> CertificateAuthority:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    issued_at = now or dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(issued_at - _BACKDATE)
        .not_valid_after(issued_at + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(IssuedCertificate(cert.public_bytes(serialization.Encoding.PEM), _private_key_pem(key)))

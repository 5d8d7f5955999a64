"""Serving-certificate renewal on disk (edge layer: file I/O).

Files are replaced atomically (write a temporary file, then rename), key first: a reader that
catches the pair mid-rotation sees a key that does not match the certificate, fails to load it,
and keeps serving the previous pair until the next check.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from cryptography import x509

from certs.authority import CertificateAuthority, IssuedCertificate


def load_authority(cert_path: Path, key_path: Path) -> CertificateAuthority:
    return CertificateAuthority(IssuedCertificate(cert_path.read_bytes(), key_path.read_bytes()))


def expires_at(cert_path: Path) -> dt.datetime:
    return x509.load_pem_x509_certificate(cert_path.read_bytes()).not_valid_after_utc


def needs_renewal(cert_path: Path, renew_before: dt.timedelta, now: dt.datetime | None = None) -> bool:
    if not cert_path.exists():
        return True
    return expires_at(cert_path) - renew_before <= (now or dt.datetime.now(dt.UTC))


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
    finally:
        os.close(fd)
    Path(tmp).replace(path)


def renew_serving_certificate(
    authority: CertificateAuthority,
    cert_path: Path,
    key_path: Path,
    dns_names: list[str],
    ip_addresses: list[str],
    validity: dt.timedelta,
) -> IssuedCertificate:
    issued = authority.issue_server(dns_names[0] if dns_names else "aim-webhooks", dns_names, ip_addresses, validity)
    _atomic_write(key_path, issued.key_pem, 0o600)
    _atomic_write(cert_path, issued.cert_pem, 0o644)
    return issued

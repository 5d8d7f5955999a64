"""Certificate authority and certificate minting (edge layer: file I/O only in `write_*`).

Used by the local control plane (apiserver serving cert, admin client cert, service-account
signing key) and by the webhook service (serving cert whose CA goes into caBundle).
"""

from certs.authority import (
    CertificateAuthority,
    IssuedCertificate,
    new_certificate_authority,
    new_signing_key_pem,
    public_key_pem,
)

__all__ = [
    "CertificateAuthority",
    "IssuedCertificate",
    "new_certificate_authority",
    "new_signing_key_pem",
    "public_key_pem",
]

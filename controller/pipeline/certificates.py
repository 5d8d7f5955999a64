"""When and how to renew the webhook's serving certificate kept in a Secret (pure: Secret data in,
new data out). The CA stays: the caBundle in the webhook configurations and CRDs keeps matching,
and the webhook hot-reloads the new pair when the kubelet refreshes the mounted Secret.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress

from cryptography import x509

from certs.authority import CertificateAuthority, IssuedCertificate


def renewed_secret_data(
    data: dict[str, str], now: dt.datetime, renew_at_fraction_left: float = 1 / 3
) -> dict[str, str] | None:
    """New `tls.crt`/`tls.key` (base64, as in Secret data) once less than `renew_at_fraction_left`
    of the certificate's validity is left, else None. Names and validity length are kept."""
    if not all(data.get(k) for k in ("ca.crt", "ca.key", "tls.crt")):
        return None  # not a self-managed pair (cert-manager's has no CA key): not ours to renew
    current = x509.load_pem_x509_certificate(base64.b64decode(data["tls.crt"]))
    lifetime = current.not_valid_after_utc - current.not_valid_before_utc
    if current.not_valid_after_utc - now > lifetime * renew_at_fraction_left:
        return None
    try:
        names = current.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = names.get_values_for_type(x509.DNSName)
        ips = [
            str(ip)
            for ip in names.get_values_for_type(x509.IPAddress)
            if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address)
        ]
    except x509.ExtensionNotFound:
        dns_names, ips = [], []
    authority = CertificateAuthority(
        IssuedCertificate(base64.b64decode(data["ca.crt"]), base64.b64decode(data["ca.key"]))
    )
    common_name = dns_names[0] if dns_names else "aim-engine-webhook"
    issued = authority.issue_server(common_name, dns_names, ips, lifetime, now=now)
    return data | {
        "tls.crt": base64.b64encode(issued.cert_pem).decode(),
        "tls.key": base64.b64encode(issued.key_pem).decode(),
    }

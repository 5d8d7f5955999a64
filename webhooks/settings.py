"""The webhook service's configuration, read once from the environment (prefix AIM_WEBHOOK_)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIM_WEBHOOK_")

    host: str = "0.0.0.0"  # noqa: S104 - in a pod the Service routes to it; locally we pass 127.0.0.1
    port: int = 9443
    cert_file: Path = Path("/tmp/k8s-webhook-server/serving-certs/tls.crt")  # noqa: S108 - mounted Secret path
    key_file: Path = Path("/tmp/k8s-webhook-server/serving-certs/tls.key")  # noqa: S108
    log_level: str = "info"
    check_references: bool = True
    """Warn about references to objects that do not exist (reads the API server)."""
    cert_reload_interval: float = 10.0
    """Seconds between checks of the certificate files (a renewed Secret is picked up without restart)."""
    ca_cert_file: Path | None = None
    """With ca_key_file: renew the serving certificate from this CA before it expires (self-managed)."""
    ca_key_file: Path | None = None
    cert_dns_names: list[str] = ["localhost"]
    cert_ip_addresses: list[str] = ["127.0.0.1"]
    cert_validity_hours: float = 24 * 90
    cert_renew_before_hours: float = 24 * 30

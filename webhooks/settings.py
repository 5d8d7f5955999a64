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

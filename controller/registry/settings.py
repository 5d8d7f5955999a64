"""How the controller talks to registries, read once from the environment (prefix AIM_REGISTRY_)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "::1"]


class RegistrySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIM_REGISTRY_")

    plain_http_hosts: list[str] = LOOPBACK_HOSTS
    """Registries spoken to over plain HTTP instead of HTTPS: a host (any port) or host:port.
    Loopback only by default, as containerd does; e.g. '["localhost", "registry.lab:5000"]'."""
    ca_bundle: str | None = None
    """PEM file of CAs to verify registry certificates with, instead of the system's."""
    connect_timeout: float = 5.0
    """Seconds to establish a connection."""
    read_timeout: float = 30.0
    """Seconds to wait for each answer."""
    catalog_page_size: int = 1000
    """Repositories asked for per /v2/_catalog page."""
    max_repositories: int = 10000
    """Catalog listing stops after this many repositories (a source creates at most 10000 models)."""
    max_document_bytes: int = 4 * 1024 * 1024
    """Largest manifest or image config read; an image config is a few KiB, layers are never read."""
    user_agent: str = "aim-engine-controller"

    def uses_plain_http(self, registry: str) -> bool:
        host = registry.lower()
        if host in self.plain_http_hosts:
            return True
        if host.startswith("["):  # [::1]:5000
            return host[1:].split("]", 1)[0] in self.plain_http_hosts
        return host.rsplit(":", 1)[0] in self.plain_http_hosts if host.count(":") == 1 else False

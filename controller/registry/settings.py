"""How the controller talks to registries, read once from the environment (prefix AIM_REGISTRY_)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from controller.catalog.imageref import DOCKER_HUB, normalise_registry

DOCKER_HUB_API_HOST = "registry-1.docker.io"
"""The host that serves Docker Hub's registry API (docker.io itself only redirects)."""
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
    docker_hub_api_url: str = "https://hub.docker.com"
    """Docker Hub's own API (not its registry): lists a namespace's repositories for wildcard
    filters on docker.io. Tests point it at a look-alike on 127.0.0.1."""
    github_api_url: str = "https://api.github.com"
    """GitHub's REST API: lists an organisation's or user's container packages for wildcard filters
    on ghcr.io. Tests point it at a look-alike; GitHub Enterprise Server would be https://HOST/api/v3."""
    listing_page_size: int = 100
    """Repositories asked for per page of Docker Hub's and GitHub's listing APIs (at most 100)."""
    endpoints: dict[str, str] = {}
    """Registry → the `host[:port]` actually contacted for its OCI API (manifests, blobs, tags,
    catalog), as JSON, e.g. '{"docker.io": "127.0.0.1:5000"}'. Image references, model names,
    credentials lookups and messages keep the registry's own name; the registry's pull-secret
    credentials are sent to the endpoint. Meant for tests (a local registry standing in for
    docker.io or ghcr.io) and for a mirror that serves exactly the registry's repositories;
    empty by default."""

    def endpoint(self, registry: str) -> str:
        """The host[:port] to contact for a registry's OCI API."""
        host = normalise_registry(registry)
        mapped = {normalise_registry(key): value for key, value in self.endpoints.items()}
        if host in mapped:
            return mapped[host]
        return DOCKER_HUB_API_HOST if host == DOCKER_HUB else host

    def uses_plain_http(self, registry: str) -> bool:
        host = registry.lower()
        if host in self.plain_http_hosts:
            return True
        if host.startswith("["):  # [::1]:5000
            return host[1:].split("]", 1)[0] in self.plain_http_hosts
        return host.rsplit(":", 1)[0] in self.plain_http_hosts if host.count(":") == 1 else False

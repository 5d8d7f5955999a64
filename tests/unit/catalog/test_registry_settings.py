"""Which registries are spoken to over plain HTTP."""

from __future__ import annotations

import pytest

from controller.registry import RegistrySettings


@pytest.mark.parametrize(
    ("registry", "plain"),
    [
        ("127.0.0.1:5000", True),
        ("localhost", True),
        ("LOCALHOST:80", True),
        ("[::1]:5000", True),
        ("registry.lab:5000", True),
        ("registry.lab", False),
        ("registry.lab:5001", False),
        ("docker.io", False),
        ("127.0.0.2:5000", False),
    ],
    ids=[
        "loopback-any-port",
        "localhost",
        "case",
        "ipv6-loopback",
        "listed-host-port",
        "other-port-implied",
        "other-port",
        "docker-hub",
        "other-address",
    ],
)
def test_uses_plain_http(registry: str, plain: bool) -> None:
    settings = RegistrySettings(plain_http_hosts=["localhost", "127.0.0.1", "::1", "registry.lab:5000"])
    assert settings.uses_plain_http(registry) is plain


def test_plain_http_hosts_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIM_REGISTRY_PLAIN_HTTP_HOSTS", '["mirror.internal"]')
    settings = RegistrySettings()
    assert settings.uses_plain_http("mirror.internal:8080")
    assert not settings.uses_plain_http("127.0.0.1:5000")


@pytest.mark.parametrize(
    ("registry", "endpoint"),
    [
        ("docker.io", "127.0.0.1:5000"),
        ("registry-1.docker.io", "127.0.0.1:5000"),
        ("ghcr.io", "mirror.lab:5001"),
        ("quay.io", "quay.io"),
    ],
    ids=["docker-hub-mapped", "alias-of-a-mapped-registry", "mapped-by-any-case", "unmapped"],
)
def test_endpoints_map_a_registry_to_another_host(registry: str, endpoint: str) -> None:
    settings = RegistrySettings(endpoints={"index.docker.io": "127.0.0.1:5000", "GHCR.io": "mirror.lab:5001"})
    assert settings.endpoint(registry) == endpoint


def test_docker_hub_is_served_by_registry_1_unless_mapped(monkeypatch: pytest.MonkeyPatch) -> None:
    assert RegistrySettings().endpoint("docker.io") == "registry-1.docker.io"
    monkeypatch.setenv("AIM_REGISTRY_ENDPOINTS", '{"docker.io": "127.0.0.1:5000"}')
    monkeypatch.setenv("AIM_REGISTRY_DOCKER_HUB_API_URL", "http://127.0.0.1:8000")
    settings = RegistrySettings()
    assert (settings.endpoint("docker.io"), settings.docker_hub_api_url) == ("127.0.0.1:5000", "http://127.0.0.1:8000")

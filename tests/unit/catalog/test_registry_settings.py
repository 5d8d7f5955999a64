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

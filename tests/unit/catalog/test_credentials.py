"""Pull secrets → credentials for one registry."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from controller.catalog.credentials import credentials_for_registry, registry_key


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def dockerconfigjson(name: str, auths: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": b64(json.dumps({"auths": auths}))},
    }


def dockercfg(name: str, auths: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "type": "kubernetes.io/dockercfg",
        "data": {".dockercfg": b64(json.dumps(auths))},
    }


@pytest.mark.parametrize(
    ("key", "host"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("docker.io", "docker.io"),
        ("ghcr.io", "ghcr.io"),
        ("http://127.0.0.1:5000", "127.0.0.1:5000"),
        ("Registry.Example.com:443/v2/", "registry.example.com:443"),
    ],
    ids=["docker-v1-url", "docker-api-host", "docker-io", "plain-host", "http-url-with-port", "mixed-case-with-path"],
)
def test_registry_key(key: str, host: str) -> None:
    assert registry_key(key) == host


@pytest.mark.parametrize(
    ("secrets", "registry", "found", "source"),
    [
        ([dockerconfigjson("a", {"ghcr.io": {"auth": b64("u:p")}})], "ghcr.io", ("u", "p"), "a"),
        ([dockerconfigjson("a", {"https://index.docker.io/v1/": {"auth": b64("u:p")}})], "docker.io", ("u", "p"), "a"),
        ([dockerconfigjson("a", {"docker.io": {"auth": b64("u:p")}})], "index.docker.io", ("u", "p"), "a"),
        ([dockerconfigjson("a", {"r.io:5000": {"username": "u", "password": "p:q"}})], "r.io:5000", ("u", "p:q"), "a"),
        ([dockerconfigjson("a", {"r.io": {"auth": b64("u:p:with:colons")}})], "r.io", ("u", "p:with:colons"), "a"),
        (
            [dockerconfigjson("a", {"r.io": {"auth": b64("from-auth:1"), "username": "x", "password": "y"}})],
            "r.io",
            ("from-auth", "1"),
            "a",
        ),
        ([dockercfg("old", {"https://r.io": {"auth": b64("u:p")}})], "r.io", ("u", "p"), "old"),
        (
            [
                dockerconfigjson("a", {"other.io": {"auth": b64("x:y")}}),
                dockerconfigjson("b", {"r.io": {"auth": b64("u:p")}}),
            ],
            "r.io",
            ("u", "p"),
            "b",
        ),
        (
            [
                dockerconfigjson("a", {"r.io": {"auth": b64("first:1")}}),
                dockerconfigjson("b", {"r.io": {"auth": b64("second:2")}}),
            ],
            "r.io",
            ("first", "1"),
            "a",
        ),
        ([dockerconfigjson("a", {"r.io:5000": {"auth": b64("u:p")}})], "r.io", None, None),
        ([], "r.io", None, None),
    ],
    ids=[
        "host-key",
        "docker-hub-v1-url",
        "docker-hub-alias",
        "username-password-fields",
        "password-with-colons",
        "auth-wins-over-fields",
        "legacy-dockercfg",
        "second-secret-matches",
        "first-secret-wins",
        "port-must-match",
        "no-secrets-is-anonymous",
    ],
)
def test_credentials_for_registry(
    secrets: list[dict[str, Any]], registry: str, found: tuple[str, str] | None, source: str | None
) -> None:
    lookup = credentials_for_registry(secrets, registry)
    assert lookup.problems == ()
    if found is None:
        assert lookup.credentials is None
    else:
        assert lookup.credentials is not None
        assert (lookup.credentials.username, lookup.credentials.password) == found
    assert lookup.source == source


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        (
            {"metadata": {"name": "s"}, "data": {"token": b64("x")}},
            'Secret "s" has neither .dockerconfigjson nor .dockercfg',
        ),
        (
            {"metadata": {"name": "s"}, "data": {".dockerconfigjson": "%%%"}},
            'Secret "s" is not a docker config (no "auths" map)',
        ),
        (
            {"metadata": {"name": "s"}, "data": {".dockerconfigjson": b64("[]")}},
            'Secret "s" is not a docker config (no "auths" map)',
        ),
        (
            dockerconfigjson("s", {"r.io": {"auth": "not-base64!"}}),
            'Secret "s": no username and password readable for r.io',
        ),
        (
            dockerconfigjson("s", {"r.io": {"auth": b64("no-colon")}}),
            'Secret "s": no username and password readable for r.io',
        ),
        (
            dockerconfigjson("s", {"r.io": {"identitytoken": "t"}}),
            'Secret "s": no username and password readable for r.io',
        ),
    ],
    ids=[
        "opaque-secret",
        "not-base64",
        "not-an-object",
        "auth-not-base64",
        "auth-without-colon",
        "identity-token-only",
    ],
)
def test_unreadable_secrets_are_reported_not_raised(secret: dict[str, Any], problem: str) -> None:
    lookup = credentials_for_registry([secret], "r.io")
    assert lookup.credentials is None
    assert lookup.problems == (problem,)


def test_password_never_in_repr() -> None:
    lookup = credentials_for_registry([dockerconfigjson("a", {"r.io": {"auth": b64("user:hunter2")}})], "r.io")
    assert "hunter2" not in repr(lookup)
    assert "hunter2" not in str(lookup.credentials)

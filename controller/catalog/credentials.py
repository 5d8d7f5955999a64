"""Image pull Secrets → the username and password for one registry, pure.

Reads what the kubelet reads: `kubernetes.io/dockerconfigjson` Secrets (`.dockerconfigjson`,
`{"auths": {...}}`) and the older `kubernetes.io/dockercfg` (`.dockercfg`, the auths map itself).
An entry's key may be `host`, `host:port` or a URL such as `https://index.docker.io/v1/`; the
credentials are `auth` (base64 of `user:password`) or `username` and `password`. Docker Hub's
hosts (docker.io, index.docker.io, registry-1.docker.io) are one registry.

Passwords never leave this module in text meant for people: `RegistryCredentials` hides the
password from repr, and problems name the Secret and the registry only.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from controller.catalog.imageref import normalise_registry

DOCKER_CONFIG_JSON_KEY = ".dockerconfigjson"
DOCKER_CFG_KEY = ".dockercfg"


@dataclass(frozen=True)
class RegistryCredentials:
    username: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"RegistryCredentials(username={self.username!r}, password=<hidden>)"


@dataclass(frozen=True)
class CredentialsLookup:
    """The credentials found for a registry (None → anonymous), and what was wrong on the way."""

    credentials: RegistryCredentials | None
    source: str | None = None
    """Name of the Secret the credentials came from."""
    problems: tuple[str, ...] = ()
    """Secrets that could not be read, in words fit for a condition message or an event."""


def registry_key(key: str) -> str:
    """An auths key as a registry host: scheme and path dropped, Docker Hub's aliases merged."""
    host = key.strip()
    for scheme in ("https://", "http://"):
        if host.lower().startswith(scheme):
            host = host[len(scheme) :]
            break
    return normalise_registry(host.split("/", 1)[0])


def secret_auths(secret: Mapping[str, Any]) -> tuple[dict[str, RegistryCredentials], str | None]:
    """All registry credentials in one Secret (as the API returns it, `data` base64-encoded),
    keyed by normalised host; or a problem when the Secret is not a usable docker config."""
    name = (secret.get("metadata") or {}).get("name", "")
    data = secret.get("data") or {}
    if DOCKER_CONFIG_JSON_KEY in data:
        config = _decode_json(data[DOCKER_CONFIG_JSON_KEY])
        auths = config.get("auths") if isinstance(config, dict) else None
    elif DOCKER_CFG_KEY in data:
        auths = _decode_json(data[DOCKER_CFG_KEY])
    else:
        return {}, f'Secret "{name}" has neither {DOCKER_CONFIG_JSON_KEY} nor {DOCKER_CFG_KEY}'
    if not isinstance(auths, dict):
        return {}, f'Secret "{name}" is not a docker config (no "auths" map)'
    found: dict[str, RegistryCredentials] = {}
    unreadable = []
    for key, entry in auths.items():
        credentials = _entry_credentials(entry)
        host = registry_key(str(key))
        if credentials is None:
            unreadable.append(host)
        # The first entry for a host wins, as in the kubelet's keyring.
        elif host not in found:
            found[host] = credentials
    if unreadable:
        hosts = ", ".join(sorted(set(unreadable)))
        return found, f'Secret "{name}": no username and password readable for {hosts}'
    return found, None


def credentials_for_registry(secrets: Sequence[Mapping[str, Any]], registry: str) -> CredentialsLookup:
    """The first of `secrets` (in imagePullSecrets order) with an entry for `registry`."""
    wanted = normalise_registry(registry)
    problems = []
    for secret in secrets:
        auths, problem = secret_auths(secret)
        if problem is not None:
            problems.append(problem)
        if wanted in auths:
            name = (secret.get("metadata") or {}).get("name")
            return CredentialsLookup(auths[wanted], source=name, problems=tuple(problems))
    return CredentialsLookup(None, problems=tuple(problems))


def _decode_json(value: Any) -> Any:
    try:
        return json.loads(base64.b64decode(str(value), validate=True))
    except (binascii.Error, ValueError):
        return None


def _entry_credentials(entry: Any) -> RegistryCredentials | None:
    """`auth` wins over `username`/`password` when both are there, as in Docker and the kubelet."""
    if not isinstance(entry, dict):
        return None
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            decoded = base64.b64decode(auth, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, colon, secret = decoded.partition(":")
        return RegistryCredentials(user, secret) if colon and user else None
    username, password = entry.get("username"), entry.get("password")
    if isinstance(username, str) and isinstance(password, str) and username:
        return RegistryCredentials(username, password)
    return None

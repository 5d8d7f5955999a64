"""Reading OCI / Docker manifests and image configs (pure: documents in, data out).

Which manifest of a multi-platform image to read: linux/amd64 (the platform AIM images serve
on), else the first entry that is an image and not an attestation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
ACCEPTED_MANIFESTS = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)
INDEXES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
PREFERRED_PLATFORM = ("linux", "amd64")
# buildx stores provenance/SBOM attestations as index entries with this annotation.
_REFERENCE_TYPE = "vnd.docker.reference.type"


class ManifestError(ValueError):
    """The document is not a manifest this client can read; the message says why."""


def media_type(manifest: Mapping[str, Any], content_type: str | None) -> str:
    """A manifest's media type: its own field, else the response's Content-Type, else by shape."""
    declared = manifest.get("mediaType")
    if isinstance(declared, str) and declared:
        return declared
    header = (content_type or "").split(";", 1)[0].strip()
    if header in ACCEPTED_MANIFESTS or header in DOCKER_SCHEMA1:
        return header
    if manifest.get("schemaVersion") == 1:
        return DOCKER_SCHEMA1[0]
    return OCI_INDEX if "manifests" in manifest else OCI_MANIFEST


def is_index(manifest: Mapping[str, Any], content_type: str | None) -> bool:
    return media_type(manifest, content_type) in INDEXES


def select_platform(manifests: Sequence[Mapping[str, Any]]) -> tuple[Mapping[str, Any], str | None]:
    """The index entry to read and its platform as `os/arch[/variant]` (None when unstated)."""
    images = [entry for entry in manifests if not _is_attestation(entry) and isinstance(entry.get("digest"), str)]
    if not images:
        raise ManifestError("the index lists no image manifest")
    for entry in images:
        platform = entry.get("platform") or {}
        if (platform.get("os"), platform.get("architecture")) == PREFERRED_PLATFORM:
            return entry, platform_name(platform)
    first = images[0]
    return first, platform_name(first.get("platform") or {})


def platform_name(platform: Mapping[str, Any]) -> str | None:
    if not platform.get("os") or not platform.get("architecture"):
        return None
    parts = [platform["os"], platform["architecture"]] + ([platform["variant"]] if platform.get("variant") else [])
    return "/".join(str(part) for part in parts)


def _is_attestation(entry: Mapping[str, Any]) -> bool:
    annotations = entry.get("annotations") or {}
    platform = entry.get("platform") or {}
    return annotations.get(_REFERENCE_TYPE) == "attestation-manifest" or (
        platform.get("os") == "unknown" and platform.get("architecture") == "unknown"
    )


def config_descriptor(manifest: Mapping[str, Any], content_type: str | None) -> tuple[str, int | None]:
    """The image config's digest and declared size from an image manifest."""
    kind = media_type(manifest, content_type)
    if kind in DOCKER_SCHEMA1:
        raise ManifestError("Docker schema 1 manifests are not supported (the image must be pushed again)")
    config = manifest.get("config")
    if not isinstance(config, Mapping) or not isinstance(config.get("digest"), str):
        raise ManifestError("the manifest has no config descriptor")
    size = config.get("size")
    return config["digest"], size if isinstance(size, int) else None


def verify_digest(content: bytes, digest: str) -> bool:
    """Whether `content` is what `digest` names; digests of algorithms other than sha256/sha512
    cannot be checked here and pass."""
    algorithm, _, expected = digest.partition(":")
    if algorithm not in ("sha256", "sha512"):
        return True
    return hashlib.new(algorithm, content).hexdigest() == expected.lower()


def sha256_digest(content: bytes) -> str:
    return f"sha256:{hashlib.sha256(content).hexdigest()}"


def config_labels_and_env(config: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """`config.Labels` and `config.Env` (KEY=VALUE list → dict; the last of a repeated key wins,
    as for a container's environment)."""
    runtime = config.get("config") or {}
    if not isinstance(runtime, Mapping):
        raise ManifestError("the image config's 'config' is not an object")
    labels_raw = runtime.get("Labels") or {}
    env_raw = runtime.get("Env") or []
    if not isinstance(labels_raw, Mapping) or not isinstance(env_raw, list):
        raise ManifestError("the image config's Labels or Env has the wrong type")
    labels = {str(key): str(value) for key, value in labels_raw.items()}
    env = {}
    for item in env_raw:
        key, _, value = str(item).partition("=")
        if key:
            env[key] = value
    return labels, env

"""Manifest reading: which entry of a multi-platform index, config descriptor, labels and env."""

from __future__ import annotations

from typing import Any

import pytest

from controller.registry.manifests import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    ManifestError,
    config_descriptor,
    config_labels_and_env,
    is_index,
    select_platform,
    verify_digest,
)


def entry(digest: str, os: str | None = "linux", arch: str | None = "amd64", **extra: Any) -> dict[str, Any]:
    platform = {k: v for k, v in {"os": os, "architecture": arch, **extra}.items() if v is not None}
    return {"mediaType": DOCKER_MANIFEST, "digest": digest, "size": 1, "platform": platform}


ATTESTATION = {
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "sha256:att",
    "platform": {"os": "unknown", "architecture": "unknown"},
    "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
}


@pytest.mark.parametrize(
    ("manifests", "digest", "platform"),
    [
        ([entry("sha256:arm", arch="arm64"), entry("sha256:amd")], "sha256:amd", "linux/amd64"),
        ([entry("sha256:amd"), entry("sha256:arm", arch="arm64")], "sha256:amd", "linux/amd64"),
        ([entry("sha256:arm", arch="arm64"), entry("sha256:ppc", arch="ppc64le")], "sha256:arm", "linux/arm64"),
        ([ATTESTATION, entry("sha256:arm", arch="arm", variant="v7")], "sha256:arm", "linux/arm/v7"),
        ([{"digest": "sha256:bare"}], "sha256:bare", None),
        ([entry("sha256:win", os="windows"), entry("sha256:amd")], "sha256:amd", "linux/amd64"),
    ],
    ids=[
        "amd64-second",
        "amd64-first",
        "no-amd64-takes-first",
        "attestations-skipped",
        "no-platform",
        "windows-skipped",
    ],
)
def test_select_platform(manifests: list[dict[str, Any]], digest: str, platform: str | None) -> None:
    chosen, name = select_platform(manifests)
    assert (chosen["digest"], name) == (digest, platform)


def test_index_of_attestations_only() -> None:
    with pytest.raises(ManifestError, match="no image manifest"):
        select_platform([ATTESTATION])


@pytest.mark.parametrize(
    ("manifest", "content_type", "index"),
    [
        ({"mediaType": OCI_INDEX, "manifests": []}, None, True),
        ({"mediaType": DOCKER_MANIFEST_LIST, "manifests": []}, None, True),
        ({"schemaVersion": 2, "manifests": []}, f"{OCI_INDEX}; charset=utf-8", True),
        ({"schemaVersion": 2, "manifests": []}, None, True),
        ({"schemaVersion": 2, "config": {}}, None, False),
        ({"mediaType": DOCKER_MANIFEST, "config": {}}, OCI_INDEX, False),
    ],
    ids=["oci-index", "docker-list", "by-content-type", "by-shape", "image-by-shape", "own-media-type-wins"],
)
def test_is_index(manifest: dict[str, Any], content_type: str | None, index: bool) -> None:
    assert is_index(manifest, content_type) is index


def test_config_descriptor() -> None:
    assert config_descriptor({"config": {"digest": "sha256:c", "size": 42}}, None) == ("sha256:c", 42)
    with pytest.raises(ManifestError, match="schema 1"):
        config_descriptor({"schemaVersion": 1, "fsLayers": []}, None)
    with pytest.raises(ManifestError, match="no config"):
        config_descriptor({"schemaVersion": 2, "layers": []}, None)


@pytest.mark.parametrize(
    ("config", "labels", "env"),
    [
        (
            {"config": {"Labels": {"a": "1"}, "Env": ["PATH=/bin", "X=a=b", "EMPTY=", "X=c"]}},
            {"a": "1"},
            {"PATH": "/bin", "X": "c", "EMPTY": ""},
        ),
        ({"config": {"Labels": None, "Env": None}}, {}, {}),
        ({}, {}, {}),
    ],
    ids=["labels-and-env", "nulls", "no-config-section"],
)
def test_config_labels_and_env(config: dict[str, Any], labels: dict[str, str], env: dict[str, str]) -> None:
    assert config_labels_and_env(config) == (labels, env)


def test_verify_digest() -> None:
    content = b"{}"
    assert verify_digest(content, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
    assert not verify_digest(content, "sha256:" + "0" * 64)
    assert verify_digest(content, "blake3:whatever")

"""Image reference parsing (upstream E.13) and rebasing onto an owner image's registry (E.12)."""

from __future__ import annotations

import pytest

from controller.catalog.imageref import (
    InvalidImageReferenceError,
    legacy_base_image,
    parse_image_reference,
    pull_policy,
    with_registry_and_org,
)


@pytest.mark.parametrize(
    ("reference", "registry", "repository", "tag", "digest"),
    [
        ("amdenterpriseai/aim-qwen:0.8.5", "docker.io", "amdenterpriseai/aim-qwen", "0.8.5", None),
        ("ubuntu", "docker.io", "ubuntu", None, None),
        ("ghcr.io/silogen/aim-llama:1.0.0", "ghcr.io", "silogen/aim-llama", "1.0.0", None),
        ("registry.local:5000/image", "registry.local:5000", "image", None, None),
        ("registry.local:5000/org/image:0.11", "registry.local:5000", "org/image", "0.11", None),
        ("localhost/model:dev", "localhost", "model", "dev", None),
        ("127.0.0.1:5000/a/b/c:v1", "127.0.0.1:5000", "a/b/c", "v1", None),
        ("index.docker.io/library/nginx:1.27", "docker.io", "library/nginx", "1.27", None),
        ("Docker.IO/org/x", "docker.io", "org/x", None, None),
        ("org/x@sha256:" + "ab" * 32, "docker.io", "org/x", None, "sha256:" + "ab" * 32),
        ("quay.io/org/x:1@sha256:" + "cd" * 32, "quay.io", "org/x", "1", "sha256:" + "cd" * 32),
        ("my_org/model__v2:latest", "docker.io", "my_org/model__v2", "latest", None),
    ],
    ids=[
        "docker-hub-org",
        "official-image-no-tag",
        "ghcr",
        "registry-port-is-not-a-tag",
        "port-and-tag",
        "localhost",
        "loopback-deep-path",
        "docker-hub-alias",
        "upper-case-host",
        "digest-only",
        "tag-and-digest",
        "underscores",
    ],
)
def test_parse(reference: str, registry: str, repository: str, tag: str | None, digest: str | None) -> None:
    ref = parse_image_reference(reference)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)


@pytest.mark.parametrize(
    ("reference", "name", "version_tag", "manifest_reference", "api_repository", "familiar"),
    [
        ("ubuntu", "ubuntu", "latest", "latest", "library/ubuntu", "ubuntu"),
        ("org/aim-qwen:0.9", "aim-qwen", "0.9", "0.9", "org/aim-qwen", "org/aim-qwen:0.9"),
        (
            "ghcr.io/org/x@sha256:0123456789" + "0" * 54,
            "x",
            "012345",
            "sha256:0123456789" + "0" * 54,
            "org/x",
            "ghcr.io/org/x@sha256:0123456789" + "0" * 54,
        ),
        ("r.io/nginx:1", "nginx", "1", "1", "nginx", "r.io/nginx:1"),
    ],
    ids=["official-image", "tagged", "digest-names-by-6-hex", "no-library-outside-docker-hub"],
)
def test_derived_parts(
    reference: str, name: str, version_tag: str, manifest_reference: str, api_repository: str, familiar: str
) -> None:
    ref = parse_image_reference(reference)
    assert ref.name == name
    assert ref.version_tag == version_tag
    assert ref.manifest_reference == manifest_reference
    assert ref.api_repository == api_repository
    assert ref.familiar() == familiar


@pytest.mark.parametrize(
    "reference",
    [
        "",
        "  ",
        "Org/Model:1",
        "org/model:",
        "org//model",
        "org/model:bad tag",
        "org/model@sha256:xyz",
        "/model",
        "a/-b",
    ],
    ids=[
        "empty",
        "blank",
        "upper-case-path",
        "empty-tag",
        "empty-component",
        "space",
        "bad-digest",
        "leading-slash",
        "dash-start",
    ],
)
def test_invalid(reference: str) -> None:
    with pytest.raises(InvalidImageReferenceError):
        parse_image_reference(reference)


@pytest.mark.parametrize(
    ("reference", "owner", "rebased"),
    [
        (
            "docker.io/amdenterpriseai/aim-base:0.9",
            "registry.example.com/mirror/aim-qwen:0.9.0",
            "registry.example.com/mirror/aim-base:0.9",
        ),
        (
            "ghcr.io/silogen/aim-base:0.11",
            "docker.io/amdenterpriseai/qwen3:0.11",
            "docker.io/amdenterpriseai/aim-base:0.11",
        ),
        ("aim-base:0.11", "registry.local:5000/org/qwen:0.11", "registry.local:5000/org/aim-base:0.11"),
        ("docker.io/amdenterpriseai/aim-base:0.9", "qwen:0.9", "docker.io/amdenterpriseai/aim-base:0.9"),
    ],
    ids=["to-mirror", "to-docker-hub", "bare-name-gets-prefix", "owner-without-slash-keeps-reference"],
)
def test_with_registry_and_org(reference: str, owner: str, rebased: str) -> None:
    assert with_registry_and_org(reference, owner) == rebased


@pytest.mark.parametrize(
    ("owner", "base"),
    [
        ("amdenterpriseai/aim-qwen:0.11.2", "aim-base:0.11"),
        ("r.io/org/aim-qwen:v0.9.0-rc1", "aim-base:0.9"),
        ("r.io/org/aim-qwen:0.11-rc21", "aim-base:0.11"),
        ("r.io/org/aim-qwen:latest", None),
        ("r.io/org/aim-qwen", None),
        ("not a reference", None),
    ],
    ids=["patch", "v-prefixed-rc", "short-rc", "latest", "no-tag", "invalid"],
)
def test_legacy_base_image(owner: str, base: str | None) -> None:
    assert legacy_base_image(owner) == base


@pytest.mark.parametrize(
    ("reference", "policy"),
    [
        ("amdenterpriseai/aim-qwen:0.8.5", "IfNotPresent"),
        ("registry.local:5000/aim-qwen:0.8.5-rc1", "IfNotPresent"),
        ("amdenterpriseai/aim-qwen", "Always"),
        ("amdenterpriseai/aim-qwen:latest", "Always"),
        ("amdenterpriseai/aim-qwen@sha256:" + "a" * 64, "IfNotPresent"),
        ("amdenterpriseai/aim-qwen:latest@sha256:" + "a" * 64, "IfNotPresent"),
        ("Not An Image", "Always"),
        (None, "Always"),
    ],
)
def test_pull_policy_follows_the_tag(reference: str | None, policy: str) -> None:
    assert pull_policy(reference) == policy

"""Container image references (upstream E.13), pure.

`registry.example.com:5000/org/model:1.2@sha256:…` → registry `registry.example.com:5000`,
repository `org/model`, tag `1.2`, digest `sha256:…`. The first path component is a registry only
when it contains `.` or `:` or is `localhost` (the Docker rule); otherwise the registry is
docker.io. The tag follows the last `:` of the last component, so a registry port is never taken
for a tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
DEFAULT_TAG = "latest"
# Hosts that all mean Docker Hub in image references and in docker config files.
DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})

# The distribution reference grammar, slightly relaxed (upper-case registry hosts are accepted).
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$")
_HOST = re.compile(r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
                   r"|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$")  # fmt: skip
# Release tags such as 0.11, 0.11.2, v0.11.0-rc1, 0.11-rc21: MAJOR.MINOR is what aim-base publishes.
_MAJOR_MINOR = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$")


class InvalidImageReferenceError(ValueError):
    """The string is not an image reference; the message says what is wrong with it."""


@dataclass(frozen=True)
class ImageReference:
    registry: str
    """Registry host (with port), `docker.io` when the reference names none."""
    repository: str
    """Path inside the registry, e.g. `amdenterpriseai/aim-qwen` (no `library/` added)."""
    tag: str | None = None
    """The tag as written; None when the reference has none."""
    digest: str | None = None
    """`sha256:…` when the reference pins a digest."""

    @property
    def name(self) -> str:
        """The image's own name: the last path component (`aim-qwen`)."""
        return self.repository.rsplit("/", 1)[-1]

    @property
    def version_tag(self) -> str:
        """The tag used in names and labels: the tag, else the digest's first 6 hex characters,
        else `latest` (upstream E.13)."""
        if self.tag:
            return self.tag
        if self.digest:
            return self.digest.split(":", 1)[1][:6]
        return DEFAULT_TAG

    @property
    def manifest_reference(self) -> str:
        """What to ask the registry's manifest endpoint for: the digest, else the tag, else latest."""
        return self.digest or self.tag or DEFAULT_TAG

    @property
    def api_repository(self) -> str:
        """The repository as the registry API names it: Docker Hub's official images live under
        `library/`."""
        if self.registry == DOCKER_HUB and "/" not in self.repository:
            return f"library/{self.repository}"
        return self.repository

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    def familiar(self) -> str:
        """As people write it: without `docker.io/` (upstream E.14 writes spec.image this way)."""
        text = str(self)
        return text.removeprefix(f"{DOCKER_HUB}/")


def normalise_registry(host: str) -> str:
    """Registry host as compared everywhere: lower-case, Docker Hub's aliases as `docker.io`."""
    host = host.strip().lower()
    return DOCKER_HUB if host in DOCKER_HUB_ALIASES else host


def is_registry_component(component: str) -> bool:
    """Whether the first path component of a reference names a registry (the Docker rule)."""
    return "." in component or ":" in component or component == "localhost"


def parse_image_reference(reference: str) -> ImageReference:
    """Parse `[registry/]path[:tag][@digest]`; raise InvalidImageReferenceError on anything else."""
    text = reference.strip()
    if not text:
        raise InvalidImageReferenceError("the image reference is empty")
    if any(c.isspace() for c in text):
        raise InvalidImageReferenceError(f"{reference!r}: an image reference has no whitespace")
    rest, _, digest = text.partition("@")
    if digest and not _DIGEST.match(digest):
        raise InvalidImageReferenceError(f"{reference!r}: {digest!r} is not a digest (algorithm:hex)")
    registry = DOCKER_HUB
    first, slash, remainder = rest.partition("/")
    if slash and is_registry_component(first):
        if not _HOST.match(first):
            raise InvalidImageReferenceError(f"{reference!r}: {first!r} is not a registry host")
        registry, rest = normalise_registry(first), remainder
    path, tag = rest, None
    last_colon = rest.rfind(":")
    if last_colon > rest.rfind("/"):
        path, tag = rest[:last_colon], rest[last_colon + 1 :]
        if not _TAG.match(tag):
            raise InvalidImageReferenceError(f"{reference!r}: {tag!r} is not a tag")
    if not path:
        raise InvalidImageReferenceError(f"{reference!r}: the repository is empty")
    for component in path.split("/"):
        if not _COMPONENT.match(component):
            raise InvalidImageReferenceError(
                f"{reference!r}: repository component {component!r} must be lower-case letters and digits "
                "separated by '.', '_', '__' or '-'"
            )
    return ImageReference(registry=registry, repository=path, tag=tag, digest=digest or None)


def with_registry_and_org(reference: str, owner_image: str) -> str:
    """`reference` moved to the registry and organisation of `owner_image` (upstream E.12, fine-tuned
    models): everything before the last `/` of `reference` is replaced by that of `owner_image`, so
    a mirrored model deploys its base image from the same mirror.

    `with_registry_and_org("docker.io/amdenterpriseai/aim-base:0.9", "registry.example.com/mirror/aim-qwen:0.9.0")`
    → `registry.example.com/mirror/aim-base:0.9`. An owner without `/` leaves `reference` as it is.
    """
    owner_slash = owner_image.rfind("/")
    if owner_slash <= 0:
        return reference
    prefix = owner_image[:owner_slash]
    return f"{prefix}/{reference.rsplit('/', 1)[-1]}"


def legacy_base_image(owner_image: str) -> str | None:
    """`aim-base:MAJOR.MINOR` from the owner image's release tag, for models whose metadata predates
    AIM_BASE_IMAGE_REF (upstream E.12); None when the tag is not release-shaped (e.g. `latest`)."""
    try:
        tag = parse_image_reference(owner_image).tag
    except InvalidImageReferenceError:
        return None
    match = _MAJOR_MINOR.match(tag or "")
    return f"aim-base:{match[1]}.{match[2]}" if match else None


def pull_policy(reference: str | None) -> str:
    """The serving container's imagePullPolicy, as the kubelet would default it and upstream
    derives it (0.2.x): `Always` for `:latest` or no tag, `IfNotPresent` for a versioned tag or a
    digest, so that images already on a node (pre-loaded, air-gapped) are used. A reference that
    does not parse keeps `Always`, the old behaviour."""
    try:
        image = parse_image_reference(reference or "")
    except InvalidImageReferenceError:
        return "Always"
    if image.digest or (image.tag and image.tag != DEFAULT_TAG):
        return "IfNotPresent"
    return "Always"

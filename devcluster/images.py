"""The real node's container images: built by `hack/build-images.sh` (buildah on a Debian base made
by mmdebstrap; no Docker, no registry), cached as OCI archives. This module only asks the script.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from devcluster.binaries import REPO_ROOT

BUILD_SCRIPT = REPO_ROOT / "hack" / "build-images.sh"
PAUSE, COREDNS, MODEL_SERVER, REDIS, PROJECT, KEDA = "pause", "coredns", "model-server", "redis", "project", "keda"


@dataclass(frozen=True)
class BuiltImage:
    name: str
    archive: Path
    """OCI archive (`buildah push oci-archive:`), importable with `ctr images import`."""
    reference: str
    """The reference recorded in the archive, e.g. localhost/aim-engine/pause:<input hash>."""

    @property
    def tag(self) -> str:
        """The tag part of the reference: a hash of the image's inputs."""
        return self.reference.rsplit(":", 1)[1]


def built_image(name: str) -> BuiltImage:
    """The image's archive, building it first when its inputs changed (never rebuilding otherwise)."""
    out = subprocess.run(["bash", str(BUILD_SCRIPT), "--print", name], check=True, capture_output=True, text=True)
    archive, reference = out.stdout.strip().split("\t")
    return BuiltImage(name=name, archive=Path(archive), reference=reference)


def push(image: BuiltImage, destination: str) -> None:
    """Copy the archive to a registry reference such as 127.0.0.1:25000/aim-engine:tag (plain HTTP)."""
    subprocess.run(
        ["skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci-archive:{image.archive}", f"docker://{destination}"],
        check=True,
        capture_output=True,
        text=True,
    )

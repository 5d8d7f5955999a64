"""Where the control plane's binaries live, and building them when they are missing.

`hack/build-binaries.sh` owns the versions and the cache layout; this module only asks it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devcluster import kserve

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = REPO_ROOT / "hack" / "build-binaries.sh"

CORE = ("etcd", "kube-apiserver", "kubectl")
CLUSTER = (*CORE, "kube-controller-manager", "kube-scheduler", "kwok")


def bin_dir() -> Path:
    out = subprocess.run(["bash", str(BUILD_SCRIPT), "--print-bin-dir"], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip())


def ensure_binaries(names: tuple[str, ...] = CLUSTER) -> Path:
    """Return the binary directory, building whatever in `names` is missing (never rebuilding)."""
    directory = bin_dir()
    if all(os.access(directory / n, os.X_OK) for n in names):
        return directory
    target = "cluster" if any(n not in CORE for n in names) else "core"
    subprocess.run(["bash", str(BUILD_SCRIPT), target], check=True)
    return directory


@dataclass(frozen=True)
class RegistryBinaries:
    registry: Path
    """The CNCF distribution registry (`registry serve CONFIG`)."""
    crane: Path
    """go-containerregistry's crane: pushes and mutates images without a Docker daemon."""


def registry_binaries() -> RegistryBinaries:
    """Paths of the test registry and crane, building them when missing (never rebuilding)."""
    out = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "--print-registry-binaries"], check=True, capture_output=True, text=True
    )
    registry, crane = (Path(line) for line in out.stdout.split())
    if not (os.access(registry, os.X_OK) and os.access(crane, os.X_OK)):
        subprocess.run(["bash", str(BUILD_SCRIPT), "registry"], check=True)
    return RegistryBinaries(registry=registry, crane=crane)


def node_binaries() -> tuple[Path, Path, Path]:
    """kubelet, kube-proxy and CoreDNS for the real node, building them when missing."""
    out = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "--print-node-binaries"], check=True, capture_output=True, text=True
    )
    kubelet, kube_proxy, coredns = (Path(line) for line in out.stdout.split())
    if not all(os.access(p, os.X_OK) for p in (kubelet, kube_proxy, coredns)):
        subprocess.run(["bash", str(BUILD_SCRIPT), "node"], check=True)
    return kubelet, kube_proxy, coredns


def kserve_binary() -> Path:
    """KServe's controller manager, building it when missing (never rebuilding)."""
    out = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "--print-kserve-binary"], check=True, capture_output=True, text=True
    )
    path = Path(out.stdout.strip())
    if not os.access(path, os.X_OK):
        subprocess.run(["bash", str(BUILD_SCRIPT), "kserve"], check=True)
    return path


def go_module_dir(module_at_version: str) -> Path:
    """Source directory of a module in the build cache (read-only files such as kwok's CRDs)."""
    env = {**os.environ, "GOMODCACHE": str(_gomodcache()), "GOFLAGS": "-mod=mod"}
    go = shutil.which("go") or "go"
    out = subprocess.run(
        [go, "mod", "download", "-json", module_at_version],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=str(_gomodcache()),
    )
    import json

    return Path(json.loads(out.stdout)["Dir"])


def _gomodcache() -> Path:
    return bin_dir().parents[1] / "go" / "mod"


# CRDs of the systems the controller writes to, from their published Go modules (as Go operator
# projects fetch them for envtest). No controller of theirs runs here: tests set the status the
# way KServe or a Gateway implementation would.
THIRD_PARTY_CRDS = {
    kserve.MODULE: ["config/crd/full/serving.kserve.io_inferenceservices.yaml"],
    "sigs.k8s.io/gateway-api@v1.4.0": [
        "config/crd/standard/gateway.networking.k8s.io_gatewayclasses.yaml",
        "config/crd/standard/gateway.networking.k8s.io_gateways.yaml",
        "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml",
    ],
}


def third_party_crds() -> list[Path]:
    return [go_module_dir(module) / path for module, paths in THIRD_PARTY_CRDS.items() for path in paths]

"""The real node's test session: a control plane with containerd + kubelet + kube-proxy + CoreDNS next
to the simulated GPU nodes, and the project's chart installed from the locally built image.

`make test` runs these in a pytest run of their own, after the simulated suite has stopped its
control plane (one control plane on the machine at a time). Where the machine cannot run a real
node they are skipped with the reason; with AIM_REQUIRE_REAL_NODE=1 (CI) that is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devcluster.binaries import REPO_ROOT, bin_dir, third_party_crds
from devcluster.controlplane import ControlPlane, ControlPlaneOptions
from devcluster.realnode import NODE_NAME, RealNodeOptions, unavailable_reason
from devcluster.waiting import wait_until
from tests.conftest import Kubectl

CHART = REPO_ROOT / "helm" / "aim-engine"
RELEASE = "aim"
SYSTEM_NAMESPACE = "aim-system"
ON_REAL_NODE = {"kubernetes.io/hostname": NODE_NAME}
"""The chart's pods go to the real node: on a simulated node a container never runs."""


@pytest.fixture(scope="session")
def real_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    reason = unavailable_reason()
    if reason:
        if os.environ.get("AIM_REQUIRE_REAL_NODE", "") not in ("", "0"):
            pytest.fail(f"AIM_REQUIRE_REAL_NODE is set but the real node cannot run: {reason}")
        pytest.skip(f"real node unavailable: {reason}")
    # No CRDs at start: the chart installs ours, and KServe's and Gateway API's arrive after the
    # controller started (the test of the CRD watch installs them).
    options = ControlPlaneOptions(
        workdir=tmp_path_factory.mktemp("realnode-plane"),
        start_webhooks=False,
        start_controller=False,
        real_node=RealNodeOptions(),
        start_timeout=180,
    )
    with ControlPlane(options) as plane:
        yield plane


@pytest.fixture(scope="session")
def admin(real_plane: ControlPlane) -> Kubectl:
    return Kubectl(real_plane)


def helm(plane: ControlPlane, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(bin_dir() / "helm"), *args],
        capture_output=True,
        text=True,
        env=plane.env() | {"HELM_CACHE_HOME": str(plane.workdir / "helm")},
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def project_image(plane: ControlPlane) -> tuple[str, str]:
    """(repository, tag) of the project's image in the node's registry."""
    assert plane.real_node is not None
    repository, tag = plane.real_node.pushed["project"].rsplit(":", 1)
    return repository, tag


def chart_values(plane: ControlPlane, tag: str | None = None) -> list[str]:
    repository, pushed_tag = project_image(plane)
    values: dict[str, Any] = {
        "image": {"repository": repository, "tag": tag or pushed_tag},
        "controller": {"nodeSelector": ON_REAL_NODE, "resyncSeconds": 3600},
        "webhook": {"nodeSelector": ON_REAL_NODE},
    }
    return ["--set-json", f"image={json.dumps(values['image'])}"] + [
        arg
        for key in ("controller", "webhook")
        for name, value in values[key].items()
        for arg in ("--set-json", f"{key}.{name}={json.dumps(value)}")
    ]


def install(plane: ControlPlane, *extra: str) -> subprocess.CompletedProcess[str]:
    return helm(
        plane,
        "install",
        RELEASE,
        str(CHART),
        "-n",
        SYSTEM_NAMESPACE,
        "--create-namespace",
        *chart_values(plane),
        *extra,
        "--wait",
        "--timeout=240s",
    )


def pods(admin: Kubectl, component: str) -> list[dict[str, Any]]:
    selector = f"app.kubernetes.io/component={component},app.kubernetes.io/instance={RELEASE}"
    items: list[dict[str, Any]] = admin.get_json("pods", "-n", SYSTEM_NAMESPACE, "-l", selector)["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def ready(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def wait_ready(admin: Kubectl, component: str, count: int, timeout: float = 180) -> list[dict[str, Any]]:
    def all_ready() -> list[dict[str, Any]] | None:
        found = pods(admin, component)
        return found if len(found) == count and all(ready(p) for p in found) else None

    return wait_until(all_ready, timeout, f"{count} ready {component} pods")


def third_party_crd_paths() -> list[Path]:
    return third_party_crds()

"""The real node's test session: a control plane with containerd + kubelet + kube-proxy + CoreDNS next
to the simulated GPU nodes; the project's chart is installed from the locally built image.

`make test` runs these in a pytest run of their own, after the simulated suite has stopped its
control plane (one control plane on the machine at a time). Where the machine cannot run a real
node they are skipped with the reason; with AIM_REQUIRE_REAL_NODE=1 (CI) that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devcluster.controlplane import ControlPlane, ControlPlaneOptions
from devcluster.realnode import RealNodeOptions, unavailable_reason
from tests.conftest import Kubectl
from tests.realnode.support import ensure_installed


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


@pytest.fixture
def chart(real_plane: ControlPlane, admin: Kubectl) -> ControlPlane:
    """The chart installed and its pods Ready (installed here when no earlier test did)."""
    ensure_installed(real_plane, admin)
    return real_plane

"""Faults on the real node, with the chart installed from the project's image: the leading
controller killed during a rollout, a webhook pod deleted under a stream of applies, containerd and
the kubelet restarted with pods running. Each must lose nothing and fail no client request.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.conftest import Kubectl
from tests.realnode.conftest import RELEASE, SYSTEM_NAMESPACE, install, pods, third_party_crd_paths, wait_ready
from tests.realnode.test_chart import MODEL, TEMPLATE, V1, V2

FAULTS = "faults"
SERVICES = 100


@pytest.fixture(scope="module")
def chart(real_plane: ControlPlane, admin: Kubectl) -> ControlPlane:
    """The chart as the install tests left it, or freshly installed when they did not run."""
    if admin("get", "deployment", "-n", SYSTEM_NAMESPACE, f"{RELEASE}-aim-engine-webhook", check=False).returncode:
        install(real_plane)
    admin("apply", "--server-side", *[a for p in third_party_crd_paths() for a in ("-f", str(p))])
    admin("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    wait_ready(admin, "webhook", 2)
    wait_ready(admin, "controller", 2)
    admin("create", "namespace", FAULTS, check=False)
    return real_plane


class ApplyLoop:
    """A client applying AIMRuntimeConfigs through the webhooks, counting every refusal."""

    def __init__(self, admin: Kubectl) -> None:
        self.admin = admin
        self.applied = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            config = {
                "apiVersion": V1,
                "kind": "AIMRuntimeConfig",
                "metadata": {"name": f"loop-{self.applied % 5}", "namespace": FAULTS},
                "spec": {"env": [{"name": "AIM_LOOP", "value": str(self.applied)}]},
            }
            result = self.admin.apply(config, check=False)
            if result.returncode != 0:
                self.failures.append(result.stderr.strip())
            self.applied += 1

    def __enter__(self) -> ApplyLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)


def leader_pod(admin: Kubectl) -> str:
    lease = admin.get_json("lease", "-n", SYSTEM_NAMESPACE, f"{RELEASE}-aim-engine-controller")
    holder = str(lease["spec"].get("holderIdentity") or "")
    names = {p["metadata"]["name"] for p in pods(admin, "controller")}
    pod = holder.rsplit("-", 1)[0]
    return pod if pod in names else ""


def inference_services(admin: Kubectl) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = admin.get_json("inferenceservices", "-n", FAULTS)["items"]
    return items


def test_killing_the_leading_controller_mid_rollout_converges_without_duplicates(
    chart: ControlPlane, admin: Kubectl
) -> None:
    admin.apply(
        {"apiVersion": V2, "kind": "AIMModel", "metadata": {"name": "qwen", "namespace": FAULTS}, "spec": MODEL}
    )
    admin.apply(
        {
            "apiVersion": V1,
            "kind": "AIMServiceTemplate",
            "metadata": {"name": "qwen-mi300x", "namespace": FAULTS},
            "spec": TEMPLATE,
        }
    )
    services: list[dict[str, Any]] = [
        {
            "apiVersion": V2,
            "kind": "AIMService",
            "metadata": {"name": f"svc-{i:03d}", "namespace": FAULTS},
            "spec": {"model": {"name": "qwen"}},
        }
        for i in range(SERVICES)
    ]
    started = time.monotonic()
    admin(
        "apply", "-f", "-", input_text=json.dumps({"apiVersion": "v1", "kind": "List", "items": services}), timeout=300
    )
    leader = wait_until(lambda: leader_pod(admin), 60, "a leading controller")
    wait_until(lambda: len(inference_services(admin)) >= SERVICES // 5, 180, "a fifth of the rollout")
    admin("delete", "pod", "-n", SYSTEM_NAMESPACE, leader, "--grace-period=0", "--force")
    wait_until(lambda: len(inference_services(admin)) >= SERVICES, 300, f"{SERVICES} InferenceServices")
    print(f"{SERVICES} services rolled out in {time.monotonic() - started:.1f}s with the leader killed")
    time.sleep(5)  # a duplicate would be created by a replica that did not see the first one
    owners = [
        ref["name"]
        for isvc in inference_services(admin)
        for ref in isvc["metadata"].get("ownerReferences", [])
        if ref["kind"] == "AIMService"
    ]
    assert sorted(owners) == sorted(s["metadata"]["name"] for s in services)  # one each, no orphan
    new_leader = wait_until(lambda: leader_pod(admin), 60, "a new leader")
    assert new_leader != leader


def test_deleting_a_webhook_pod_fails_no_apply(chart: ControlPlane, admin: Kubectl) -> None:
    with ApplyLoop(admin) as loop:
        wait_until(lambda: loop.applied >= 5, 60, "the client to apply")
        victim = pods(admin, "webhook")[0]["metadata"]["name"]
        admin("delete", "pod", "-n", SYSTEM_NAMESPACE, victim, "--wait=true", timeout=120)
        wait_ready(admin, "webhook", 2)
        done = loop.applied
        wait_until(lambda: loop.applied >= done + 5, 60, "more applies after the replacement")
    assert loop.failures == [], loop.failures[:3]


def test_restarting_containerd_and_the_kubelet_keeps_pods_and_objects(chart: ControlPlane, admin: Kubectl) -> None:
    node = chart.real_node
    assert node is not None
    before = {p["metadata"]["uid"]: p["status"]["containerStatuses"][0]["containerID"] for p in pods(admin, "webhook")}
    with ApplyLoop(admin) as loop:
        wait_until(lambda: loop.applied >= 3, 60, "the client to apply")
        for name in ("containerd", "kubelet"):
            node.restart(name)
        node.advertise_gpu_capacity()
        wait_ready(admin, "webhook", 2)
        done = loop.applied
        wait_until(lambda: loop.applied >= done + 5, 60, "more applies after the restarts")
    after = {p["metadata"]["uid"]: p["status"]["containerStatuses"][0]["containerID"] for p in pods(admin, "webhook")}
    assert after == before  # the same containers: nothing was restarted or replaced
    assert loop.failures == [], loop.failures[:3]
    admin("get", "aimruntimeconfig", "loop-0", "-n", FAULTS)

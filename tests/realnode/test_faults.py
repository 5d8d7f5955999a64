"""Faults on the real node, with the chart installed from the project's image: the leading
controller killed during a rollout, a webhook pod deleted under a stream of applies, containerd and
the kubelet restarted with pods running. Each must lose nothing and fail no client request.
"""

from __future__ import annotations

import json
import time
from typing import Any

from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.conftest import Kubectl
from tests.realnode.support import (
    SYSTEM_NAMESPACE,
    ApplyLoop,
    deploy_model_and_template,
    inference_services,
    install_third_party_crds,
    leader_pod,
    pods,
    service,
    service_state,
    wait_ready,
)

FAULTS = "faults"
SERVICES = 100


def test_killing_the_leading_controller_mid_rollout_converges_without_duplicates(
    chart: ControlPlane, admin: Kubectl
) -> None:
    install_third_party_crds(admin)
    admin("create", "namespace", FAULTS)
    deploy_model_and_template(admin, FAULTS)
    services: list[dict[str, Any]] = [service(f"svc-{i:03d}", FAULTS) for i in range(SERVICES)]
    started = time.monotonic()
    listing = {"apiVersion": "v1", "kind": "List", "items": services}
    admin("apply", "-f", "-", input_text=json.dumps(listing), timeout=300)
    leader = wait_until(lambda: leader_pod(admin), 60, "a leading controller")
    wait_until(lambda: len(inference_services(admin, FAULTS)) >= SERVICES // 5, 180, "a fifth of the rollout")
    admin("delete", "pod", "-n", SYSTEM_NAMESPACE, leader, "--grace-period=0", "--force")

    def converged() -> bool:
        every = admin.get_json("aimservices.aim.eai.amd.com", "-n", FAULTS)["items"]
        states = {(s.get("status") or {}).get("status") for s in every}
        return len(inference_services(admin, FAULTS)) >= SERVICES and states == {"Starting"}

    wait_until(converged, 300, f"{SERVICES} services Starting with their InferenceServices")
    print(f"{SERVICES} services rolled out in {time.monotonic() - started:.1f}s with the leader killed")
    owners = [
        ref["name"]
        for isvc in inference_services(admin, FAULTS)
        for ref in isvc["metadata"].get("ownerReferences", [])
        if ref["kind"] == "AIMService"
    ]
    assert sorted(owners) == sorted(s["metadata"]["name"] for s in services)  # one each, no orphan
    assert wait_until(lambda: leader_pod(admin), 60, "a live pod to lead")  # the killed one is gone
    assert service_state(admin, FAULTS, "svc-000") == "Starting"


def test_deleting_a_webhook_pod_fails_no_apply(chart: ControlPlane, admin: Kubectl) -> None:
    admin("create", "namespace", FAULTS, check=False)
    with ApplyLoop(admin, FAULTS) as loop:
        loop.wait_for_more(5, "the client to apply")
        victim = pods(admin, "webhook")[0]["metadata"]["name"]
        admin("delete", "pod", "-n", SYSTEM_NAMESPACE, victim, "--wait=true", timeout=120)
        wait_ready(admin, "webhook", 2)
        loop.wait_for_more(5, "more applies after the replacement")
    assert loop.failures == [], loop.failures[:3]


def test_restarting_containerd_and_the_kubelet_keeps_pods_and_objects(chart: ControlPlane, admin: Kubectl) -> None:
    node = chart.real_node
    assert node is not None
    admin("create", "namespace", FAULTS, check=False)

    def containers() -> dict[str, str]:
        return {
            p["metadata"]["uid"]: p["status"]["containerStatuses"][0]["containerID"] for p in pods(admin, "webhook")
        }

    before = containers()
    with ApplyLoop(admin, FAULTS) as loop:
        loop.wait_for_more(3, "the client to apply")
        for name in ("containerd", "kubelet"):
            node.restart(name)
        node.advertise_gpu_capacity()
        wait_ready(admin, "webhook", 2)
        loop.wait_for_more(5, "more applies after the restarts")
    assert containers() == before  # the same containers: nothing was restarted or replaced
    assert loop.failures == [], loop.failures[:3]
    admin("get", "aimruntimeconfig", "loop-0", "-n", FAULTS)

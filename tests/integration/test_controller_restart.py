"""The controller killed with SIGKILL in the middle of a rollout, then restarted, converges: every
service gets exactly one InferenceService and the shared auto-created model exists once."""

from __future__ import annotations

import os
import signal
import uuid

from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.conftest import Kubectl
from tests.integration.test_service_controller import ready_template, service
from tests.registry import Crane

SERVICES = 40


def test_sigkill_mid_rollout_then_restart_converges_without_duplicates(
    control_plane: ControlPlane, kubectl: Kubectl, crane: Crane
) -> None:
    lease = f"restart-{uuid.uuid4().hex[:6]}"
    env = {
        "AIM_CONTROLLER_LEASE_NAME": lease,
        "AIM_CONTROLLER_LEASE_SECONDS": "3",
        "AIM_CONTROLLER_LEASE_RETRY_SECONDS": "0.5",
    }
    crane.push_image("amdenterpriseai/aim-restart", "1.0")
    image = crane.ref("amdenterpriseai/aim-restart", "1.0")
    first = control_plane.start_controller(f"controller-{lease}-1", env)
    second = None
    try:
        manifest = {
            "apiVersion": "v1",
            "kind": "List",
            "items": [service(f"s{i}", model={"image": image}) for i in range(SERVICES)],
        }
        kubectl.apply(manifest)
        wait_until(lambda: kubectl.get_json("aimmodels.aim.eai.amd.com")["items"], 30, "the auto-created model")
        [model] = kubectl.get_json("aimmodels.aim.eai.amd.com")["items"]
        ready_template(kubectl, "t", model["metadata"]["name"], "MI300X")

        def deployed() -> int:
            return len(kubectl.get_json("inferenceservices.serving.kserve.io")["items"])

        wait_until(lambda: deployed() >= 1, 30, "the rollout to begin")
        os.killpg(first.pid, signal.SIGKILL)  # no chance to finish or clean up
        first.popen.wait(10)  # type: ignore[union-attr]
        interrupted = deployed()
        second = control_plane.start_controller(f"controller-{lease}-2", env)  # waits out the dead leader's Lease
        wait_until(lambda: deployed() == SERVICES, 60, f"all {SERVICES} InferenceServices")

        items = kubectl.get_json("inferenceservices.serving.kserve.io")["items"]
        owners = sorted(i["metadata"]["ownerReferences"][0]["name"] for i in items)
        assert owners == sorted(f"s{i}" for i in range(SERVICES))  # one each, none twice
        assert len(kubectl.get_json("aimmodels.aim.eai.amd.com")["items"]) == 1

        def statuses() -> set[str]:
            services = kubectl.get_json("aimservices.aim.eai.amd.com")["items"]
            return {(s.get("status") or {}).get("status", "") for s in services}

        wait_until(lambda: statuses() == {"Starting"}, 30, "every service to report Starting")
        print(f"InferenceServices when killed: {interrupted}/{SERVICES}")
    finally:
        for process in (first, second):
            if process is not None:
                process.stop()

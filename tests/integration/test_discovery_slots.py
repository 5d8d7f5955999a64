"""Upstream's `concurrent-limit` discovery scenario on the real API server: twelve templates need
discovery at once; never more than ten discovery Jobs run in the cluster (upstream's soft check
allows twelve; here the count is exact), the rest wait `Pending` for a slot, and every template
ends Ready. The Jobs' pods run on simulated MI300X nodes for JOB_SECONDS and print a dry run."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from controller.template.plan import MAX_CONCURRENT_DISCOVERIES, discovery_job_name
from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl, controller_running
from tests.integration.test_model_catalog import DISCOVERY_OUTPUT
from tests.integration.test_service_controller import V1, V2

JOB_SECONDS = 6
TEMPLATES = 12
IMAGE = "registry.local/amdenterpriseai/aim-qwen3-32b:0.8.5"


@pytest.fixture(scope="module", autouse=True)
def controller(control_plane: ControlPlane) -> Iterator[None]:
    with controller_running(
        control_plane, "controller-discovery-slots", {"sim.aim.eai.amd.com/run-duration": f"{JOB_SECONDS}s"}
    ):
        yield


def template(index: int) -> dict[str, Any]:
    spec = {
        "modelName": "qwen",
        "metric": "latency",
        "precision": "fp8",
        "hardware": {"gpu": {"model": "MI300X", "requests": 1}},
        "profileId": f"profile-{index}",  # each its own Job
    }
    return {"apiVersion": V1, "kind": "AIMServiceTemplate", "metadata": {"name": f"t{index:02d}"}, "spec": spec}


def running_discoveries(kubectl: Kubectl) -> int:
    """In every namespace: the limit is cluster-wide (another test's Jobs take slots too)."""
    jobs = kubectl.get_json("jobs", "--all-namespaces", "-l", "app.kubernetes.io/component=discovery")["items"]
    finished = ("Complete", "Failed")
    return sum(
        1
        for job in jobs
        if not any(c["type"] in finished and c["status"] == "True" for c in job.get("status", {}).get("conditions", []))
    )


def test_at_most_ten_discovery_jobs_run_at_once(
    kubectl: Kubectl, namespace: str, pod_logs: Callable[[str, str, str], Path]
) -> None:
    model = {"image": IMAGE, "imageMetadata": {"model": {"canonicalName": "Qwen/Qwen3-32B"}}}
    kubectl.apply({"apiVersion": V2, "kind": "AIMModel", "metadata": {"name": "qwen"}, "spec": model})
    for index in range(TEMPLATES):
        pod_logs(namespace, discovery_job_name(template(index), IMAGE), json.dumps(DISCOVERY_OUTPUT))

    most, waited = [0], [""]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.3):
            most[0] = max(most[0], running_discoveries(kubectl))
            for found in kubectl.get_json("aimservicetemplates.aim.eai.amd.com")["items"]:
                message = condition(found.get("status") or {}, "Discovered").get("message", "")
                if "discovery slot" in message:
                    waited[0] = message

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        for index in range(TEMPLATES):
            kubectl.apply(template(index))

        def all_ready() -> bool:
            items = kubectl.get_json("aimservicetemplates.aim.eai.amd.com")["items"]
            return len(items) == TEMPLATES and all((t.get("status") or {}).get("status") == "Ready" for t in items)

        wait_until(all_ready, 4 * JOB_SECONDS + 60, f"all {TEMPLATES} templates Ready")
    finally:
        done.set()
        watcher.join()
    assert most[0] == MAX_CONCURRENT_DISCOVERIES
    assert "10 discovery Jobs are running (at most 10 in the cluster)" in waited[0]

"""A download that keeps failing transiently: every simulated download pod exits 1 (aim-download's
"transient"), which the Job's podFailurePolicy leaves to the Job controller. The real
kube-controller-manager retries it with its back-off until backoffLimit (2 retries, 3 pods), and
only then is the artifact Failed, with the reason from the last pod."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl, controller_running
from tests.integration.test_caching import items, wait_status
from tests.integration.test_service_controller import V1


@pytest.fixture(scope="module", autouse=True)
def controller(control_plane: ControlPlane) -> Iterator[None]:
    failing = {"sim.aim.eai.amd.com/outcome": "Failed", "sim.aim.eai.amd.com/exit-code": "1"}
    with controller_running(control_plane, "controller-transient-downloads", failing):
        yield


def test_transient_failures_are_retried_with_back_off_before_the_artifact_fails(kubectl: Kubectl) -> None:
    kubectl.apply(
        {
            "apiVersion": V1,
            "kind": "AIMArtifact",
            "metadata": {"name": "flaky"},
            "spec": {"sourceUri": "s3://models/flaky", "modelId": "org/flaky", "size": "1Gi"},
        }
    )

    def download_job() -> dict[str, Any] | None:
        return next((j for j in items(kubectl, "jobs") if "download" in j["metadata"]["name"]), None)

    job = wait_until(download_job, 30, "the download Job")
    assert job["spec"]["backoffLimit"] == 2
    # While the Job controller retries, the artifact is still downloading, not Failed.
    wait_until(lambda: (download_job() or {}).get("status", {}).get("failed", 0) >= 1, 60, "a first failed pod")
    between = kubectl.get_json("aimartifacts", "flaky")["status"]
    assert between["status"] != "Failed", between

    failed = wait_status(kubectl, "aimartifacts", "flaky", "Failed", timeout=180)
    download = condition(failed["status"], "DownloadComplete")
    assert (download["status"], download["reason"]) == ("False", "PodFailed")
    assert download["message"] == "exit code 1: transient failure"
    final = download_job()
    assert final is not None
    assert final["status"]["failed"] == 3, "the first pod and two retries"
    assert any(c["reason"] == "BackoffLimitExceeded" for c in final["status"]["conditions"] if c["type"] == "Failed")
    pods = items(kubectl, "pods")
    starts = sorted(p["status"].get("startTime", "") for p in pods if "download" in p["metadata"]["name"])
    assert len(starts) == 3

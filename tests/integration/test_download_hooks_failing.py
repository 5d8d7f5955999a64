"""Downloads that fail transiently, with one controller whose simulated download pods all exit 1
(aim-download's "transient"), which the Job's podFailurePolicy leaves to the Job controller:

* upstream's failing download scenario: a simulated verification failure (every byte there, then
  exit 1) is `DownloadComplete=False/VerificationFailed` with the percentage shown as `N/A`;
* retries: the real kube-controller-manager retries a failing download with its back-off until
  backoffLimit (2 retries, 3 pods), and only then is the artifact Failed, with the reason from the
  last pod.

Both wait for the Job controller's back-off (10 s, then 20 s), so the retried artifact is created
when the module starts and its back-off runs during the first test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devcluster.controlplane import ControlPlane
from downloader import EXIT_TRANSIENT
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl, controller_running
from tests.integration.test_caching import items, wait_status
from tests.integration.test_download_hooks import run_the_job_locally, simulated_artifact
from tests.integration.test_service_controller import V1

JOB_SECONDS = 1
"""Each of the Job's three pods (backoffLimit 2) fails after this long; with the Job
controller's back-off between them (10 s, 20 s) the local process has reported 100 % long
before the Job fails."""


RETRIED = "flaky"


@pytest.fixture(scope="module", autouse=True)
def controller(control_plane: ControlPlane) -> Iterator[None]:
    annotations = {
        "sim.aim.eai.amd.com/run-duration": f"{JOB_SECONDS}s",
        "sim.aim.eai.amd.com/outcome": "Failed",
        "sim.aim.eai.amd.com/exit-code": str(EXIT_TRANSIENT),
    }
    with controller_running(control_plane, "controller-download-hooks-failing", annotations):
        yield


@pytest.fixture(scope="module")
def retried(control_plane: ControlPlane, controller: None) -> Iterator[Kubectl]:
    """The retried artifact, in a namespace of its own, created as the module starts."""
    namespace = f"t-retries-{uuid.uuid4().hex[:5]}"
    control_plane.kubectl("create", "namespace", namespace)
    kubectl = Kubectl(control_plane, namespace)
    spec = {"sourceUri": "s3://models/flaky", "modelId": "org/flaky", "size": "1Gi"}
    kubectl.apply({"apiVersion": V1, "kind": "AIMArtifact", "metadata": {"name": RETRIED}, "spec": spec})
    yield kubectl
    control_plane.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_simulated_verification_failure(
    control_plane: ControlPlane, kubectl: Kubectl, tmp_path: Path, retried: Kubectl
) -> None:
    hooks = {
        "AIM_DEBUG_SIMULATE_DOWNLOAD": "true",
        "AIM_DEBUG_VERIFY_FAIL": "true",
        "AIM_DEBUG_DOWNLOAD_DURATION": "0",
        "AIM_DEBUG_VERIFY_DURATION": "1",
    }
    kubectl.apply(simulated_artifact("progress-verify-fail", **hooks))
    artifact = wait_status(kubectl, "aimartifacts", "progress-verify-fail", "Progressing")
    run = run_the_job_locally(control_plane, kubectl, artifact, tmp_path)
    assert run.returncode == EXIT_TRANSIENT
    assert run.termination_message == "verification failed on purpose: AIM_DEBUG_VERIFY_FAIL is set"

    failed = wait_status(kubectl, "aimartifacts", "progress-verify-fail", "Failed", timeout=JOB_SECONDS * 4 + 30)
    status = failed["status"]
    assert condition(status, "DownloadComplete")["status"] == "False"
    assert condition(status, "DownloadComplete")["reason"] == "VerificationFailed"
    assert status["progress"]["displayPercentage"] == "N/A"
    assert condition(status, "Ready")["status"] == "False"


def test_transient_failures_are_retried_with_back_off_before_the_artifact_fails(retried: Kubectl) -> None:
    def download_job() -> dict[str, Any] | None:
        return next((j for j in items(retried, "jobs") if "download" in j["metadata"]["name"]), None)

    failed = wait_status(retried, "aimartifacts", RETRIED, "Failed", timeout=180)
    download = condition(failed["status"], "DownloadComplete")
    assert (download["status"], download["reason"]) == ("False", "PodFailed")
    assert download["message"] == "exit code 1: transient failure"
    final = download_job()
    assert final is not None
    assert final["spec"]["backoffLimit"] == 2
    assert final["status"]["failed"] == 3, "the first pod and two retries"
    assert any(c["reason"] == "BackoffLimitExceeded" for c in final["status"]["conditions"] if c["type"] == "Failed")
    pods = [p for p in items(retried, "pods") if "download" in p["metadata"]["name"]]
    starts = sorted(p["status"].get("startTime", "") for p in pods)
    assert len(starts) == 3
    # While the Job controller retried, the artifact was not Failed: the Warning that says it
    # failed came after the last retry had started (timestamps, not a poll that could miss it).
    events = retried.get_json("events", "--field-selector", f"involvedObject.name={RETRIED}")["items"]
    said = [e for e in events if e.get("reason") == "PodFailed" and e.get("type") == "Warning"]
    assert len(said) == 1, said
    when = said[0].get("eventTime") or said[0].get("firstTimestamp") or ""
    assert when[:19] >= starts[-1][:19] > starts[0][:19]

"""The failing side of upstream's download scenarios: a simulated verification failure (every byte
there, then exit 1) is `DownloadComplete=False/VerificationFailed` with the percentage shown as
`N/A`; the simulated pod ends Failed with the exit code the local process returned."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devcluster.controlplane import ControlPlane
from downloader import EXIT_TRANSIENT
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl, controller_running
from tests.integration.test_caching import wait_status
from tests.integration.test_download_hooks import run_the_job_locally, simulated_artifact

JOB_SECONDS = 1
"""Each of the Job's three pods (backoffLimit 2) fails after this long; with the Job
controller's back-off between them (10 s, 20 s) the local process has reported 100 % long
before the Job fails."""


@pytest.fixture(scope="module", autouse=True)
def controller(control_plane: ControlPlane) -> Iterator[None]:
    annotations = {
        "sim.aim.eai.amd.com/run-duration": f"{JOB_SECONDS}s",
        "sim.aim.eai.amd.com/outcome": "Failed",
        "sim.aim.eai.amd.com/exit-code": str(EXIT_TRANSIENT),
    }
    with controller_running(control_plane, "controller-download-hooks-failing", annotations):
        yield


def test_simulated_verification_failure(control_plane: ControlPlane, kubectl: Kubectl, tmp_path: Path) -> None:
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

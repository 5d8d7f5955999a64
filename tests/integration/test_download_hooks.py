"""Upstream's e2e download scenarios with the downloader's test hooks (downloader.simulation),
set where upstream's suite sets them — on the AIMArtifact's `env` — and reaching the download
Job's environment. As in test_caching_download.py, `aim-download` runs as a local process with
exactly the Job's command, arguments and environment, reporting to the artifact, while the Job's
simulated pod runs for JOB_SECONDS and then ends as the process did: the controller's phases are
Downloading → Verifying (every byte there, the Job still running) → Verified, with
`download.message: Complete`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from controller.artifact.plan import child_name
from devcluster.controlplane import ControlPlane
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl, controller_running
from tests.integration.test_caching import wait_status
from tests.integration.test_service_controller import V1
from tests.servers.fixtures import AIM_DOWNLOAD, DownloadRun, MiB, run_download

JOB_SECONDS = 10
"""The simulated pod outlives the local process (about 2 + 4 s), so Verifying can be seen."""


@pytest.fixture(scope="module", autouse=True)
def controller(control_plane: ControlPlane) -> Iterator[None]:
    with controller_running(
        control_plane, "controller-download-hooks", {"sim.aim.eai.amd.com/run-duration": f"{JOB_SECONDS}s"}
    ):
        yield


def simulated_artifact(name: str, **hooks: str) -> dict[str, Any]:
    env = [{"name": key, "value": value} for key, value in hooks.items()]
    spec = {"sourceUri": "hf://test-org/test-model", "modelId": "test-org/test-model", "size": str(MiB), "env": env}
    return {"apiVersion": V1, "kind": "AIMArtifact", "metadata": {"name": name}, "spec": spec}


def run_the_job_locally(
    control_plane: ControlPlane, kubectl: Kubectl, artifact: dict[str, Any], tmp_path: Path
) -> DownloadRun:
    job = kubectl.get_json("jobs", child_name(artifact, "download"))
    container = job["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    assert env["AIM_DEBUG_SIMULATE_DOWNLOAD"] == "true", "spec.env reaches the Job"
    volume = tmp_path / "volume"
    env |= {
        "MOUNT_PATH": str(volume),
        "TARGET_DIR": str(volume),
        "TMPDIR": str(tmp_path),
        "HF_HOME": str(tmp_path / ".hf"),
        "HF_ENDPOINT": "http://127.0.0.1:1",  # a simulated download opens no connection
        "KUBECONFIG": str(control_plane.kubeconfig),
        "AIM_TERMINATION_LOG": str(tmp_path / "termination-log"),
        "PATH": f"{AIM_DOWNLOAD.parent}{os.pathsep}{os.environ['PATH']}",
    }
    return run_download(*container["args"], env=env)


def test_simulated_download_walks_downloading_verifying_verified(
    control_plane: ControlPlane, kubectl: Kubectl, tmp_path: Path
) -> None:
    hooks = {
        "AIM_DEBUG_SIMULATE_DOWNLOAD": "true",
        "AIM_DEBUG_DOWNLOAD_DURATION": "2",
        "AIM_DEBUG_VERIFY_DURATION": "4",
        "PROGRESS_INTERVAL": "0.5",
    }
    kubectl.apply(simulated_artifact("progress-success", **hooks))
    artifact = wait_status(kubectl, "aimartifacts", "progress-success", "Progressing")

    seen: list[tuple[int, str]] = []  # (percentage, DownloadComplete reason) while the process runs
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.3):
            status = kubectl.get_json("aimartifacts", "progress-success").get("status") or {}
            percentage = int((status.get("progress") or {}).get("percentage") or 0)
            seen.append((percentage, condition(status, "DownloadComplete").get("reason", "")))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    run = run_the_job_locally(control_plane, kubectl, artifact, tmp_path)
    done.set()
    watcher.join()
    assert run.returncode == 0, run.stderr[-3000:]
    assert any(0 < p < 100 and reason == "Downloading" for p, reason in seen), seen
    assert any(p == 100 and reason == "Verifying" for p, reason in seen), seen

    ready = wait_status(kubectl, "aimartifacts", "progress-success", "Ready", timeout=JOB_SECONDS + 30)
    status = ready["status"]
    assert condition(status, "DownloadComplete")["reason"] == "Verified"
    assert status["progress"]["displayPercentage"] == "100 %"
    assert status["download"]["message"] == "Complete"
    assert condition(status, "Ready")["status"] == "True"

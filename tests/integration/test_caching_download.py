"""The status walk of an artifact with the real downloader: the controller creates the PVC and the
download Job (Pending → Progressing), `aim-download` runs as a local process with exactly the Job's
command, arguments and environment against a Hugging Face-compatible server on 127.0.0.1, writing
to a temporary directory that stands in for the volume and reporting progress to the artifact; the
Job then completes on its simulated node as it would when the container exits 0 (→ Ready).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from controller.artifact.plan import child_name
from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl, controller_running
from tests.integration.test_caching import wait_status
from tests.integration.test_service_controller import V1
from tests.servers.fixtures import AIM_DOWNLOAD, HfServer, MiB, hub_with_repositories, run_download, sha256_tree

JOB_SECONDS = 12
"""Long enough for the local download (a few seconds) to report while the Job still runs."""


@pytest.fixture(scope="module", autouse=True)
def controller(control_plane: ControlPlane) -> Iterator[None]:
    with controller_running(
        control_plane, "controller-download", {"sim.aim.eai.amd.com/run-duration": f"{JOB_SECONDS}s"}
    ):
        yield


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HfServer]:
    with hub_with_repositories(tmp_path_factory.mktemp("hub")) as server:
        yield server


def job_environment(job: dict[str, Any]) -> dict[str, str]:
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert all("value" in e for e in container["env"]), "no Secret references in this test"
    return {e["name"]: e["value"] for e in container["env"]}


def test_pending_progressing_ready_with_the_real_downloader(
    control_plane: ControlPlane, kubectl: Kubectl, namespace: str, hub: HfServer, tmp_path: Path
) -> None:
    size = 24 * MiB
    kubectl.apply(
        {
            "apiVersion": V1,
            "kind": "AIMArtifact",
            "metadata": {"name": "big"},
            "spec": {
                "sourceUri": "hf://acme/big",
                "modelId": "acme/big",
                "size": str(size),
                "env": [
                    {"name": "HF_ENDPOINT", "value": hub.url},
                    {"name": "AIM_DOWNLOADER_PROTOCOL", "value": "HF_TRANSFER,HTTP"},
                ],
            },
        }
    )
    artifact = wait_status(kubectl, "aimartifacts", "big", "Progressing")
    assert condition(artifact["status"], "DownloadComplete")["reason"] == "Downloading"
    job = kubectl.get_json("jobs", child_name(artifact, "download"))
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert job_environment(job)["EXPECTED_SIZE_BYTES"] == str(size)
    env = local_run_environment(job, control_plane, tmp_path) | {"PROGRESS_INTERVAL": "0.5"}
    volume = tmp_path / "volume"
    assert container["command"] == ["aim-download"]
    run = run_download(*container["args"], env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert sha256_tree(volume) == sha256_tree(hub.root / "acme" / "big")

    # The downloader's own report is on the artifact while the Job still runs. The local run can
    # finish before kwok has made the Job's pod Ready (a loaded machine): the artifact is then Pending
    # (DownloadJobPodsReady=False PodsPending, as upstream) until the pod is Ready, so wait for that.
    reported = wait_status(kubectl, "aimartifacts", "big", "Progressing")["status"]
    assert reported["download"]["protocol"] == "HF_TRANSFER"
    assert reported["download"]["protocolSequence"] == "HF_TRANSFER,HTTP"
    assert reported["progress"]["downloadedBytes"] == size

    ready = wait_status(kubectl, "aimartifacts", "big", "Ready", timeout=JOB_SECONDS + 30)
    assert condition(ready["status"], "DownloadComplete")["reason"] == "Verified"
    assert ready["status"]["progress"]["percentage"] == 100
    assert ready["status"]["download"]["protocol"] == "HF_TRANSFER", "the controller keeps what the downloader wrote"
    assert ready["status"]["displaySize"] == "24.0 MiB"
    events = kubectl("get", "events", "--field-selector", "involvedObject.name=big", "-o", "json").stdout
    assert "DownloadComplete" in events
    wait_until(lambda: kubectl("get", "aimartifacts").stdout.count("Ready") >= 1, 10, "kubectl get aimart")


def local_run_environment(job: dict[str, Any], control_plane: ControlPlane, tmp_path: Path) -> dict[str, str]:
    """The Job's environment, with the volume (a temporary directory) and the pod's identity (our
    kubeconfig) replaced by local stand-ins."""
    volume = tmp_path / "volume"
    return job_environment(job) | {
        "MOUNT_PATH": str(volume),
        "TARGET_DIR": str(volume),
        "TMPDIR": str(tmp_path),
        "HF_HOME": str(tmp_path / ".hf"),
        "KUBECONFIG": str(control_plane.kubeconfig),
        "AIM_TERMINATION_LOG": str(tmp_path / "termination-log"),
        "PATH": f"{AIM_DOWNLOAD.parent}{os.pathsep}{os.environ['PATH']}",
    }


def test_download_filter_the_size_is_the_bytes_written(
    control_plane: ControlPlane, kubectl: Kubectl, namespace: str, hub: HfServer, tmp_path: Path
) -> None:
    """A runtime config's filter reaches both Jobs; the check-size Job's answer is exactly what the
    download Job writes (acme/tiny: config.json, model.safetensors, sub/tokenizer.json)."""
    kubectl.apply(
        {
            "apiVersion": V1,
            "kind": "AIMRuntimeConfig",
            "metadata": {"name": "no-weights"},
            "spec": {"storage": {"downloadFilter": {"exclude": ["*.safetensors"]}}},
        }
    )
    source = {"sourceUri": "hf://acme/tiny", "runtimeConfigName": "no-weights"}
    env = [{"name": "HF_ENDPOINT", "value": hub.url}, {"name": "AIM_DOWNLOADER_PROTOCOL", "value": "HTTP"}]
    kubectl.apply(
        {"apiVersion": V1, "kind": "AIMArtifact", "metadata": {"name": "sized"}, "spec": source | {"env": env}}
    )
    size_job_name = child_name(kubectl.get_json("aimartifacts", "sized"), "check-size")
    wait_until(lambda: kubectl("get", "job", size_job_name, check=False).returncode == 0, 30, "the check-size Job")
    size_job = kubectl.get_json("jobs", size_job_name)
    size_container = size_job["spec"]["template"]["spec"]["containers"][0]
    assert job_environment(size_job)["AIM_HF_EXCLUDE"] == "*.safetensors"
    checked = run_download(*size_container["args"], env=local_run_environment(size_job, control_plane, tmp_path / "s"))
    assert checked.returncode == 0, checked.stderr[-3000:]
    reported = json.loads(checked.stdout.strip().splitlines()[-1])["sizeBytes"]

    kubectl.apply(
        {
            "apiVersion": V1,
            "kind": "AIMArtifact",
            "metadata": {"name": "filtered"},
            "spec": source | {"env": env, "size": str(reported)},
        }
    )
    artifact = wait_status(kubectl, "aimartifacts", "filtered", "Progressing")
    job = kubectl.get_json("jobs", child_name(artifact, "download"))
    run = run_download(
        *job["spec"]["template"]["spec"]["containers"][0]["args"],
        env=local_run_environment(job, control_plane, tmp_path / "d"),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    volume = tmp_path / "d" / "volume"
    written = sha256_tree(volume)
    assert sorted(written) == ["config.json", "sub/tokenizer.json"]
    assert sum((volume / name).stat().st_size for name in written) == reported

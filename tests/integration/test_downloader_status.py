"""aim-download reports to the AIMArtifact's status subresource on the real API server: progress
while it downloads, the protocol and attempt after a fallback, 100 % at the end; and it carries
on without a cluster."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devcluster.controlplane import ControlPlane
from tests.conftest import Kubectl
from tests.servers.fixtures import HfServer, MiB, download_env, hub_with_repositories, run_download, start_download


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HfServer]:
    with hub_with_repositories(tmp_path_factory.mktemp("hub")) as server:
        yield server


def artifact(name: str, uri: str) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMArtifact",
        "metadata": {"name": name},
        "spec": {"sourceUri": uri, "modelId": "acme/big"},
    }


def test_status_reports_progress_protocol_and_completion(
    hub: HfServer, control_plane: ControlPlane, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    hub.reset()
    kubectl.apply(artifact("big", "hf://acme/big"))
    size = 24 * MiB
    hub.set_faults(
        {"action": "fail", "user_agent": "protocol/XET", "path": "/resolve/", "status": 503},
        {"action": "throttle", "user_agent": "protocol/HTTP", "path": "weights.bin", "bytes_per_second": 8 * MiB},
    )
    env = download_env(
        tmp_path,
        HF_ENDPOINT=hub.url,
        AIM_DOWNLOADER_PROTOCOL="XET,HTTP",
        KUBECONFIG=str(control_plane.kubeconfig),
        ARTIFACT_NAME="big",
        ARTIFACT_NAMESPACE=namespace,
        PROGRESS_INTERVAL="0.5",
    )
    process = start_download("hf://acme/big", env=env)
    seen: list[dict[str, Any]] = []
    while process.poll() is None:
        status = kubectl.get_json("aimartifacts", "big").get("status", {})
        if status.get("progress"):
            seen.append(status)
        time.sleep(0.2)
    _, stderr = process.communicate()
    assert process.returncode == 0, stderr

    final = kubectl.get_json("aimartifacts", "big")["status"]
    assert final["progress"] == {
        "totalBytes": size,
        "downloadedBytes": size,
        "percentage": 100,
        "displayPercentage": "100 %",
    }
    assert final["download"] == {
        "protocol": "HTTP",
        "attempt": 2,
        "totalAttempts": 2,
        "protocolSequence": "XET,HTTP",
        "message": "download complete",
    }
    midway = [s["progress"]["percentage"] for s in seen if 0 < s["progress"]["percentage"] < 100]
    assert midway, f"no progress between 0 and 100 % seen in {len(seen)} snapshots"
    assert all(
        s["progress"]["percentage"] <= 99 for s in seen if s.get("download", {}).get("message") != "download complete"
    )
    # The first report can come before the size is known (no EXPECTED_SIZE_BYTES here).
    assert all(s["progress"].get("totalBytes", size) == size for s in seen)
    assert {s["download"]["protocol"] for s in seen if "download" in s} <= {"XET", "HTTP"}


def test_failure_reason_reaches_the_status(
    hub: HfServer, control_plane: ControlPlane, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    hub.reset()
    kubectl.apply(artifact("missing", "hf://acme/missing"))
    env = download_env(
        tmp_path,
        HF_ENDPOINT=hub.url,
        KUBECONFIG=str(control_plane.kubeconfig),
        ARTIFACT_NAME="missing",
        ARTIFACT_NAMESPACE=namespace,
    )
    result = run_download("hf://acme/missing", env=env)
    assert result.returncode == 3
    message = kubectl.get_json("aimartifacts", "missing")["status"]["download"]["message"]
    assert message == result.termination_message


def test_without_a_cluster_the_download_goes_on(hub: HfServer, tmp_path: Path) -> None:
    env = download_env(
        tmp_path,
        HF_ENDPOINT=hub.url,
        AIM_DOWNLOADER_PROTOCOL="HTTP",
        KUBECONFIG=str(tmp_path / "no-kubeconfig"),
        ARTIFACT_NAME="a",
        ARTIFACT_NAMESPACE="b",
    )
    result = run_download("hf://acme/tiny", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Found no Kubernetes configuration") == 1


def test_an_unreachable_api_server_does_not_fail_the_download(hub: HfServer, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {token: abc}}]\n"
    )
    env = download_env(
        tmp_path,
        HF_ENDPOINT=hub.url,
        AIM_DOWNLOADER_PROTOCOL="HTTP",
        KUBECONFIG=str(kubeconfig),
        ARTIFACT_NAME="a",
        ARTIFACT_NAMESPACE="b",
    )
    result = run_download("hf://acme/tiny", env=env)
    assert result.returncode == 0, result.stderr
    assert "Failed to patch AIMArtifact status" in result.stderr

"""LoRA adapters through the real API server (simulated nodes: the Jobs' pods complete without
running; the files they write are tested in tests/unit/downloader/test_adapters.py and on the
real node in tests/realnode/test_data_plane.py).

The bootstrap upstream documents: a model artifact with an adapter disk that the template cache
adopts (same source), adapter artifacts naming it, a service declaring them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl, controller_running
from tests.integration.test_service_controller import deployed, ready_model, ready_template, service, wait_service

V1 = "aim.eai.amd.com/v1alpha1"
SOURCE = "hf://Qwen/Qwen3-32B"


@pytest.fixture(scope="module", autouse=True)
def adapter_controller(control_plane: ControlPlane) -> Iterator[None]:
    with controller_running(control_plane, "controller-adapters", {}, adapter_reap_interval_seconds="5"):
        yield


def artifact(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": V1, "kind": "AIMArtifact", "metadata": {"name": name}, "spec": spec}


def artifact_status(kubectl: Kubectl, name: str) -> dict[str, Any]:
    found: dict[str, Any] = kubectl.get_json("aimartifact", name).get("status") or {}
    return found


def base_with_adapters(kubectl: Kubectl, *adapters: str) -> None:
    """The model, its template, the parent artifact with an adapter disk, and Ready adapters."""
    ready_model(kubectl, "qwen")
    ready_template(kubectl, "qwen-mi300x", "qwen", "MI300X")
    kubectl.apply(artifact("qwen-base", sourceUri=SOURCE, size="1Gi", adapterDisk={"size": "2Gi"}))
    wait_until(
        lambda: artifact_status(kubectl, "qwen-base").get("adapterPersistentVolumeClaim"), 60, "the adapter disk"
    )
    for name in adapters:
        kubectl.apply(
            artifact(name, type="adapter", parentArtifact="qwen-base", sourceUri=f"hf://acme/{name}", rank=16)
        )
    for name in adapters:

        def ready(adapter: str = name) -> bool:
            return bool(artifact_status(kubectl, adapter).get("status") == "Ready")

        wait_until(ready, 30, f"adapter {name} Ready")


def adapter_jobs(kubectl: Kubectl, component: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = kubectl.get_json("jobs", "-l", f"app.kubernetes.io/component={component}")["items"]
    return found


def predictor(kubectl: Kubectl, service_name: str) -> dict[str, Any] | None:
    found = kubectl.get_json("inferenceservices", "-l", f"aim.eai.amd.com/service.name={service_name}")["items"]
    return found[0]["spec"]["predictor"] if found else None


def states(status: dict[str, Any]) -> dict[str, str]:
    return {a["name"]: a["state"] for a in status.get("adapters") or []}


def test_adapter_artifacts_report_their_lineage(kubectl: Kubectl) -> None:
    kubectl.apply(artifact("plain", sourceUri=SOURCE, size="1Gi"))
    kubectl.apply(artifact("orphan", type="adapter", parentArtifact="missing", sourceUri="hf://acme/a"))
    kubectl.apply(artifact("diskless", type="adapter", parentArtifact="plain", sourceUri="hf://acme/b"))
    wait_until(
        lambda: (
            condition(artifact_status(kubectl, "diskless"), "AdapterParentReady").get("reason")
            == "ParentLacksAdapterDisk"
        ),
        30,
        "ParentLacksAdapterDisk",
    )
    orphan = artifact_status(kubectl, "orphan")
    assert condition(orphan, "AdapterParentReady")["reason"] == "ParentArtifactNotFound"
    assert orphan["status"] == "Pending"
    diskless = artifact_status(kubectl, "diskless")
    assert diskless["adapterPath"] == "diskless"
    assert diskless["resolvedParent"]["name"] == "plain"
    assert diskless["parentModelId"] == "Qwen/Qwen3-32B", "the webhook named the parent's model after its source"
    assert not kubectl.get_json("pvc", "-l", "aim.eai.amd.com/cache.name=diskless")["items"], "an adapter has no volume"


def test_a_dynamic_service_stages_its_adapters_mounts_its_subtree_and_prunes_a_removed_one(kubectl: Kubectl) -> None:
    base_with_adapters(kubectl, "tone", "sql")
    kubectl.apply(
        service(
            "lora",
            model={"name": "qwen"},
            template={"name": "qwen-mi300x"},
            adapterMode="dynamic",
            adapters=[{"name": "tone", "kind": "AIMArtifact"}, {"name": "sql", "kind": "AIMArtifact"}],
        )
    )
    staged = wait_service(
        kubectl,
        "lora",
        lambda s: states(s) == {"tone": "Downloaded", "sql": "Downloaded"} and deployed(s),
        "both adapters Downloaded and the InferenceService created",
    )["status"]
    assert condition(staged, "AdaptersReady")["reason"] == "AdaptersStaged"
    assert staged["status"] == "Starting", "the InferenceService exists; KServe is not running here"
    disk = artifact_status(kubectl, "qwen-base")["adapterPersistentVolumeClaim"]
    assert staged["adapterDiskPersistentVolumeClaim"] == disk
    key = staged["adapterSubtreeSyncKey"]
    uid = kubectl.get_json("aimservice", "lora")["metadata"]["uid"]
    [sync] = adapter_jobs(kubectl, "adapter-subtree-sync")
    env = {e["name"]: e["value"] for e in sync["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["KEEP_ADAPTER_PATHS"] == "sql,tone"
    assert env["SERVICE_ID"] == uid
    stage_jobs = adapter_jobs(kubectl, "adapter-stage")
    assert len(stage_jobs) == 2
    assert all(j["metadata"]["labels"]["aim.eai.amd.com/service"] == "lora" for j in stage_jobs)
    spec = predictor(kubectl, "lora")
    assert spec is not None
    assert {"name": "adapter-disk", "persistentVolumeClaim": {"claimName": disk, "readOnly": True}} in spec["volumes"]
    container = spec["containers"][0]
    assert {"name": "adapter-disk", "mountPath": "/adapters", "subPath": uid, "readOnly": True} in container[
        "volumeMounts"
    ]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["AIM_ADAPTER_SOURCE"] == "/adapters"
    assert env["AIM_ADAPTER_MODE"] == "dynamic"
    assert env["AIM_ADAPTER_REFRESH_INTERVAL"] == "30"

    kubectl("patch", "aimservice.aim.eai.amd.com", "lora", "--type=merge", "-p", '{"spec":{"adapters":[]}}')
    pruned = wait_service(
        kubectl,
        "lora",
        lambda s: not s.get("adapters") and s.get("adapterSubtreeSyncKey") not in (None, key),
        "the removed adapters pruned",
    )["status"]
    assert condition(pruned, "AdaptersReady")["message"] == "Adapter subtree ready; no adapters declared"
    assert not adapter_jobs(kubectl, "adapter-stage"), "the removed adapters' staging Jobs are gone"
    spec = predictor(kubectl, "lora")
    assert spec is not None
    assert any(v["name"] == "adapter-disk" for v in spec["volumes"]), "dynamic: still mounted"


def test_a_static_service_with_an_adapter_of_another_model_is_refused_by_name(kubectl: Kubectl) -> None:
    base_with_adapters(kubectl, "tone")
    kubectl.apply(artifact("other-base", sourceUri="hf://acme/other", size="1Gi", adapterDisk={}))
    kubectl.apply(artifact("stray", type="adapter", parentArtifact="other-base", sourceUri="hf://acme/stray"))
    kubectl.apply(
        service(
            "wrong",
            model={"name": "qwen"},
            template={"name": "qwen-mi300x"},
            adapters=[{"name": "stray", "kind": "AIMArtifact"}],
        )
    )
    failed = wait_service(
        kubectl, "wrong", lambda s: condition(s, "AdaptersReady").get("reason") == "AdapterConfigInvalid", "invalid"
    )["status"]
    assert "adapter stray.parentArtifact (other-base) does not match" in condition(failed, "AdaptersReady")["message"]
    assert condition(failed, "ConfigValid")["status"] == "False"
    assert predictor(kubectl, "wrong") is None, "no InferenceService for an invalid adapter set"
    refused = kubectl(
        "patch",
        "aimservice.aim.eai.amd.com",
        "wrong",
        "--type=merge",
        "-p",
        '{"spec":{"adapters":[{"name":"tone","kind":"AIMArtifact"}]}}',
        check=False,
    )
    assert refused.returncode != 0
    assert "spec.adapters is immutable unless spec.adapterMode is dynamic" in refused.stderr


def test_deleting_a_service_starts_a_reaper_that_no_longer_keeps_its_subtree(kubectl: Kubectl) -> None:
    base_with_adapters(kubectl, "tone")
    kubectl.apply(
        service(
            "short-lived",
            model={"name": "qwen"},
            template={"name": "qwen-mi300x"},
            adapters=[{"name": "tone", "kind": "AIMArtifact"}],
        )
    )
    wait_service(kubectl, "short-lived", lambda s: states(s) == {"tone": "Downloaded"}, "tone Downloaded")
    uid = kubectl.get_json("aimservice", "short-lived")["metadata"]["uid"]

    def keeps() -> dict[str, str]:
        return {
            j["metadata"]["name"]: next(
                e.get("value", "")
                for e in j["spec"]["template"]["spec"]["containers"][0]["env"]
                if e["name"] == "KEEP_SERVICE_IDS"
            )
            for j in adapter_jobs(kubectl, "adapter-reap")
        }

    wait_until(lambda: uid in keeps().values(), 30, "a reaper sweep that keeps the service's subtree")
    before = keeps()
    kubectl("delete", "aimservice.aim.eai.amd.com", "short-lived", "--wait=true", timeout=60)
    wait_until(
        lambda: any(keep == "" for name, keep in keeps().items() if name not in before),
        30,
        "a reaper for the deleted service, at once",
    )
    wait_until(
        lambda: not kubectl.get_json("aimartifact", "qwen-base")["status"].get("adapterServices"),
        30,
        "the service forgotten once its reaper completed",
    )

"""plan_profile and plan_profile_cache: profiles, nodes and artifacts in; status, caches and
artifacts out (no API server)."""

from __future__ import annotations

from typing import Any

import pytest

from api.stored import read_artifact, read_profile, read_profile_cache
from api.v1alpha2.aimprofile import AIMProfileSpecCommon
from controller.common.caching import CacheObservation
from controller.profile.observe import ProfileObservation
from controller.profile.plan import image_version, node_fits, plan_profile, profile_resources
from controller.profilecache.plan import ProfileCacheObservation, plan_profile_cache
from tests.builders import condition

NOW = "2026-11-23T12:00:00Z"
LABEL = "feature.node.kubernetes.io/aim-accelerator."


def node(
    name: str, accelerator: str = "", gpus: int = 0, cpu: str = "64", unschedulable: bool = False
) -> dict[str, Any]:
    allocatable = {"cpu": cpu, "memory": "256Gi", "pods": "110"} | ({"amd.com/gpu": str(gpus)} if gpus else {})
    return {
        "metadata": {"name": name, "labels": {f"{LABEL}{accelerator}": "true"} if accelerator else {}},
        "spec": {"unschedulable": True} if unschedulable else {},
        "status": {"allocatable": allocatable},
    }


NODES = [node("mi300x", "MI300X", 8, "192"), node("mi350x", "MI350X", 8, "256"), node("cpu")]


def profile(kind: str = "AIMProfile", **spec: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "qwen-mi300x", "uid": "p-1", "generation": 2}
    if kind == "AIMProfile":
        metadata["namespace"] = "team"
    defaults = {
        "aimId": "qwen/qwen3-32b",
        "image": "registry.local/aim-qwen:0.8.5",
        "acceleratorModel": "MI300X",
        "acceleratorType": "gpu",
        "acceleratorCount": 2,
    }
    return {"apiVersion": "aim.eai.amd.com/v1alpha2", "kind": kind, "metadata": metadata, "spec": defaults | spec}


def observe(stored: dict[str, Any], nodes: list[dict[str, Any]] = NODES) -> ProfileObservation:
    """The observation of `stored` (a dict as the API server sends it, read as the fetch step does)."""
    return ProfileObservation(read_profile(stored), nodes)


RESOURCES = [
    (
        "gpu-count-as-requests-and-limits",
        {"acceleratorType": "gpu", "acceleratorCount": 2},
        {"limits": {"amd.com/gpu": "2"}, "requests": {"amd.com/gpu": "2"}},
    ),
    ("cpu-count-as-cpu-requests", {"acceleratorType": "cpu", "acceleratorCount": 16}, {"requests": {"cpu": "16"}}),
    (
        "explicit-resources-win-per-name",
        {
            "acceleratorType": "gpu",
            "acceleratorCount": 1,
            "resources": {"requests": {"amd.com/gpu": 2, "memory": "64Gi"}, "limits": {"memory": "96Gi"}},
        },
        {"limits": {"amd.com/gpu": "1", "memory": "96Gi"}, "requests": {"amd.com/gpu": "2", "memory": "64Gi"}},
    ),
    ("no-type-derives-nothing", {"acceleratorCount": 4}, None),
    ("nothing", {}, None),
]


@pytest.mark.parametrize(("case", "spec", "expected"), RESOURCES, ids=[r[0] for r in RESOURCES])
def test_profile_resources(case: str, spec: dict[str, Any], expected: dict[str, Any] | None) -> None:
    typed = AIMProfileSpecCommon.model_validate({"aimId": "qwen/qwen3-32b", "image": "aim:1"} | spec)
    assert profile_resources(typed) == expected


FITS = [
    ("labelled-with-room", node("n", "MI300X", 8), "MI300X", {"amd.com/gpu": "2"}, True),
    ("other-accelerator", node("n", "MI350X", 8), "MI300X", {"amd.com/gpu": "2"}, False),
    ("too-few-gpus", node("n", "MI300X", 1), "MI300X", {"amd.com/gpu": "2"}, False),
    ("gpu-not-reported", node("n", "MI300X"), "MI300X", {"amd.com/gpu": "1"}, False),
    ("unschedulable", node("n", "MI300X", 8, unschedulable=True), "MI300X", {}, False),
    ("millicpu-compared-exactly", node("n", cpu="1500m"), None, {"cpu": "1600m"}, False),
    ("millicpu-fits", node("n", cpu="2"), None, {"cpu": "1500m"}, True),
    ("no-accelerator-any-node", node("n"), None, {"memory": "128Gi"}, True),
]


@pytest.mark.parametrize(("case", "n", "model", "requests", "fits"), FITS, ids=[f[0] for f in FITS])
def test_node_fits(case: str, n: dict[str, Any], model: str | None, requests: dict[str, str], fits: bool) -> None:
    assert node_fits(n, model, requests) is fits


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("registry.local/aim-qwen:0.8.5", "0.8.5"),
        ("registry.local:5000/aim-qwen", None),
        ("aim-qwen@sha256:" + "a" * 64, None),
        ("aim-qwen:0.9@sha256:" + "a" * 64, "0.9"),
        ("Not An Image", None),
    ],
)
def test_version_is_the_image_tag(image: str, version: str | None) -> None:
    assert image_version(image) == version


def test_ready_profile_status() -> None:
    plan = plan_profile(observe(profile()), NOW)
    status = plan.status
    assert status is not None
    assert status["status"] == "Ready"
    assert status["matchingNodes"] == 1
    assert status["version"] == "0.8.5"
    assert status["hardwareSummary"] == "2 x MI300X"
    assert status["resources"] == {"limits": {"amd.com/gpu": "2"}, "requests": {"amd.com/gpu": "2"}}
    assert status["resolvedNodeAffinity"] == {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": f"{LABEL}MI300X", "operator": "Exists"}]}]
        }
    }
    hardware = condition(status, "HardwareAvailable")
    assert (hardware["status"], hardware["reason"]) == ("True", "HardwareAvailable")
    assert status["observedGeneration"] == 2
    assert plan.apply == []
    assert plan.events == []


SITUATIONS = [
    ("accelerator-nowhere", {"acceleratorModel": "MI325X"}, "NotAvailable", "HardwareNotAvailable", 0),
    ("more-gpus-than-a-node-has", {"acceleratorCount": 16}, "NotAvailable", "HardwareNotAvailable", 0),
    (
        "no-accelerator",
        {"acceleratorModel": None, "acceleratorType": None, "acceleratorCount": None},
        "Ready",
        "NoAcceleratorSpecified",
        3,
    ),
    (
        "cpu-profile-needing-many-cores",
        {"acceleratorModel": None, "acceleratorType": "cpu", "acceleratorCount": 128},
        "Ready",
        "HardwareAvailable",
        2,
    ),
]


@pytest.mark.parametrize(("case", "spec", "state", "reason", "matching"), SITUATIONS, ids=[s[0] for s in SITUATIONS])
def test_availability(case: str, spec: dict[str, Any], state: str, reason: str, matching: int) -> None:
    plan = plan_profile(observe(profile(**spec)), NOW)
    assert plan.status is not None
    assert (plan.status["status"], condition(plan.status, "HardwareAvailable")["reason"]) == (state, reason)
    assert plan.status["matchingNodes"] == matching
    assert [e.reason for e in plan.events] == (["HardwareNotAvailable"] if state == "NotAvailable" else [])


def test_hardware_summary_without_a_count_or_an_accelerator() -> None:
    def summary(**spec: Any) -> str:
        status = plan_profile(observe(profile(**spec)), NOW).status
        assert status is not None
        return str(status["hardwareSummary"])

    assert summary(acceleratorCount=None) == "MI300X"
    assert summary(acceleratorModel=None, acceleratorType="cpu") == "CPU"


def test_caching_profile_owns_a_cache_of_its_name() -> None:
    sources = [{"modelId": "qwen/qwen3-32b", "sourceUri": "hf://qwen/qwen3-32b"}]
    env = [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}}}]
    cached = profile(modelSources=sources, caching={"enabled": True, "env": env})
    [cache] = plan_profile(observe(cached), NOW).apply
    assert cache["kind"] == "AIMProfileCache"
    assert cache["metadata"]["name"] == "qwen-mi300x"
    assert cache["metadata"]["ownerReferences"][0]["uid"] == "p-1"
    assert cache["spec"] == {"profileName": "qwen-mi300x", "profileScope": "Namespace", "mode": "Shared", "env": env}
    assert plan_profile(observe(profile(caching={"enabled": True})), NOW).apply == []
    cluster = profile("AIMClusterProfile", modelSources=sources)
    assert plan_profile(observe(cluster), NOW).apply == []


# --- AIMProfileCache -----------------------------------------------------------------------------


def profile_cache(mode: str = "Shared", scope: str = "Namespace", **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha2",
        "kind": "AIMProfileCache",
        "metadata": {"name": "qwen-cache", "namespace": "team", "uid": "c-1", "generation": 1} | metadata,
        "spec": {"profileName": "qwen-mi300x", "profileScope": scope, "mode": mode},
    }


SOURCES = [
    {"modelId": "qwen/qwen3-32b", "sourceUri": "hf://qwen/qwen3-32b", "size": "60Gi"},
    {"modelId": "qwen/draft", "sourceUri": "s3://models/qwen/draft"},
]


def artifact(name: str, uri: str, state: str, owner: str = "", **labels: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": "team", "uid": f"a-{name}", "labels": labels}
    if owner:
        metadata["ownerReferences"] = [{"uid": owner, "kind": "AIMProfileCache", "name": "qwen-cache"}]
    return {
        "metadata": metadata,
        "spec": {"sourceUri": uri},
        "status": {"status": state, "persistentVolumeClaim": f"{name}-pvc"},
    }


def observe_cache(
    cache: dict[str, Any],
    source: dict[str, Any] | None,
    artifacts: list[dict[str, Any]] | None = None,
    namespace_terminating: bool = False,
) -> ProfileCacheObservation:
    """The cache's observation (dicts as the API server sends them, read as the fetch step does)."""
    return CacheObservation(
        read_profile_cache(cache),
        None if source is None else read_profile(source),
        [read_artifact(a) for a in artifacts or []],
        namespace_terminating,
    )


def test_profile_cache_without_its_profile_fails() -> None:
    plan = plan_profile_cache(observe_cache(profile_cache(scope="Cluster"), None), NOW)
    assert plan.status is not None
    assert plan.status["status"] == "Failed"
    found = condition(plan.status, "ProfileFound")
    assert (found["reason"], found["message"]) == ("ProfileNotFound", "AIMClusterProfile qwen-mi300x not found")
    assert plan.finalizers == ["aim.eai.amd.com/artifactcleanup"]


def test_profile_cache_creates_one_artifact_per_source_labelled_for_cleanup() -> None:
    observed = observe_cache(profile_cache(), profile(modelSources=SOURCES))
    plan = plan_profile_cache(observed, NOW)
    assert [a["spec"]["sourceUri"] for a in plan.apply] == ["hf://qwen/qwen3-32b", "s3://models/qwen/draft"]
    first = plan.apply[0]
    assert first["spec"]["size"] == "60Gi"
    assert first["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "aim-engine",
        "aim.eai.amd.com/profile.name": "qwen-mi300x",
        "aim.eai.amd.com/profile.scope": "Namespace",
        "aim.eai.amd.com/profile.index": "0",
        "aim.eai.amd.com/profile-cache.name": "qwen-cache",
    }
    assert "ownerReferences" not in first["metadata"]
    assert plan.status is not None
    assert (plan.status["status"], condition(plan.status, "ArtifactsReady")["reason"]) == (
        "Progressing",
        "CreatingCaches",
    )
    assert condition(plan.status, "ProfileFound")["reason"] == "ProfileResolved"

    dedicated = plan_profile_cache(observe_cache(profile_cache("Dedicated"), profile(modelSources=SOURCES)), NOW)
    assert dedicated.apply[0]["metadata"]["ownerReferences"][0]["uid"] == "c-1"
    assert dedicated.apply[0]["metadata"]["name"] != first["metadata"]["name"]


def test_profile_cache_reuses_shared_artifacts_and_reports_them() -> None:
    artifacts = [
        artifact("weights", "hf://qwen/qwen3-32b", "Ready"),
        artifact("draft", "s3://models/qwen/draft", "Ready"),
        artifact("owned", "hf://qwen/qwen3-32b", "Ready", owner="someone-else"),
    ]
    plan = plan_profile_cache(observe_cache(profile_cache(), profile(modelSources=SOURCES), artifacts), NOW)
    assert plan.apply == []
    assert plan.status is not None
    assert plan.status["status"] == "Ready"
    assert condition(plan.status, "ArtifactsReady")["reason"] == "AllCachesReady"
    assert plan.status["artifacts"]["weights"] == {
        "uid": "a-weights",
        "name": "weights",
        "model": "qwen/qwen3-32b",
        "status": "Ready",
        "persistentVolumeClaim": "weights-pvc",
    }
    assert set(plan.status["artifacts"]) == {"weights", "draft"}


def test_profile_without_sources_leaves_nothing_to_cache() -> None:
    plan = plan_profile_cache(observe_cache(profile_cache(), profile()), NOW)
    assert plan.status is not None
    assert (plan.status["status"], condition(plan.status, "ArtifactsReady")["reason"]) == ("Failed", "NoCaches")


def test_deleted_profile_cache_removes_its_unfinished_artifacts_only() -> None:
    label = {"aim.eai.amd.com/profile-cache.name": "qwen-cache"}
    artifacts = [
        artifact("done", "hf://a/b", "Ready", **label),
        artifact("stuck", "hf://a/c", "Failed", **label),
        artifact("others", "hf://a/d", "Failed", **{"aim.eai.amd.com/profile-cache.name": "other"}),
    ]
    deleting = profile_cache(deletionTimestamp=NOW, finalizers=["aim.eai.amd.com/artifactcleanup", "x"])
    plan = plan_profile_cache(observe_cache(deleting, profile(), artifacts), NOW)
    assert [ref.name for ref in plan.delete] == ["stuck"]
    assert plan.finalizers == ["x"]
    assert plan.status is None
    terminating = observe_cache(deleting, profile(), artifacts, namespace_terminating=True)
    assert plan_profile_cache(terminating, NOW).delete == []

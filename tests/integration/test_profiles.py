"""v1alpha2 profiles against the real API server: AIMProfile / AIMClusterProfile status from the
simulated nodes, AIMProfileCache downloads, and AIMService deploying spec.profile.

The simulated nodes (devcluster/default-nodes.yaml: 8 x MI300X, 8 x MI350X, a CPU node) carry the
`feature.node.kubernetes.io/aim-accelerator.<model>` labels profiles select on; download Jobs
complete by themselves and the simulated provisioner binds their volumes. No KServe controller
runs: the test reports the InferenceService Ready as KServe would.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from controller.service.profile import profile_cache_name, profile_config_map_name
from devcluster.nodes import FakeNode
from devcluster.waiting import wait_until
from tests.builders import condition_or_empty as condition
from tests.conftest import FakeNodes, Kubectl
from tests.integration.test_caching import items, wait_status
from tests.integration.test_service_controller import V2, service, set_status, wait_service

pytestmark = pytest.mark.usefixtures("controller")
ACCELERATOR = "feature.node.kubernetes.io/aim-accelerator."
SOURCES = [{"modelId": "Qwen/Qwen3-32B-FP8", "sourceUri": "hf://Qwen/Qwen3-32B-FP8", "size": "1Gi"}]


def profile(name: str, kind: str = "AIMProfile", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": V2,
        "kind": kind,
        "metadata": {"name": name},
        "spec": {
            "aimId": "qwen/qwen3-32b",
            "modelId": "Qwen/Qwen3-32B-FP8",
            "image": "registry.local/amdenterpriseai/aim-qwen:0.8.5",
            "engine": "vllm",
            "metric": "latency",
            "precision": "fp8",
            "type": "optimized",
            "acceleratorModel": "MI300X",
            "acceleratorType": "gpu",
            "acceleratorCount": 1,
            "engineArgs": {"max-model-len": 16384, "enable-prefix-caching": True},
            "engineEnv": {"VLLM_DO_NOT_TRACK": "1"},
            **spec,
        },
    }


@pytest.fixture
def cluster_kubectl(kubectl: Kubectl) -> Iterator[Kubectl]:
    """kubectl without a namespace, for cluster-scoped objects; deletes the cluster profiles it made."""
    plain = Kubectl(kubectl.plane)
    yield plain
    plain("delete", "aimclusterprofiles", "-l", "test=profiles", "--ignore-not-found")


def test_profile_status_from_the_simulated_nodes(kubectl: Kubectl) -> None:
    kubectl.apply(profile("qwen", resources={"requests": {"memory": "64Gi"}}))
    ready = wait_status(kubectl, "aimprofiles", "qwen", "Ready")["status"]
    assert ready["matchingNodes"] == 1
    assert ready["version"] == "0.8.5"
    assert ready["hardwareSummary"] == "1 x MI300X"
    assert ready["resources"] == {
        "limits": {"amd.com/gpu": "1"},
        "requests": {"amd.com/gpu": "1", "memory": "64Gi"},
    }
    terms = ready["resolvedNodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": f"{ACCELERATOR}MI300X", "operator": "Exists"}]}]
    hardware = condition(ready, "HardwareAvailable")
    assert (hardware["status"], hardware["reason"]) == ("True", "HardwareAvailable")
    printed = kubectl("get", "aimprf").stdout
    assert "qwen/qwen3-32b" in printed
    assert "1 x MI300X" in printed


def test_a_profile_for_hardware_nobody_has_becomes_ready_when_a_node_joins(
    kubectl: Kubectl, fake_nodes: FakeNodes
) -> None:
    kubectl.apply(profile("big", acceleratorModel="MI325X", acceleratorCount=4))
    waiting = wait_status(kubectl, "aimprofiles", "big", "NotAvailable")["status"]
    assert waiting["matchingNodes"] == 0
    hardware = condition(waiting, "HardwareAvailable")
    assert (hardware["status"], hardware["reason"]) == ("False", "HardwareNotAvailable")
    assert f"{ACCELERATOR}MI325X" in hardware["message"]
    events = kubectl("get", "events", "--field-selector", "involvedObject.name=big").stdout
    assert "HardwareNotAvailable" in events

    fake_nodes.add(FakeNode(name=f"mi325x-{uuid.uuid4().hex[:5]}", gpu_model="MI325X", gpu_count=2))
    small = wait_status(kubectl, "aimprofiles", "big", "NotAvailable")["status"]
    assert small["matchingNodes"] == 0, "two GPUs are not enough for four"
    fake_nodes.add(FakeNode(name=f"mi325x-{uuid.uuid4().hex[:5]}", gpu_model="MI325X", gpu_count=8))
    ready = wait_status(kubectl, "aimprofiles", "big", "Ready")["status"]
    assert ready["matchingNodes"] == 1


def test_a_cluster_profile_is_evaluated_like_a_namespaced_one(cluster_kubectl: Kubectl) -> None:
    cluster = profile("qwen-mi350x-profiles-test", "AIMClusterProfile", acceleratorModel="MI350X", acceleratorCount=8)
    cluster["metadata"]["labels"] = {"test": "profiles"}
    cluster_kubectl.apply(cluster)
    ready = wait_status(cluster_kubectl, "aimclusterprofiles", "qwen-mi350x-profiles-test", "Ready")["status"]
    assert (ready["matchingNodes"], ready["hardwareSummary"]) == (1, "8 x MI350X")


def test_a_caching_profile_owns_a_cache_that_downloads_its_sources(kubectl: Kubectl) -> None:
    kubectl.apply(profile("cached", modelSources=SOURCES, caching={"enabled": True}))
    owner = wait_status(kubectl, "aimprofiles", "cached", "Ready")
    cache = wait_status(kubectl, "aimprofilecaches", "cached", "Ready", timeout=90)
    assert cache["metadata"]["ownerReferences"][0]["uid"] == owner["metadata"]["uid"]
    assert cache["spec"] == {"profileName": "cached", "profileScope": "Namespace", "mode": "Shared"}
    assert condition(cache["status"], "ProfileFound")["reason"] == "ProfileResolved"
    assert condition(cache["status"], "ArtifactsReady")["reason"] == "AllCachesReady"
    assert cache["metadata"]["finalizers"] == ["aim.eai.amd.com/artifactcleanup"]
    [artifact] = items(kubectl, "aimartifacts")
    assert artifact["spec"]["sourceUri"] == "hf://Qwen/Qwen3-32B-FP8"
    labels = artifact["metadata"]["labels"]
    assert labels["aim.eai.amd.com/profile-cache.name"] == "cached"
    assert labels["aim.eai.amd.com/profile.name"] == "cached"
    assert "ownerReferences" not in artifact["metadata"], "Shared artifacts outlive the cache"
    [entry] = cache["status"]["artifacts"].values()
    assert entry["model"] == "Qwen/Qwen3-32B-FP8"
    assert entry["status"] == "Ready"
    assert entry["persistentVolumeClaim"] == artifact["status"]["persistentVolumeClaim"]


def test_a_profile_cache_of_a_missing_profile_fails_naming_it(kubectl: Kubectl) -> None:
    kubectl.apply(
        {
            "apiVersion": V2,
            "kind": "AIMProfileCache",
            "metadata": {"name": "orphan"},
            "spec": {"profileName": "nope", "profileScope": "Cluster"},
        }
    )
    failed = wait_status(kubectl, "aimprofilecaches", "orphan", "Failed")
    found = condition(failed["status"], "ProfileFound")
    assert (found["reason"], found["message"]) == ("ProfileNotFound", "AIMClusterProfile nope not found")


def test_a_service_deploys_a_profile_through_its_cache(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(profile("qwen", modelSources=SOURCES, containerEnv=[{"name": "LOG_LEVEL", "value": "info"}]))
    kubectl.apply(
        service(
            "chat",
            profile={"name": "qwen"},
            profileOverrides={"engineArgs": {"max-model-len": 32768}},
            env=[{"name": "EXTRA", "value": "1"}],
        )
    )
    cache_name = profile_cache_name("qwen", namespace)
    starting = wait_service(kubectl, "chat", lambda s: condition(s, "CacheReady"), "the service to wait for its cache")
    assert starting["status"]["status"] == "Starting"
    assert starting["status"]["resolvedProfile"]["name"] == "qwen"
    assert starting["status"]["resolvedModel"] == {"name": "Qwen/Qwen3-32B-FP8"}
    cache = kubectl.get_json("aimprofilecaches", cache_name)
    assert cache["spec"] == {"profileName": "qwen", "profileScope": "Namespace", "mode": "Shared"}
    assert cache["metadata"]["labels"]["aim.eai.amd.com/service"] == "chat"
    assert "ownerReferences" not in cache["metadata"], "a service's profile cache outlives it"

    ready_cache = wait_status(kubectl, "aimprofilecaches", cache_name, "Ready", timeout=90)
    [artifact] = ready_cache["status"]["artifacts"].values()
    wait_service(kubectl, "chat", lambda s: condition(s, "CacheReady").get("status") == "True", "the cache in use")
    isvc = wait_until(lambda: next(iter(items(kubectl, "inferenceservices.serving.kserve.io")), None), 30, "the isvc")
    assert isvc["metadata"]["labels"]["aim.eai.amd.com/profile"] == "qwen"
    predictor = isvc["spec"]["predictor"]
    [container] = predictor["containers"]
    assert container["image"] == "registry.local/amdenterpriseai/aim-qwen:0.8.5"
    assert container["imagePullPolicy"] == "IfNotPresent"  # a versioned tag (upstream 0.2.x)
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env == {
        "AIM_PROFILE_ID": "custom/qwen/qwen3-32b/vllm-mi300x-fp8-tp1-latency",
        "AIM_ID": "",  # empty: the weights come from the cache, not from the image's AIM id
        "AIM_CACHE_PATH": "/workspace/cache",
        "AIM_MODEL_ID": "Qwen/Qwen3-32B-FP8",
        "LOG_LEVEL": "info",
        "EXTRA": "1",
    }
    assert container["resources"] == {"limits": {"amd.com/gpu": "1"}, "requests": {"amd.com/gpu": "1"}}
    terms = predictor["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"][0]["matchExpressions"][0]["key"] == f"{ACCELERATOR}MI300X"

    config_map = kubectl.get_json("configmaps", profile_config_map_name("chat"))
    assert config_map["metadata"]["ownerReferences"][0]["kind"] == "AIMService"
    document = yaml.safe_load(config_map["data"]["vllm-mi300x-fp8-tp1-latency.yaml"])
    assert document["aim_id"] == "qwen/qwen3-32b"
    assert document["metadata"]["accelerator_model"] == "MI300X"
    assert document["engine_args"] == {"max-model-len": 32768, "enable-prefix-caching": True}
    assert document["env_vars"] == {"VLLM_DO_NOT_TRACK": "1"}
    assert {"name": "aim-profile", "configMap": {"name": config_map["metadata"]["name"]}} in predictor["volumes"]
    assert {
        "name": "aim-profile",
        "mountPath": "/workspace/aim-runtime/profiles/custom/qwen/qwen3-32b",
        "readOnly": True,
    } in container["volumeMounts"]
    claim = artifact["persistentVolumeClaim"]
    assert {"name": "cache-0", "persistentVolumeClaim": {"claimName": claim}} in predictor["volumes"]
    assert {"name": "cache-0", "mountPath": "/workspace/cache/Qwen/Qwen3-32B-FP8"} in container["volumeMounts"]

    set_status(
        kubectl,
        "inferenceservices.serving.kserve.io",
        isvc["metadata"]["name"],
        {"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]},
    )
    wait_service(kubectl, "chat", lambda s: s.get("status") == "Running", "the service to run")
    printed = kubectl("get", "aimsvc", "-o", "wide").stdout
    row = next(line for line in printed.splitlines() if line.startswith("chat "))
    assert "Running" in row
    assert "qwen" in row.split()

    # A profile edit reaches the running service's profile file.
    kubectl("patch", "aimprofiles", "qwen", "--type=merge", "-p", json.dumps({"spec": {"engineEnv": {"X": "2"}}}))

    def updated() -> bool:
        data = kubectl.get_json("configmaps", profile_config_map_name("chat"))["data"]
        return bool(yaml.safe_load(next(iter(data.values())))["env_vars"] == {"VLLM_DO_NOT_TRACK": "1", "X": "2"})

    wait_until(updated, 30, "the profile file to follow the profile")


def test_a_cluster_profile_serves_services_in_any_namespace(kubectl: Kubectl, cluster_kubectl: Kubectl) -> None:
    cluster = profile("qwen-any-profiles-test", "AIMClusterProfile", acceleratorModel="MI350X", acceleratorCount=2)
    cluster["metadata"]["labels"] = {"test": "profiles"}
    cluster_kubectl.apply(cluster)
    kubectl.apply(service("any", profile={"name": "qwen-any-profiles-test"}))
    status = wait_service(kubectl, "any", lambda s: s.get("status") == "Starting", "the service to start")["status"]
    assert status["resolvedProfile"]["scope"] == "Cluster"
    assert status["resolvedProfile"]["kind"] == "AIMClusterProfile"
    [isvc] = items(kubectl, "inferenceservices.serving.kserve.io")
    env = {e["name"]: e.get("value") for e in isvc["spec"]["predictor"]["containers"][0]["env"]}
    assert env["AIM_ID"] == "qwen/qwen3-32b"  # no model sources: the image's own AIM
    assert env["AIM_PROFILE_ID"] == "custom/qwen/qwen3-32b/vllm-mi350x-fp8-tp2-latency"
    assert not items(kubectl, "aimprofilecaches")


def test_a_service_naming_a_missing_profile_fails_naming_it(kubectl: Kubectl) -> None:
    kubectl.apply(service("lost", profile={"name": "nowhere"}))
    failed = wait_service(kubectl, "lost", lambda s: s.get("status") == "Failed", "the service to fail")["status"]
    ready = condition(failed, "ProfileReady")
    assert ready["reason"] == "ProfileNotFound"
    assert "nowhere" in ready["message"]
    assert condition(failed, "Ready")["reason"] == "ProfileNotFound"
    assert not items(kubectl, "inferenceservices.serving.kserve.io")
    assert "Failed" in kubectl("get", "aimsvc", "lost").stdout


def test_profiles_are_selected_by_aim_id_on_the_server(kubectl: Kubectl) -> None:
    """`spec.aimId` is a selectable field (upstream, unreleased in 2026): the API server filters."""
    kubectl.apply(profile("qwen-latency"))
    kubectl.apply(profile("llama-latency", aimId="meta-llama/llama-3.1-8b"))
    selected = kubectl("get", "aimprofiles", "--field-selector", "spec.aimId=qwen/qwen3-32b", "-o", "name")
    assert selected.stdout.split() == ["aimprofile.aim.eai.amd.com/qwen-latency"]
    refused = kubectl("get", "aimprofiles", "--field-selector", "spec.engine=vllm", check=False)
    assert refused.returncode != 0  # only the declared field is selectable

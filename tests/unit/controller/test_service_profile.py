"""plan_service with spec.profile: profile, profile caches and overrides in; the profile ConfigMap,
the profile cache and the InferenceService out (no API server)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from controller.common.lookup import CLUSTER, NAMESPACE, Found
from controller.common.runtimeconfig import resolve_runtime_config
from controller.service.observe import ServiceObservation
from controller.service.plan import plan_service
from controller.service.profile import profile_cache_name, profile_config_map_name
from tests.builders import condition, status_of
from tests.unit.controller import test_service_plan as services

NOW = "2026-11-23T12:00:00Z"
AFFINITY = {
    "requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [
            {"matchExpressions": [{"key": "feature.node.kubernetes.io/aim-accelerator.MI300X", "operator": "Exists"}]}
        ]
    }
}
SOURCES = [{"modelId": "qwen/qwen3-32b-fp8", "sourceUri": "hf://qwen/qwen3-32b-fp8"}]


def service(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha2",
        "kind": "AIMService",
        "metadata": {"name": "chat", "namespace": "team", "uid": "u-1", "generation": 1},
        "spec": {"profile": {"name": "qwen"}, "replicas": 1, **spec},
    }


def profile(state: str = "Ready", kind: str = "AIMProfile", **spec: Any) -> dict[str, Any]:
    metadata = {"name": "qwen", "uid": "p-1"} | ({"namespace": "team"} if kind == "AIMProfile" else {})
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha2",
        "kind": kind,
        "metadata": metadata,
        "spec": {
            "aimId": "qwen/qwen3-32b",
            "modelId": "qwen/qwen3-32b-fp8",
            "image": "registry.local/aim-qwen:0.8.5",
            "engine": "vllm",
            "metric": "latency",
            "precision": "fp8",
            "type": "optimized",
            "acceleratorModel": "MI300X",
            "acceleratorType": "gpu",
            "acceleratorCount": 1,
            "engineArgs": {"max-model-len": 8192, "compilation-config": {"level": 3, "cudagraph": True}},
            "engineEnv": {"VLLM_DO_NOT_TRACK": "1"},
            "containerEnv": [{"name": "HF_HOME", "value": "/tmp/hf"}, {"name": "LOG", "value": "info"}],
            "imagePullSecrets": [{"name": "profile-pull"}],
            **spec,
        },
        "status": {
            "status": state,
            "resources": {"limits": {"amd.com/gpu": "1"}, "requests": {"amd.com/gpu": "1"}},
            "resolvedNodeAffinity": AFFINITY,
        },
    }


def profile_cache(state: str, scope: str = "Namespace") -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha2",
        "kind": "AIMProfileCache",
        "metadata": {"name": "qwen-cache-x", "namespace": "team", "uid": "c-1"},
        "spec": {"profileName": "qwen", "profileScope": scope, "mode": "Shared"},
        "status": {
            "status": state,
            "artifacts": {
                "w": {
                    "name": "w",
                    "uid": "a-1",
                    "model": "qwen/qwen3-32b-fp8",
                    "status": "Ready",
                    "persistentVolumeClaim": "w-cache",
                }
            },
        },
    }


def observe(svc: dict[str, Any] | None = None, **fields: Any) -> ServiceObservation:
    defaults: dict[str, Any] = {
        "runtime_config": resolve_runtime_config(None, None, None),
        "profile": Found(profile(), NAMESPACE),
    }
    return services.typed(svc or service(), defaults | fields)


def applied(plan_apply: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(o for o in plan_apply if o["kind"] == kind)


SITUATIONS = [
    ("profile-missing", observe(profile=Found(None)), "Failed", "ProfileReady", "ProfileNotFound"),
    (
        "profile-not-available",
        observe(profile=Found(profile("NotAvailable"), NAMESPACE)),
        "Pending",
        "ProfileReady",
        "ProfileNotReady",
    ),
    (
        "cache-being-created",
        observe(profile=Found(profile(modelSources=SOURCES), NAMESPACE)),
        "Starting",
        "CacheReady",
        "CacheCreating",
    ),
    (
        "cache-downloading",
        observe(profile=Found(profile(modelSources=SOURCES), NAMESPACE), profile_caches=[profile_cache("Progressing")]),
        "Starting",
        "CacheReady",
        "CacheNotReady",
    ),
    (
        "cache-failed",
        observe(profile=Found(profile(modelSources=SOURCES), NAMESPACE), profile_caches=[profile_cache("Failed")]),
        "Failed",
        "CacheReady",
        "CacheFailed",
    ),
    ("creating-runtime", observe(), "Starting", "InferenceServiceReady", "CreatingRuntime"),
]


@pytest.mark.parametrize(
    ("case", "observation", "status", "condition_type", "reason"), SITUATIONS, ids=[s[0] for s in SITUATIONS]
)
def test_status_for_each_situation(
    case: str, observation: ServiceObservation, status: str, condition_type: str, reason: str
) -> None:
    plan = plan_service(observation, NOW)
    assert status_of(plan)["status"] == status, status_of(plan)
    assert condition(status_of(plan), condition_type)["reason"] == reason
    assert not any(c["type"] in ("ModelReady", "TemplateReady") for c in status_of(plan)["conditions"])


def test_missing_profile_names_it_and_invalidates_the_config() -> None:
    plan = plan_service(observe(profile=Found(None)), NOW)
    assert "no AIMProfile or AIMClusterProfile named 'qwen'" in condition(status_of(plan), "ProfileReady")["message"]
    assert condition(status_of(plan), "ConfigValid")["reason"] == "ProfileNotFound"
    assert condition(status_of(plan), "InferenceServiceReady")["message"] == "waiting for the profile"
    assert plan.apply == []


def test_ready_profile_without_sources_deploys_the_aim_by_id() -> None:
    plan = plan_service(observe(service(env=[{"name": "LOG", "value": "debug"}])), NOW)
    assert [o["kind"] for o in plan.apply] == ["ConfigMap", "InferenceService"]
    assert status_of(plan)["resolvedProfile"] == {
        "name": "qwen",
        "namespace": "team",
        "scope": "Namespace",
        "kind": "AIMProfile",
        "uid": "p-1",
    }
    assert status_of(plan)["resolvedModel"] == {"name": "qwen/qwen3-32b-fp8"}
    assert condition(status_of(plan), "ProfileReady")["reason"] == "ProfileResolved"

    config_map = applied(plan.apply, "ConfigMap")
    assert config_map["metadata"]["name"] == profile_config_map_name("chat")
    assert config_map["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    [(file_name, text)] = config_map["data"].items()
    assert file_name == "vllm-mi300x-fp8-tp1-latency.yaml"
    assert yaml.safe_load(text) == {
        "aim_id": "qwen/qwen3-32b",
        "model_id": "qwen/qwen3-32b-fp8",
        "metadata": {
            "engine": "vllm",
            "accelerator_model": "MI300X",
            "accelerator_type": "gpu",
            "accelerator_count": 1,
            "manual_selection_only": False,
            "metric": "latency",
            "precision": "fp8",
            "type": "optimized",
        },
        "engine_args": {"max-model-len": 8192, "compilation-config": {"level": 3, "cudagraph": True}},
        "env_vars": {"VLLM_DO_NOT_TRACK": "1"},
    }

    isvc = applied(plan.apply, "InferenceService")
    predictor = isvc["spec"]["predictor"]
    [container] = predictor["containers"]
    assert container["image"] == "registry.local/aim-qwen:0.8.5"
    assert container["imagePullPolicy"] == "IfNotPresent"  # a versioned tag (upstream 0.2.x)
    assert {e["name"]: e["value"] for e in container["env"]} == {
        "AIM_ID": "qwen/qwen3-32b",
        "AIM_PROFILE_ID": "custom/qwen/qwen3-32b/vllm-mi300x-fp8-tp1-latency",
        "HF_HOME": "/tmp/hf",
        "LOG": "debug",  # the service's env is the top layer
    }
    assert container["resources"] == {"limits": {"amd.com/gpu": "1"}, "requests": {"amd.com/gpu": "1"}}
    assert predictor["affinity"] == {"nodeAffinity": AFFINITY}
    assert predictor["imagePullSecrets"] == [{"name": "profile-pull"}]
    assert {"name": "aim-profile", "configMap": {"name": config_map["metadata"]["name"]}} in predictor["volumes"]
    assert {
        "name": "aim-profile",
        "mountPath": "/workspace/aim-runtime/profiles/custom/qwen/qwen3-32b",
        "readOnly": True,
    } in container["volumeMounts"]
    labels = isvc["metadata"]["labels"]
    assert labels["aim.eai.amd.com/profile"] == "qwen"
    assert labels["aim.eai.amd.com/service"] == "chat"
    assert labels["aim.eai.amd.com/precision"] == "fp8"
    assert not any(v["name"].startswith("cache-") for v in predictor["volumes"])


def test_overrides_and_the_services_own_settings_win() -> None:
    svc = service(
        profileOverrides={
            "engineArgs": {"max-model-len": 32768, "compilation-config": {"level": 1}},
            "containerEnv": [{"name": "LOG", "value": "warn"}],
        },
        resources={"requests": {"amd.com/gpu": "2"}, "limits": {"amd.com/gpu": "2"}},
        imagePullSecrets=[{"name": "mine"}],
        serviceAccountName="runner",
    )
    plan = plan_service(observe(svc), NOW)
    document = yaml.safe_load(next(iter(applied(plan.apply, "ConfigMap")["data"].values())))
    assert document["engine_args"] == {"max-model-len": 32768, "compilation-config": {"level": 1, "cudagraph": True}}
    predictor = applied(plan.apply, "InferenceService")["spec"]["predictor"]
    container = predictor["containers"][0]
    assert {e["name"]: e["value"] for e in container["env"]}["LOG"] == "warn"
    assert container["resources"]["requests"] == {"amd.com/gpu": "2"}
    assert predictor["imagePullSecrets"] == [{"name": "mine"}]
    assert predictor["serviceAccountName"] == "runner"


def test_profile_with_sources_gets_a_shared_cache_and_mounts_it_once_ready() -> None:
    sourced = profile(modelSources=SOURCES, caching={"enabled": True, "env": [{"name": "HF_TOKEN", "value": "t"}]})
    svc = service(caching={"env": [{"name": "HTTPS_PROXY", "value": "http://proxy"}]})
    waiting = plan_service(observe(svc, profile=Found(sourced, NAMESPACE)), NOW)
    assert [o["kind"] for o in waiting.apply] == ["ConfigMap", "AIMProfileCache"]
    cache = applied(waiting.apply, "AIMProfileCache")
    assert cache["metadata"]["name"] == profile_cache_name("qwen", "team")
    assert cache["metadata"]["labels"]["aim.eai.amd.com/service"] == "chat"
    assert "ownerReferences" not in cache["metadata"]
    assert cache["spec"] == {
        "profileName": "qwen",
        "profileScope": "Namespace",
        "mode": "Shared",
        "env": [{"name": "HF_TOKEN", "value": "t"}, {"name": "HTTPS_PROXY", "value": "http://proxy"}],
    }
    assert condition(status_of(waiting), "InferenceServiceReady")["message"] == "waiting for the model cache"

    ready = plan_service(observe(svc, profile=Found(sourced, NAMESPACE), profile_caches=[profile_cache("Ready")]), NOW)
    assert [o["kind"] for o in ready.apply] == ["ConfigMap", "InferenceService"]
    predictor = applied(ready.apply, "InferenceService")["spec"]["predictor"]
    assert {"name": "cache-0", "persistentVolumeClaim": {"claimName": "w-cache"}} in predictor["volumes"]
    container = predictor["containers"][0]
    assert {"name": "cache-0", "mountPath": "/workspace/cache/qwen/qwen3-32b-fp8"} in container["volumeMounts"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert (env["AIM_ID"], env["AIM_CACHE_PATH"], env["AIM_MODEL_ID"]) == ("", "/workspace/cache", "qwen/qwen3-32b-fp8")
    assert condition(status_of(ready), "CacheReady")["reason"] == "CacheReady"


def test_cluster_profile_caches_are_cluster_scoped_and_ignore_namespace_caches() -> None:
    sourced = profile(kind="AIMClusterProfile", modelSources=SOURCES)
    plan = plan_service(
        observe(profile=Found(sourced, CLUSTER), profile_caches=[profile_cache("Ready", scope="Namespace")]), NOW
    )
    cache = applied(plan.apply, "AIMProfileCache")
    assert cache["spec"]["profileScope"] == "Cluster"
    assert status_of(plan)["status"] == "Starting"


def test_a_running_service_that_lost_its_profile_cache_is_degraded_and_keeps_its_volumes() -> None:
    sourced = profile(modelSources=SOURCES)
    first = plan_service(observe(profile=Found(sourced, NAMESPACE), profile_caches=[profile_cache("Ready")]), NOW)
    running = applied(first.apply, "InferenceService")
    plan = plan_service(observe(profile=Found(sourced, NAMESPACE), inference_service=running), NOW)
    assert condition(status_of(plan), "CacheReady")["reason"] == "CacheLost"
    assert status_of(plan)["status"] == "Degraded"
    isvc = applied(plan.apply, "InferenceService")
    assert any(v["name"] == "cache-0" for v in isvc["spec"]["predictor"]["volumes"])

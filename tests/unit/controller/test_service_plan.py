"""plan_service: observed objects in, desired objects, status and events out (no API server)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from api.objects import ObjectRoot
from api.stored import (
    read_artifact,
    read_kv_cache,
    read_model,
    read_profile,
    read_profile_cache,
    read_service,
    read_template,
    read_template_cache,
)
from controller.common.lookup import CLUSTER, NAMESPACE, Found
from controller.common.runtimeconfig import resolve_runtime_config
from controller.service import plan as service_plan
from controller.service.autoscaling import ScalingObservation
from controller.service.observe import ServiceObservation
from controller.service.plan import plan_service
from tests.builders import condition, status_of

NOW = "2026-11-23T12:00:00Z"
LATER = "2026-11-23T12:05:00Z"
GPU_NODE = {
    "metadata": {"name": "gpu", "labels": {"amd.com/gpu.device-id": "74a1"}},
    "status": {"allocatable": {"amd.com/gpu": "8"}},
}


def service(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha2",
        "kind": "AIMService",
        "metadata": {
            "name": "chat",
            "namespace": "team",
            "uid": "u-1",
            "generation": 3,
            "labels": {"aim.eai.amd.com/tier": "gold", "team": "a"},
        },
        "spec": {"model": {"name": "qwen"}, "replicas": 1, **spec},
    }


def model(status: str = "Ready") -> dict[str, Any]:
    return {
        "kind": "AIMModel",
        "metadata": {"name": "qwen", "namespace": "team", "uid": "m-1"},
        "spec": {"image": "img:1"},
        "status": {"status": status},
    }


def template(name: str = "t", status: str = "Ready") -> dict[str, Any]:
    return {
        "kind": "AIMServiceTemplate",
        "metadata": {"name": name, "namespace": "team", "uid": "t-1"},
        "spec": {"modelName": "qwen", "hardware": {"gpu": {"models": ["MI300X"], "requests": 1}}, "profileId": "p1"},
        "status": {
            "status": status,
            "profile": {"metadata": {"type": "optimized", "metric": "latency", "precision": "fp8"}},
        },
    }


READERS: dict[str, Callable[[Mapping[str, Any]], ObjectRoot]] = {
    "AIMModel": read_model,
    "AIMClusterModel": read_model,
    "AIMServiceTemplate": read_template,
    "AIMClusterServiceTemplate": read_template,
    "AIMProfile": read_profile,
    "AIMClusterProfile": read_profile,
    "AIMTemplateCache": read_template_cache,
    "AIMProfileCache": read_profile_cache,
    "AIMKVCache": read_kv_cache,
    "AIMArtifact": read_artifact,
}
FOUND_FIELDS = ("model", "template", "derived_template", "profile")
LIST_FIELDS = ("template_candidates", "caches", "profile_caches")


def read(obj: Any) -> Any:
    """An AIM object as the API server sends it, read as the fetch step reads it (by its kind)."""
    return obj if obj is None or isinstance(obj, ObjectRoot) else READERS[obj["kind"]](obj)


def typed(svc: dict[str, Any], fields: dict[str, Any]) -> ServiceObservation:
    """The observation of `svc` with `fields` given as the API server sends them (dicts), read as
    the fetch step reads them; the third-party objects (InferenceService, pods, ...) stay dicts."""
    for key in FOUND_FIELDS:
        found = fields.get(key)
        if found is not None:
            fields[key] = Found(read(found.obj), found.scope)
    for key in LIST_FIELDS:
        if key in fields:
            fields[key] = [read(obj) for obj in fields[key]]
    if fields.get("kv_cache") is not None:
        fields["kv_cache"] = read(fields["kv_cache"])
    if "adapters" in fields:
        fields["adapters"].artifacts = {name: read(a) for name, a in fields["adapters"].artifacts.items()}
    return ServiceObservation(service=read_service(svc), **fields)


def observe(svc: dict[str, Any] | None = None, **fields: Any) -> ServiceObservation:
    defaults: dict[str, Any] = {
        "runtime_config": resolve_runtime_config(None, None, None),
        "model": Found(model(), NAMESPACE),
        "template_candidates": [template()],
        "nodes": [GPU_NODE],
    }
    return typed(svc or service(), defaults | fields)


SITUATIONS = [
    (
        "runtime-config-missing",
        observe(service(runtimeConfigName="x"), runtime_config=resolve_runtime_config("x", None, None)),
        "Failed",
        "RuntimeConfigReady",
        "ConfigNotFound",
    ),
    ("model-missing", observe(model=Found(None)), "Failed", "ModelReady", "ModelNotFound"),
    (
        "model-not-ready",
        observe(model=Found(model("Progressing"), CLUSTER)),
        "Pending",
        "ModelReady",
        "ModelNotReady",
    ),
    ("model-failed", observe(model=Found(model("Failed"), NAMESPACE)), "Failed", "ModelReady", "ModelNotReady"),
    ("no-gpu-on-cluster", observe(nodes=[]), "Pending", "TemplateReady", "TemplateNotFound"),
    (
        "named-template-missing",
        observe(service(template={"name": "nope"}), template=Found(None)),
        "Failed",
        "TemplateReady",
        "TemplateNotFound",
    ),
    (
        "named-template-not-ready",
        observe(service(template={"name": "t"}), template=Found(template(status="Pending"), NAMESPACE)),
        "Pending",
        "TemplateReady",
        "TemplateNotReady",
    ),
    ("creating-runtime", observe(), "Starting", "InferenceServiceReady", "CreatingRuntime"),
    (
        "gateway-missing",
        observe(service(routing={"enabled": True})),
        "Degraded",
        "HTTPRouteReady",
        "GatewayNotConfigured",
    ),
    (
        "route-template-invalid",
        observe(
            service(
                routing={
                    "enabled": True,
                    "gatewayRef": {"name": "g"},
                    "pathTemplate": "/{.metadata.labels.missing}",
                }
            )
        ),
        "Degraded",
        "HTTPRouteReady",
        "RouteTemplateInvalid",
    ),
]


@pytest.mark.parametrize(
    ("case", "observation", "status", "condition_type", "reason"), SITUATIONS, ids=[c[0] for c in SITUATIONS]
)
def test_status_for_each_situation(
    case: str, observation: ServiceObservation, status: str, condition_type: str, reason: str
) -> None:
    plan = plan_service(observation, NOW)
    assert status_of(plan)["status"] == status, status_of(plan)
    assert condition(status_of(plan), condition_type)["reason"] == reason
    ready = condition(status_of(plan), "Ready")
    assert ready["status"] == "False"
    assert ready["observedGeneration"] == 3


def test_a_long_namespace_fails_with_the_name_rule() -> None:
    svc = service()
    svc["metadata"]["namespace"] = "n" * 50
    plan = plan_service(observe(svc), NOW)
    assert status_of(plan)["status"] == "Failed"
    assert condition(status_of(plan), "InferenceServiceReady")["reason"] == "NameTooLong"
    assert plan.apply == []


def test_inference_service_shape() -> None:
    svc = service(env=[{"name": "X", "value": "1"}], imagePullSecrets=[{"name": "pull"}])
    config = resolve_runtime_config(
        None,
        {
            "spec": {
                "labelPropagation": {"enabled": True, "match": ["te*"]},
                "env": [{"name": "X", "value": "0"}, {"name": "Y", "value": "cfg"}],
            }
        },
        None,
    )
    plan = plan_service(observe(svc, runtime_config=config), NOW)
    [isvc] = plan.apply
    assert isvc["kind"] == "InferenceService"
    assert isvc["metadata"]["labels"]["team"] == "a"  # propagated by the glob
    assert isvc["metadata"]["labels"]["aim.eai.amd.com/tier"] == "gold"  # AIM labels always
    assert isvc["metadata"]["annotations"] == {"serving.kserve.io/autoscalerClass": "none"}
    predictor = isvc["spec"]["predictor"]
    env = {e["name"]: e["value"] for e in predictor["containers"][0]["env"]}
    assert env == {
        "AIM_CACHE_PATH": "/workspace/cache",
        "AIM_METRIC": "latency",
        "AIM_PRECISION": "fp8",
        "AIM_PROFILE_ID": "p1",
        "VLLM_ENABLE_METRICS": "true",
        "X": "1",
        "Y": "cfg",
    }
    assert predictor["imagePullSecrets"] == [{"name": "pull"}]
    assert predictor["containers"][0]["image"] == "img:1"


RUNNING_METRIC = {
    "type": "PodMetric",
    "podmetric": {
        "metric": {"backend": "metrics-api", "metricNames": ["vllm:num_requests_running"]},
        "target": {"type": "Value", "value": "1"},
    },
}


def test_autoscaling_hands_the_predictor_to_the_services_scaled_object() -> None:
    svc = service(minReplicas=2, maxReplicas=5, autoScaling={"metrics": [RUNNING_METRIC]})
    plan = plan_service(observe(svc, scaling=ScalingObservation(keda_installed=True)), NOW)
    isvc, scaled_object = plan.apply
    assert isvc["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "external"
    assert (isvc["spec"]["predictor"]["minReplicas"], isvc["spec"]["predictor"]["maxReplicas"]) == (2, 5)
    assert scaled_object["kind"] == "ScaledObject"
    assert scaled_object["spec"]["scaleTargetRef"]["name"] == f"{isvc['metadata']['name']}-predictor"
    status = status_of(plan)
    assert status["runtime"]["replicas"] == "2/2 (2-5)"
    assert condition(status, "HPAReady")["reason"] == "HPANotFound"


def test_autoscaling_without_a_metric_is_an_invalid_config_and_no_scaled_object() -> None:
    plan = plan_service(observe(service(minReplicas=1, maxReplicas=3)), NOW)
    assert [o["kind"] for o in plan.apply] == ["InferenceService"]
    status = status_of(plan)
    assert condition(status, "HPAReady")["reason"] == "AutoscalingRequiresMetrics"
    assert condition(status, "ConfigValid")["reason"] == "AutoscalingRequiresMetrics"
    assert status["status"] == "Degraded"


def test_turning_autoscaling_off_deletes_the_scaled_object_it_owns() -> None:
    svc = service(replicas=2)
    owner = {"kind": "AIMService", "uid": svc["metadata"]["uid"], "name": "x"}
    owned = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "x-predictor", "namespace": svc["metadata"]["namespace"], "ownerReferences": [owner]},
    }
    plan = plan_service(observe(svc, scaling=ScalingObservation(True, owned)), NOW)
    assert [(ref.kind, ref.name) for ref in plan.delete] == [("ScaledObject", "x-predictor")]
    assert plan.apply[0]["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "none"


def test_model_from_image_is_created_once_and_shared() -> None:
    svc = service(model={"image": "ghcr.io/amd/aim-llama:1.2"})
    plan = plan_service(observe(svc, model=Found(None)), NOW)
    [created] = plan.apply
    assert created["kind"] == "AIMModel"
    assert created["metadata"]["name"].startswith("aim-llama-1-2-")
    assert "ownerReferences" not in created["metadata"]
    assert condition(status_of(plan), "ModelReady")["reason"] == "CreatingModel"
    other = copy.deepcopy(svc)
    other["metadata"]["name"] = "other"
    assert (
        plan_service(observe(other, model=Found(None)), NOW).apply[0]["metadata"]["name"] == created["metadata"]["name"]
    )
    ambiguous = plan_service(observe(svc, model=Found(None), models_with_image=2), NOW)
    assert status_of(ambiguous)["status"] == "Failed"


def test_nothing_changes_when_nothing_changed() -> None:
    first = plan_service(observe(), NOW)
    settled = service()
    settled["status"] = status_of(first)
    second = plan_service(observe(settled), LATER)
    assert status_of(second) == status_of(first)  # transition times kept: no status write
    assert second.events == []
    assert first.events  # the first reconcile reported its transitions


def test_transition_time_moves_only_when_status_changes() -> None:
    first = plan_service(observe(model=Found(model("Progressing"), NAMESPACE)), NOW)
    settled = service()
    settled["status"] = status_of(first)
    second = plan_service(observe(settled), LATER)
    assert condition(status_of(second), "ModelReady")["lastTransitionTime"] == LATER
    assert condition(status_of(second), "RuntimeConfigReady")["lastTransitionTime"] == NOW


def test_named_template_with_differing_overrides_gets_a_derived_copy() -> None:
    svc = service(template={"name": "t"}, overrides={"metric": "throughput", "hardware": {"gpu": {"requests": 2}}})
    base = template()
    plan = plan_service(observe(svc, template=Found(base, NAMESPACE), derived_template=Found(None)), NOW)
    [derived] = plan.apply
    assert derived["kind"] == "AIMServiceTemplate"
    assert derived["metadata"]["name"].startswith("t-ovr-2gpu-throughput-")
    assert derived["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    assert derived["spec"]["metric"] == "throughput"
    assert derived["spec"]["hardware"]["gpu"] == {"models": ["MI300X"], "requests": 2}
    assert derived["spec"]["caching"] == {"enabled": True}
    assert status_of(plan)["status"] == "Pending"

    ready_copy = derived | {"status": base["status"]}
    later = plan_service(
        observe(svc, template=Found(base, NAMESPACE), derived_template=Found(ready_copy, NAMESPACE)), NOW
    )
    assert status_of(later)["resolvedTemplate"]["name"] == derived["metadata"]["name"]
    assert [o["kind"] for o in later.apply] == ["AIMServiceTemplate", "InferenceService"]


def test_overrides_equal_to_the_named_template_use_it_directly() -> None:
    svc = service(template={"name": "t"}, overrides={"metric": "latency"})
    plan = plan_service(observe(svc, template=Found(template(), NAMESPACE), derived_template=Found(None)), NOW)
    assert [o["kind"] for o in plan.apply] == ["InferenceService"]


def test_inline_custom_models_from_several_services_share_one_model() -> None:
    custom: dict[str, Any] = {
        "baseImage": "amdenterpriseai/aim-base:0.9",
        "modelSources": [{"modelId": "org/tuned", "sourceUri": "s3://bucket/org/tuned"}],
        "hardware": {"gpu": {"requests": 1, "models": ["MI300X"]}},
    }
    one = plan_service(observe(service(model={"custom": custom}), model=Found(None)), NOW)
    [created] = one.apply
    assert created["metadata"]["labels"]["aim.eai.amd.com/custom-model"] == "true"
    assert created["spec"]["modelSources"] == custom["modelSources"]
    assert created["spec"]["custom"] == {"hardware": custom["hardware"]}
    other = service(model={"custom": copy.deepcopy(custom)})
    other["metadata"]["name"] = "other"
    assert (
        plan_service(observe(other, model=Found(None)), NOW).apply[0]["metadata"]["name"] == created["metadata"]["name"]
    )
    moved = copy.deepcopy(custom)
    moved["modelSources"][0]["env"] = [{"name": "AWS_ENDPOINT_URL", "value": "http://minio:9000"}]
    elsewhere = plan_service(observe(service(model={"custom": moved}), model=Found(None)), NOW).apply[0]
    assert elsewhere["metadata"]["name"] != created["metadata"]["name"]  # another S3 endpoint is another model


@pytest.mark.parametrize(
    ("template_env", "template_caching_env", "service_env", "expected"),
    [
        pytest.param(
            [],
            [{"name": "HTTP_PROXY", "value": "t"}],
            [{"name": "HF_TOKEN", "value": "s"}, {"name": "HTTPS_PROXY", "value": "s"}],
            ["HTTP_PROXY=t", "HF_TOKEN=s", "HTTPS_PROXY=s"],
            id="first-seen-order-not-sorted",
        ),
        pytest.param(
            [{"name": "Z", "value": "t"}, {"name": "A", "value": "t"}],
            [],
            [{"name": "A", "value": "s"}, {"name": "B", "value": "s"}],
            ["Z=t", "A=s", "B=s"],
            id="an-override-keeps-its-place",
        ),
    ],
)
def test_cache_env_keeps_upstreams_order(
    template_env: list[dict[str, str]],
    template_caching_env: list[dict[str, str]],
    service_env: list[dict[str, str]],
    expected: list[str],
) -> None:
    """Upstream's MergeEnvVars keeps positions and appends; users (and its e2e suite) compare the
    cache's env in order."""
    tmpl = template() | {"spec": {"modelName": "qwen", "env": template_env, "caching": {"env": template_caching_env}}}
    cache = service_plan.plan_template_cache(
        read_service(service(env=service_env)), read_template(tmpl), "c", "Shared", "Namespace", None
    )
    assert [f"{e['name']}={e['value']}" for e in cache["spec"]["env"]] == expected

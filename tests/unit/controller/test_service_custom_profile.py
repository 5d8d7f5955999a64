"""A template's customProfile reaching the InferenceService: the profile file it becomes, the
ConfigMap holding it (created, updated, deleted), its mount, the env selecting it and what the
fetch step reads for it (no API server)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from api.naming import custom_profile_config_map_name, inference_service_name
from api.stored import read_model, read_template
from controller.common.lookup import NAMESPACE, Found
from controller.common.runtimeconfig import resolve_runtime_config
from controller.pipeline.plan import ObjectRef
from controller.service.observe import ServiceObservation
from controller.service.plan import plan_inference_service, plan_service
from controller.service.profile import template_profile
from tests.builders import applied_kind, container_env, status_of
from tests.unit.controller import test_fetch as fetching
from tests.unit.controller import test_service_plan as services

NOW = "2026-11-23T12:00:00Z"
AIM = "meta-llama/Llama-3.1-8B"
FILE = "vllm-mi300x-fp16-tp1-latency.yaml"
PROFILE_ID = f"custom/{AIM}/vllm-mi300x-fp16-tp1-latency"
SOURCES = [{"modelId": "acme/llama-ft", "sourceUri": "s3://models/llama-ft"}]
ENGINE_ARGS = {"max-model-len": 8192, "gpu-memory-utilization": 0.9, "compilation-config": {"level": 3}}
ENV_VARS = {"HIP_FORCE_DEV_KERNARG": "1"}


def template(status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    """A Ready namespaced template of model qwen with a custom profile (spec overrides replace
    fields; `customProfile=None` removes it)."""
    template_spec = {
        "modelName": "qwen",
        "aimId": AIM,
        "modelId": AIM,
        "metric": "latency",
        "precision": "fp16",
        "hardware": {"gpu": {"models": ["MI300X"], "requests": 1}},
        "customProfile": {"engineArgs": ENGINE_ARGS, "envVars": ENV_VARS},
    } | spec
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMServiceTemplate",
        "metadata": {"name": "llama-custom", "namespace": "team", "uid": "t-1"},
        "spec": {k: v for k, v in template_spec.items() if v is not None},
        "status": {"status": "Ready", **(status or {})},
    }


def service(**spec: Any) -> dict[str, Any]:
    return services.service(template={"name": "llama-custom"}, **spec)


def observe(tpl: dict[str, Any] | None = None, svc: dict[str, Any] | None = None, **fields: Any) -> ServiceObservation:
    return services.observe(svc or service(), template=Found(tpl or template(), NAMESPACE), **fields)


def config_map(owner_uid: str = "u-1") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": custom_profile_config_map_name("chat"),
            "namespace": "team",
            "ownerReferences": [{"kind": "AIMService", "name": "chat", "uid": owner_uid}],
        },
        "data": {FILE: "aim_id: old\n"},
    }


# -- the profile file ------------------------------------------------------------------------------

DOCUMENT = {
    "aim_id": AIM,
    "model_id": AIM,
    "metadata": {
        "engine": "vllm",
        "gpu": "MI300X",
        "gpu_count": 1,
        "manual_selection_only": False,
        "metric": "latency",
        "precision": "fp16",
        "type": "unoptimized",
    },
    "engine_args": ENGINE_ARGS,
    "env_vars": ENV_VARS,
}


def _document(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(DOCUMENT)
    document["metadata"] |= changes.pop("metadata", {})
    return document | changes


DOCUMENTS = [
    pytest.param(template(), FILE, DOCUMENT, id="spec-fields-as-upstream"),
    pytest.param(
        template(status={"resolvedHardware": {"gpu": {"model": "MI325X", "requests": 2}}}),
        "vllm-mi325x-fp16-tp2-latency.yaml",
        _document(metadata={"gpu": "MI325X", "gpu_count": 2}),
        id="the-gpu-discovery-resolved-wins",
    ),
    pytest.param(
        template(hardware={"gpu": {"model": "mi300x", "requests": 4}}, metric="throughput", precision="fp8"),
        "vllm-mi300x-fp8-tp4-throughput.yaml",
        _document(metadata={"gpu_count": 4, "metric": "throughput", "precision": "fp8"}),
        id="gpu-model-normalised-name-lower-case",
    ),
    pytest.param(
        template(type="optimized", modelId="acme/llama-ft"),
        FILE,
        _document(model_id="acme/llama-ft", metadata={"type": "optimized"}),
        id="type-and-model-id-of-the-template",
    ),
    pytest.param(
        template(customProfile={}), FILE, _document(engine_args={}, env_vars={}), id="empty-profile-keeps-empty-maps"
    ),
    pytest.param(
        template(customProfile={"engineArgs": {"enforce-eager": None}}),
        FILE,
        _document(engine_args={"enforce-eager": None}, env_vars={}),
        id="a-bare-flag-keeps-its-null",
    ),
]


@pytest.mark.parametrize(("tpl", "file_name", "document"), DOCUMENTS)
def test_the_profile_file_of_a_template(tpl: dict[str, Any], file_name: str, document: dict[str, Any]) -> None:
    assert template_profile(read_template(tpl)) == (file_name, document)


def test_a_template_without_custom_profile_has_no_profile_file() -> None:
    assert template_profile(read_template(template(customProfile=None))) is None


# -- the env selecting it --------------------------------------------------------------------------

ENV_CASES = [
    pytest.param(
        {},
        {
            "AIM_PROFILE_ID": PROFILE_ID,
            "AIM_ID": AIM,
            "AIM_METRIC": "latency",
            "AIM_PRECISION": "fp16",
            "AIM_CACHE_PATH": "/workspace/cache",
            "VLLM_ENABLE_METRICS": "true",
            "AIM_MODEL_ID": None,
        },
        id="custom-profile-selected-by-aim-id",
    ),
    pytest.param(
        {"status": {"modelSources": SOURCES}},
        {"AIM_ID": AIM, "AIM_MODEL_ID": None},
        id="with-model-sources-still-aim-id-alone",
    ),
    pytest.param(
        {"config": [{"name": "AIM_PROFILE_ID", "value": "cfg"}, {"name": "AIM_CACHE_PATH", "value": "/c"}]},
        {"AIM_PROFILE_ID": PROFILE_ID, "AIM_CACHE_PATH": "/c"},
        id="runtime-config-over-defaults-under-profile-id",
    ),
    pytest.param(
        {"template": [{"name": "AIM_PROFILE_ID", "value": "tpl"}, {"name": "AIM_ID", "value": "tpl"}]},
        {"AIM_PROFILE_ID": "tpl", "AIM_ID": AIM},
        id="template-env-over-profile-id-under-aim-id",
    ),
    pytest.param(
        {
            "template": [{"name": "AIM_ID", "value": "tpl"}],
            "service": [{"name": "AIM_ID", "value": "svc"}, {"name": "AIM_PROFILE_ID", "value": "svc"}],
        },
        {"AIM_PROFILE_ID": "svc", "AIM_ID": "svc"},
        id="service-env-on-top",
    ),
    pytest.param(
        {"spec": {"customProfile": None, "profileId": "vllm-mi300x-fp16-tp1-latency"}},
        {"AIM_PROFILE_ID": "vllm-mi300x-fp16-tp1-latency", "AIM_ID": None, "AIM_MODEL_ID": None},
        id="without-custom-profile-the-template-profile-id",
    ),
    pytest.param(
        {"spec": {"customProfile": None}, "status": {"modelSources": SOURCES}},
        {"AIM_PROFILE_ID": None, "AIM_ID": "", "AIM_MODEL_ID": "acme/llama-ft"},
        id="model-sources-clear-the-image-aim-id",
    ),
]


@pytest.mark.parametrize(("layers", "expected"), ENV_CASES)
def test_env_precedence(layers: dict[str, Any], expected: dict[str, str | None]) -> None:
    """System defaults < runtime config < profile id, metric, precision < template env < AIM_ID or
    AIM_MODEL_ID < service env (None: not set)."""
    tpl = template(status=layers.get("status"), env=layers.get("template"), **layers.get("spec", {}))
    svc = service(env=layers["service"]) if "service" in layers else service()
    config = resolve_runtime_config(None, {"spec": {"env": layers["config"]}}, None) if "config" in layers else None
    observed = observe(tpl, svc, **({"runtime_config": config} if config else {}))
    env = container_env(plan_inference_service(observed, read_model(services.model()), read_template(tpl), "chat-isvc"))
    assert {name: env.get(name) for name in expected} == expected


# -- ConfigMap and mount ---------------------------------------------------------------------------


def test_the_config_map_is_owned_labelled_and_mounted() -> None:
    plan = plan_service(observe(), NOW)
    assert [o["kind"] for o in plan.apply] == ["ConfigMap", "InferenceService"]
    config = applied_kind(plan, "ConfigMap")
    assert config["metadata"]["name"] == custom_profile_config_map_name("chat")
    assert config["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    assert config["metadata"]["labels"]["aim.eai.amd.com/service"] == "chat"
    assert config["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "aim-engine"
    assert config["metadata"]["labels"]["aim.eai.amd.com/tier"] == "gold"  # the service's propagate
    assert {name: yaml.safe_load(text) for name, text in config["data"].items()} == {FILE: DOCUMENT}
    predictor = applied_kind(plan, "InferenceService")["spec"]["predictor"]
    volume = {"name": "custom-profile", "configMap": {"name": config["metadata"]["name"]}}
    mount = {"name": "custom-profile", "mountPath": f"/workspace/aim-runtime/profiles/custom/{AIM}", "readOnly": True}
    assert volume in predictor["volumes"]
    assert mount in predictor["containers"][0]["volumeMounts"]
    assert plan.delete == []


def test_a_changed_custom_profile_rewrites_the_same_config_map() -> None:
    before = applied_kind(plan_service(observe(), NOW), "ConfigMap")
    changed = template(customProfile={"engineArgs": {"max-model-len": 4096}})
    after = applied_kind(plan_service(observe(changed, profile_config_map=before), NOW), "ConfigMap")
    assert after["metadata"]["name"] == before["metadata"]["name"]
    assert yaml.safe_load(after["data"][FILE])["engine_args"] == {"max-model-len": 4096}


def test_a_template_without_custom_profile_gets_no_config_map_or_mount() -> None:
    plan = plan_service(observe(template(customProfile=None)), NOW)
    assert [o["kind"] for o in plan.apply] == ["InferenceService"]
    predictor = plan.apply[0]["spec"]["predictor"]
    assert [v["name"] for v in predictor["volumes"]] == ["dshm"]


LEFT_OVER = ObjectRef("v1", "ConfigMap", custom_profile_config_map_name("chat"), "team")
DELETIONS = [
    pytest.param(template(customProfile=None), config_map(), [LEFT_OVER], id="profile-removed-config-map-deleted"),
    pytest.param(template(customProfile=None), config_map("someone-else"), [], id="not-ours-kept"),
    pytest.param(template(), config_map(), [], id="still-wanted-kept"),
    pytest.param(
        template(customProfile=None, status={"status": "Progressing"}), config_map(), [], id="template-unresolved-kept"
    ),
]


@pytest.mark.parametrize(("tpl", "existing", "deleted"), DELETIONS)
def test_a_config_map_the_template_no_longer_asks_for_is_deleted(
    tpl: dict[str, Any], existing: dict[str, Any], deleted: list[ObjectRef]
) -> None:
    assert plan_service(observe(tpl, profile_config_map=existing), NOW).delete == deleted


def test_a_derived_template_carries_the_custom_profile_with_the_overridden_gpu() -> None:
    svc = service(overrides={"hardware": {"gpu": {"models": ["MI325X"]}}})
    derived = plan_service(observe(svc=svc), NOW).apply[0]
    assert derived["spec"]["customProfile"] == {"engineArgs": ENGINE_ARGS, "envVars": ENV_VARS}
    derived["status"] = {"status": "Ready"}
    plan = plan_service(observe(svc=svc, derived_template=Found(derived, NAMESPACE)), NOW)
    assert list(applied_kind(plan, "ConfigMap")["data"]) == ["vllm-mi325x-fp16-tp1-latency.yaml"]
    assert status_of(plan)["resolvedTemplate"]["name"] == derived["metadata"]["name"]


# -- what the fetch step reads ---------------------------------------------------------------------


def _owned_isvc(volume: str) -> dict[str, Any]:
    return fetching.obj(
        "InferenceService",
        inference_service_name("chat", "team"),
        metadata={"ownerReferences": [{"uid": "uid-chat"}]},
        spec={"predictor": {"volumes": [{"name": volume}]}},
    )


def _fetch_template(**spec: Any) -> dict[str, Any]:
    return fetching.obj("AIMServiceTemplate", "t", spec={"modelName": "qwen", **spec})


READS = [
    pytest.param([_fetch_template(customProfile={})], True, id="a-candidate-has-one"),
    pytest.param([_fetch_template(modelName="other", customProfile={})], False, id="another-model-s-template"),
    pytest.param([_fetch_template(), _owned_isvc("custom-profile")], True, id="the-isvc-mounts-one"),
    pytest.param([_fetch_template(), _owned_isvc("cache-0")], False, id="no-custom-profile-anywhere"),
]


@pytest.mark.parametrize(("objects", "reads"), READS)
def test_the_config_map_is_read_only_where_a_custom_profile_may_be(objects: list[dict[str, Any]], reads: bool) -> None:
    left = fetching.obj("ConfigMap", custom_profile_config_map_name("chat"))
    observed, kube = fetching.fetched(
        fetching.service(model={"name": "qwen"}), fetching.model("AIMModel", "qwen"), left, *objects
    )
    assert (("get", "ConfigMap") in kube.reads) == reads
    assert (observed.profile_config_map is not None) == reads

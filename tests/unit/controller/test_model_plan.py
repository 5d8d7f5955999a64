"""plan_model and its parts: a model, what its image's registry said, its templates and the
official templates of its AIM family in; templates, deletions and status out (no API server, no
registry)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.naming import derived_name
from api.stored import read_model, read_template
from controller.common.runtimeconfig import resolve_runtime_config
from controller.model.observe import ImageLookup, ModelObservation
from controller.model.plan import (
    DEPLOYMENT_IMAGE,
    NO_AIM_LABELS,
    ORIGIN_LABEL,
    deployment_image,
    fine_tune_candidates,
    is_custom,
    needs_lookup,
    plan_model,
    templates_component,
)
from controller.pipeline.plan import ObjectRef
from tests.builders import condition, conditions, status_of

NOW = "2026-11-23T12:00:00Z"
V1 = "aim.eai.amd.com/v1alpha1"
V2 = "aim.eai.amd.com/v1alpha2"
IMAGE = "registry.example.com/amdenterpriseai/aim-qwen3-32b:0.9.0"
DEPLOYMENTS = [
    {"gpuModel": "MI300X", "gpuCount": 1, "precision": "fp8", "metric": "latency", "profileId": "vllm-mi300x-fp8"},
    {"gpuModel": "MI250X", "gpuCount": 2, "precision": "fp16", "metric": "throughput"},
    {"gpuModel": "MI300X", "gpuCount": 0, "precision": "bf16", "metric": "latency"},
    {"precision": "bf16", "metric": "throughput"},
]
LABELS = {
    "com.amd.aim.model.canonicalName": "Qwen/Qwen3-32B",
    "com.amd.aim.model.recommendedDeployments": json.dumps(DEPLOYMENTS),
    "com.amd.aim.title": "Qwen 3 32B",
    "org.opencontainers.image.version": "0.9.0",
}
SECRET_ENV = {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}}}
BUCKET_SOURCE = {"modelId": "m/x", "sourceUri": "s3://m/x"}


def model(
    kind: str = "AIMModel", status: dict[str, Any] | None = None, name: str = "qwen3-32b", **spec: Any
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "uid": f"uid-{name}", "generation": 1}
    if kind == "AIMModel":
        metadata["namespace"] = "team"
    obj: dict[str, Any] = {
        "apiVersion": V2,
        "kind": kind,
        "metadata": metadata,
        "spec": {k: v for k, v in ({"image": IMAGE} | spec).items() if v is not None},
    }
    if status is not None:
        obj["status"] = status
    return obj


def observe(m: dict[str, Any] | None = None, **fields: Any) -> ModelObservation:
    """The observation of `m` (dicts as the API server sends them, read as the fetch step does). A
    custom model's base image is found in its registry (no AIM labels, as aim-base) unless the test
    says what the registry answered."""
    typed = read_model(m or model())
    defaults: dict[str, Any] = {"runtime_config": resolve_runtime_config(None, None, None)}
    if is_custom(typed) and needs_lookup(typed):
        defaults["lookup"] = ImageLookup()
    fields = defaults | fields
    for key in ("templates", "official_templates"):
        if key in fields:
            fields[key] = [read_template(t) for t in fields[key]]
    if "template_owners" in fields:
        fields["template_owners"] = {key: read_model(owner) for key, owner in fields["template_owners"].items()}
    return ModelObservation(model=typed, **fields)


def found(labels: dict[str, str] | None = None, env: dict[str, str] | None = None) -> ImageLookup:
    return ImageLookup(labels=LABELS if labels is None else labels, env=env or {})


def failed(error: str, message: str = "registry said no") -> ImageLookup:
    return ImageLookup(error=error, message=message)


def with_status(templates: list[dict[str, Any]], *states: str) -> list[dict[str, Any]]:
    """The planned templates as they exist after their own reconcile."""
    return [t | {"status": {"status": s}} if s else t for t, s in zip(templates, states, strict=True)]


# --- when to ask the registry ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("m", "expected"),
    [
        pytest.param(model(), True, id="image"),
        pytest.param(model("AIMClusterModel"), True, id="cluster-image"),
        pytest.param(model(discovery={"extractMetadata": True}), True, id="extraction-on"),
        pytest.param(model(discovery={"extractMetadata": False}), False, id="extraction-off"),
        pytest.param(model(discovery={"createServiceTemplates": False}), True, id="templates-off-still-reads"),
        pytest.param(model(image=None), False, id="no-image"),
        pytest.param(model(modelSources=[BUCKET_SOURCE]), True, id="custom-base-image"),
        pytest.param(model(modelSources=[BUCKET_SOURCE], image=None), False, id="custom-without-image"),
        pytest.param(model(imageMetadata={"model": {"title": "x"}}), False, id="metadata-in-spec"),
        pytest.param(model(status={"imageMetadata": {"originalLabels": {}}}), False, id="already-read"),
        pytest.param(model(status={"status": "Failed"}), True, id="failed-before"),
        pytest.param(model(status={"imageMetadata": {}}), False, id="read-an-image-without-any-label"),
    ],
)
def test_needs_lookup(m: dict[str, Any], expected: bool) -> None:
    assert needs_lookup(read_model(m)) is expected


# --- image metadata and templates from recommended deployments ------------------------------------


def test_metadata_from_the_spec_makes_templates() -> None:
    metadata = {"model": {"recommendedDeployments": DEPLOYMENTS[:1]}}
    plan = plan_model(observe(model(imageMetadata=metadata)), NOW)
    status = status_of(plan)
    assert status["imageMetadata"] == metadata
    assert condition(status, "ImageMetadataReady")["message"] == "Provided in spec.imageMetadata"
    assert conditions(status)["ImageMetadataReady"] == ("True", "ImageMetadataFound")
    assert len(plan.apply) == 1


def test_lookup_with_aim_labels() -> None:
    m = model(
        env=[SECRET_ENV],
        runtimeConfigName="fast",
        imagePullSecrets=[{"name": "pull"}],
        serviceAccountName="runner",
    )
    plan = plan_model(
        observe(m, runtime_config=resolve_runtime_config("fast", {"spec": {}}, None), lookup=found()), NOW
    )
    status = status_of(plan)
    assert status["sourceType"] == "Image"
    assert status["imageMetadata"]["model"]["canonicalName"] == "Qwen/Qwen3-32B"
    assert status["imageMetadata"]["originalLabels"] == LABELS
    assert status["resolvedRuntimeConfig"] == {"name": "fast", "scope": "Namespace"}
    assert conditions(status)["ImageMetadataReady"] == ("True", "ImageMetadataFound")
    assert conditions(status)["ServiceTemplatesReady"] == ("False", "CreatingTemplates")
    assert status["status"] == "Progressing"
    assert len(plan.apply) == len(DEPLOYMENTS)
    first = plan.apply[0]
    assert first["apiVersion"] == V1
    assert first["kind"] == "AIMServiceTemplate"
    assert first["metadata"]["name"] == derived_name(
        ["aim-qwen3-32b", "1x-mi300x-lat-fp8"], ["qwen3-32b", IMAGE, "MI300X", 1, "latency", "fp8"], hash_length=4
    )
    assert first["metadata"]["namespace"] == "team"
    assert first["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "aim-engine",
        "aim.eai.amd.com/model": "qwen3-32b",
        ORIGIN_LABEL: "auto-generated",
        "aim.eai.amd.com/model.name": "qwen3-32b",  # upstream's owner-name label
    }
    assert first["metadata"]["ownerReferences"] == [
        {
            "apiVersion": V2,
            "kind": "AIMModel",
            "name": "qwen3-32b",
            "uid": "uid-qwen3-32b",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert first["spec"] == {
        "modelName": "qwen3-32b",
        "runtimeConfigName": "fast",
        "imagePullSecrets": [{"name": "pull"}],
        "serviceAccountName": "runner",
        "metric": "latency",
        "precision": "fp8",
        "profileId": "vllm-mi300x-fp8",
        "env": [SECRET_ENV],
        "hardware": {"gpu": {"model": "MI300X", "requests": 1}},  # upstream's spelling
    }


@pytest.mark.parametrize(
    ("index", "hardware"),
    [
        pytest.param(0, {"gpu": {"model": "MI300X", "requests": 1}}, id="gpu-and-count"),
        pytest.param(1, {"gpu": {"model": "MI250X", "requests": 2}}, id="two-gpus"),
        pytest.param(2, None, id="zero-count-no-hardware"),
        pytest.param(3, None, id="no-gpu-no-hardware"),
    ],
)
def test_template_hardware_only_with_gpu_and_count(index: int, hardware: dict[str, Any] | None) -> None:
    planned = plan_model(observe(lookup=found()), NOW).apply[index]
    assert planned["spec"].get("hardware") == hardware


def test_template_names_are_unique_and_short() -> None:
    names = [t["metadata"]["name"] for t in plan_model(observe(lookup=found()), NOW).apply]
    assert len(set(names)) == len(DEPLOYMENTS)
    assert all(len(n) <= 63 for n in names)


def test_cluster_model_templates_have_no_namespace_and_no_env() -> None:
    plan = plan_model(observe(model("AIMClusterModel", env=[SECRET_ENV]), lookup=found()), NOW)
    first = plan.apply[0]
    assert first["kind"] == "AIMClusterServiceTemplate"
    assert "namespace" not in first["metadata"]
    assert "env" not in first["spec"], "a cluster template cannot use one namespace's Secrets"
    assert first["metadata"]["ownerReferences"][0]["kind"] == "AIMClusterModel"
    assert conditions(status_of(plan))["ClusterServiceTemplatesReady"] == ("False", "CreatingTemplates")


def test_metadata_read_before_is_used() -> None:
    metadata = {"model": {"recommendedDeployments": DEPLOYMENTS[:2]}, "originalLabels": LABELS}
    plan = plan_model(observe(model(status={"imageMetadata": metadata})), NOW)
    assert status_of(plan)["imageMetadata"] == metadata
    assert conditions(status_of(plan))["ImageMetadataReady"] == ("True", "ImageMetadataFound")
    assert len(plan.apply) == 2


def test_template_creation_switched_off() -> None:
    plan = plan_model(observe(model(discovery={"createServiceTemplates": False}), lookup=found()), NOW)
    assert plan.apply == []
    assert status_of(plan)["status"] == "Ready"
    assert conditions(status_of(plan))["ServiceTemplatesReady"] == ("True", "NoTemplatesExpected")


def test_extraction_switched_off() -> None:
    plan = plan_model(observe(model(discovery={"extractMetadata": False})), NOW)
    status = status_of(plan)
    assert "ImageMetadataReady" not in conditions(status)
    assert status["status"] == "Ready"
    assert plan.apply == []


def test_all_templates_ready() -> None:
    planned = plan_model(observe(lookup=found()), NOW).apply
    previous = status_of(plan_model(observe(lookup=found()), NOW))
    again = observe(model(status=previous), templates=with_status(planned, *["Ready"] * len(planned)))
    status = status_of(plan_model(again, NOW))
    assert status["status"] == "Ready"
    assert conditions(status)["ServiceTemplatesReady"] == ("True", "AllTemplatesReady")


@pytest.mark.parametrize(
    ("labels", "previous"),
    [
        pytest.param({"org.opencontainers.image.version": "1.0"}, False, id="read-now"),
        pytest.param({"org.opencontainers.image.version": "1.0"}, True, id="read-before"),
        pytest.param({}, False, id="no-labels-at-all"),
        pytest.param({"com.amd.aim.title": ""}, False, id="empty-aim-label"),
    ],
)
def test_image_without_aim_labels(labels: dict[str, str], previous: bool) -> None:
    if previous:
        observed = observe(model(status={"imageMetadata": {"originalLabels": labels}}))
    else:
        observed = observe(lookup=found(labels))
    plan = plan_model(observed, NOW)
    status = status_of(plan)
    assert status["status"] == "Ready"
    assert conditions(status)["ImageMetadataReady"] == ("True", "ImageFound"), "found, as upstream"
    assert condition(status, "ImageMetadataReady")["message"] == NO_AIM_LABELS
    assert conditions(status)["Ready"] == ("True", "AllComponentsReady")
    assert plan.apply == []
    assert plan.events == []


def test_malformed_aim_labels_fail() -> None:
    labels = {"com.amd.aim.model.recommendedDeployments": "{not json"}
    plan = plan_model(observe(lookup=found(labels)), NOW)
    status = status_of(plan)
    assert status["status"] == "Failed"
    assert conditions(status)["ImageMetadataReady"] == ("False", "MetadataExtractionFailed")
    assert "com.amd.aim.model.recommendedDeployments" in condition(status, "ImageMetadataReady")["message"]
    assert plan.apply == []


def test_waiting_for_the_registry() -> None:
    plan = plan_model(observe(), NOW)
    status = status_of(plan)
    assert status["status"] == "Progressing"
    assert conditions(status)["ImageMetadataReady"] == ("False", "AwaitingMetadata")
    assert conditions(status)["ServiceTemplatesReady"] == ("False", "AwaitingMetadata")
    assert plan.apply == []


LOOKUP_ERRORS = [
    pytest.param(
        "unauthorized",
        "Failed",
        {"ImageMetadataReady": ("False", "MetadataExtractionFailed"), "AuthValid": ("False", "AuthError")},
        300.0,
        id="unauthorized",
    ),
    pytest.param(
        "unreachable",
        "Degraded",
        {
            "ImageMetadataReady": ("False", "MetadataExtractionFailed"),
            "DependenciesReachable": ("False", "InfrastructureError"),
        },
        30.0,
        id="unreachable",
    ),
    pytest.param(
        "not-found", "Degraded", {"ImageMetadataReady": ("False", "MetadataExtractionFailed")}, 60.0, id="not-found"
    ),
    pytest.param(
        "invalid", "Failed", {"ImageMetadataReady": ("False", "MetadataExtractionFailed")}, None, id="invalid-no-retry"
    ),
]


@pytest.mark.parametrize(("error", "state", "expected", "requeue"), LOOKUP_ERRORS)
def test_lookup_errors(error: str, state: str, expected: dict[str, tuple[str, str]], requeue: float | None) -> None:
    plan = plan_model(observe(lookup=failed(error, f"{error}: {IMAGE}")), NOW)
    status = status_of(plan)
    assert status["status"] == state
    found_conditions = conditions(status)
    assert {k: found_conditions[k] for k in expected} == expected
    assert not {"AuthValid", "DependenciesReachable"} - set(expected) & set(found_conditions)
    assert condition(status, "ImageMetadataReady")["message"] == f"{error}: {IMAGE}"
    assert plan.requeue_after == requeue
    assert plan.apply == []
    assert "imageMetadata" not in status
    assert [(e.type, e.reason) for e in plan.events] == [("Warning", "MetadataExtractionFailed")]


@pytest.mark.parametrize(
    ("error", "requeue"),
    [
        pytest.param("not-found", 2.0, id="configured"),
        pytest.param("unreachable", 5.0, id="configured-per-error"),
        pytest.param("unauthorized", None, id="not-configured-no-retry"),
        pytest.param("invalid", None, id="invalid-never-retried"),
    ],
)
def test_lookup_retry_comes_from_the_settings(error: str, requeue: float | None) -> None:
    retry = {"not-found": 2.0, "unreachable": 5.0, "invalid": 1.0}
    plan = plan_model(observe(lookup=failed(error), retry_seconds=retry), NOW)
    assert plan.requeue_after == requeue


def test_no_second_event_for_the_same_failure() -> None:
    plan = plan_model(observe(model(status={"status": "Degraded"}), lookup=failed("unreachable")), NOW)
    assert plan.events == []


def test_missing_pull_secret() -> None:
    observed = observe(model(imagePullSecrets=[{"name": "pull"}]), missing_secrets=["pull in namespace team"])
    plan = plan_model(observed, NOW)
    status = status_of(plan)
    assert status["status"] == "Failed"
    assert conditions(status)["ImageMetadataReady"] == ("False", "SecretNotFound")
    assert condition(status, "ImageMetadataReady")["message"] == (
        "spec.imagePullSecrets: no Secret named pull in namespace team"
    )
    assert plan.apply == []


# --- custom models --------------------------------------------------------------------------------

CUSTOM_SOURCES = [{"modelId": "org/tuned", "sourceUri": "s3://models/tuned", "size": "1Gi", "precision": "fp8"}]
TEMPLATE_SOURCES = [{"modelId": "org/tuned", "sourceUri": "s3://models/tuned", "size": "1Gi"}]
MI300X = {"gpu": {"models": ["MI300X"], "requests": 1}}
"""As a v1alpha2 AIMModel (stored version) has it; templates spell one model `model` (upstream)."""
MI300X_TEMPLATE = {"gpu": {"model": "MI300X", "requests": 1}}


def custom_model(kind: str = "AIMModel", **spec: Any) -> dict[str, Any]:
    return model(kind, name="tuned", modelSources=CUSTOM_SOURCES, **({"custom": {"hardware": MI300X}} | spec))


def test_custom_model_without_custom_templates() -> None:
    plan = plan_model(observe(custom_model(env=[SECRET_ENV])), NOW)
    status = status_of(plan)
    (planned,) = plan.apply
    assert planned["metadata"]["name"] == derived_name(["tuned", "custom"], ["tuned", 0, MI300X])
    assert planned["metadata"]["labels"][ORIGIN_LABEL] == "auto-generated", "as upstream labels them"
    assert planned["spec"] == {
        "modelName": "tuned",
        "hardware": MI300X_TEMPLATE,
        "type": "unoptimized",
        "modelSources": TEMPLATE_SOURCES,
        "env": [SECRET_ENV],
    }
    assert status["sourceType"] == "Custom"
    assert conditions(status)["ImageMetadataReady"] == ("True", "ImageFound"), "the base image exists"
    assert status["imageMetadata"] == {"originalLabels": {}}
    assert conditions(status)["ServiceTemplatesReady"] == ("False", "CreatingTemplates")


def test_custom_model_type_and_cluster_env() -> None:
    m = custom_model("AIMClusterModel", custom={"hardware": MI300X, "type": "preview"}, env=[SECRET_ENV])
    (planned,) = plan_model(observe(m), NOW).apply
    assert planned["spec"]["type"] == "preview"
    assert "env" not in planned["spec"]


def custom_templates(
    *entries: dict[str, Any], base: dict[str, Any] | None = None, **custom: Any
) -> list[dict[str, Any]]:
    m = custom_model(custom={"hardware": base} | custom if base else custom or None, customTemplates=list(entries))
    return plan_model(observe(m), NOW).apply


@pytest.mark.parametrize(
    ("base", "entry", "merged"),
    [
        pytest.param(
            {"gpu": {"models": ["MI300X"], "requests": 1}},
            {"gpu": {"models": ["MI250X"]}},
            {"gpu": {"model": "MI250X", "requests": 1}},
            id="entry-field-wins-others-kept",
        ),
        pytest.param(MI300X, None, MI300X_TEMPLATE, id="model-hardware-only"),
        pytest.param(
            {"gpu": {"models": ["MI300X", "MI325X"]}},
            None,
            {"gpu": {"models": ["MI300X", "MI325X"]}},
            id="several-models-stay-a-list",
        ),
        pytest.param(None, {"gpu": {"requests": 2}}, {"gpu": {"requests": 2}}, id="entry-hardware-only"),
        pytest.param(
            MI300X,
            {"cpu": {"requests": "8"}},
            MI300X_TEMPLATE | {"cpu": {"requests": "8"}},
            id="gpu-and-cpu-side-by-side",
        ),
    ],
)
def test_custom_template_hardware_merges_field_wise(
    base: dict[str, Any] | None, entry: dict[str, Any] | None, merged: dict[str, Any]
) -> None:
    (planned,) = custom_templates({"name": "t"} | ({"hardware": entry} if entry else {}), base=base)
    assert planned["spec"]["hardware"] == merged


@pytest.mark.parametrize(
    ("entry_type", "custom_type", "expected"),
    [
        pytest.param("optimized", "preview", "optimized", id="entry-wins"),
        pytest.param(None, "preview", "preview", id="model-custom-type"),
        pytest.param(None, None, "unoptimized", id="default-unoptimized"),
    ],
)
def test_custom_template_type(entry_type: str | None, custom_type: str | None, expected: str) -> None:
    entry: dict[str, Any] = {"name": "t"} | ({"type": entry_type} if entry_type else {})
    extra: dict[str, Any] = {"type": custom_type} if custom_type else {}
    (planned,) = custom_templates(entry, base=MI300X, **extra)
    assert planned["spec"]["type"] == expected


@pytest.mark.parametrize(
    ("cpu", "resources"),
    [
        pytest.param(
            {"requests": "500m", "limits": "2000m"},
            {"requests": {"cpu": "500m"}, "limits": {"cpu": "2"}},
            id="upstream-cpu-only",
        ),
        pytest.param({"requests": "2"}, {"requests": {"cpu": "2"}}, id="no-limits-without-limits"),
        pytest.param({"requests": "0.5"}, {"requests": {"cpu": "500m"}}, id="decimal"),
    ],
)
def test_a_cpu_custom_models_template_requests_its_cpu(cpu: dict[str, str], resources: dict[str, Any]) -> None:
    (template,) = plan_model(observe(custom_model(custom={"hardware": {"cpu": cpu}})), NOW).apply
    assert template["spec"]["resources"] == resources
    assert template["metadata"]["labels"][ORIGIN_LABEL] == "auto-generated"


def test_custom_templates_one_per_entry() -> None:
    fast, cpu, unnamed = custom_templates(
        {
            "name": "Fast_Path",
            "profile": {"metric": "latency", "precision": "fp8"},
            "aimId": "org/tuned",
            "modelId": "org/tuned",
            "env": [{"name": "HF_TOKEN", "value": "entry"}],
        },
        {"name": "cpu", "hardware": {"cpu": {"requests": "16000m", "limits": "32"}}},
        {"profile": {"metric": "throughput"}},
        base=MI300X,
    )
    assert fast["metadata"]["labels"]["aim.eai.amd.com/template.alias"] == "fast-path"
    assert fast["spec"]["metric"] == "latency"
    assert fast["spec"]["precision"] == "fp8"
    assert (fast["spec"]["aimId"], fast["spec"]["modelId"]) == ("org/tuned", "org/tuned")
    assert fast["spec"]["modelSources"] == TEMPLATE_SOURCES, "precision is not a template source field"
    assert cpu["spec"]["resources"] == {"requests": {"cpu": "16"}, "limits": {"cpu": "32"}}
    assert cpu["spec"]["hardware"]["cpu"] == {"requests": "16", "limits": "32"}, "canonical, as Kubernetes writes it"
    assert "resources" not in fast["spec"]
    assert "aim.eai.amd.com/template.alias" not in unnamed["metadata"]["labels"]
    assert len({fast["metadata"]["name"], cpu["metadata"]["name"], unnamed["metadata"]["name"]}) == 3


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        pytest.param(
            "AIMModel",
            [{"name": "HF_TOKEN", "value": "entry"}, {"name": "LOG", "value": "debug"}],
            id="namespaced-model-env-then-entry",
        ),
        pytest.param("AIMClusterModel", [{"name": "HF_TOKEN", "value": "entry"}], id="cluster-entry-only"),
    ],
)
def test_custom_template_env(kind: str, expected: list[dict[str, Any]]) -> None:
    entry = {"name": "t", "env": [{"name": "HF_TOKEN", "value": "entry"}]}
    m = custom_model(
        kind, env=[{"name": "HF_TOKEN", "value": "model"}, {"name": "LOG", "value": "debug"}], customTemplates=[entry]
    )
    (planned,) = plan_model(observe(m), NOW).apply
    assert planned["spec"]["env"] == expected


# --- fine-tuned models ----------------------------------------------------------------------------

OLD_IMAGE = "registry.example.com/mirror/aim-qwen:0.9.0"
NEW_IMAGE = "registry.example.com/mirror/aim-qwen:0.10.0"
TUNED_SOURCES = [{"modelId": "Qwen/Qwen3-32B", "sourceUri": "s3://tuned/qwen3-32b-med", "precision": "bf16"}]


def official_model(name: str, image: str, base: str | None = None) -> dict[str, Any]:
    return model(name=name, image=image, status={"imageMetadata": {"baseImageRef": base}} if base else None)


OWNERS = {
    "AIMModel/old": official_model("old", OLD_IMAGE, "docker.io/amdenterpriseai/aim-base:0.9"),
    "AIMModel/new": official_model("new", NEW_IMAGE, "docker.io/amdenterpriseai/aim-base:0.10"),
}


def official(
    name: str, owner: str, model_id: str = "Qwen/Qwen3-32B", aim_id: str = "qwen/qwen3", origin: str = "auto-generated"
) -> dict[str, Any]:
    return {
        "apiVersion": V1,
        "kind": "AIMServiceTemplate",
        "metadata": {
            "name": name,
            "namespace": "team",
            "labels": {ORIGIN_LABEL: origin},
            "ownerReferences": [{"apiVersion": V2, "kind": "AIMModel", "name": owner, "uid": f"uid-{owner}"}],
        },
        "spec": {
            "modelName": owner,
            "aimId": aim_id,
            "modelId": model_id,
            "metric": "latency",
            "precision": "fp8",
            "hardware": {"gpu": {"requests": 1, "models": ["MI300X"]}},
            "env": [{"name": "VLLM_USE_V1", "value": "1"}],
        },
    }


OFFICIAL = [
    official("old-mi300x", "old"),
    official("new-mi300x", "new"),
    official("new-8b", "new", model_id="Qwen/Qwen3-8B"),
    official("other-family", "new", aim_id="meta/llama"),
    official("someone-elses-copy", "new", origin="fine-tuned"),
]


def tuned(policy: str | None = None, image: str | None = None, **spec: Any) -> dict[str, Any]:
    custom = {"versionPolicy": policy} if policy else None
    spec = {"aimId": "qwen/qwen3", "modelSources": TUNED_SOURCES, "custom": custom} | spec
    return model(name="medical", image=image, **spec)


def observe_tuned(
    m: dict[str, Any], owners: dict[str, dict[str, Any]] | None = None, **fields: Any
) -> ModelObservation:
    return observe(m, official_templates=OFFICIAL, template_owners=OWNERS if owners is None else owners, **fields)


@pytest.mark.parametrize(
    ("m", "expected"),
    [
        pytest.param(tuned(image=OLD_IMAGE), ["old-mi300x"], id="pinned-by-default"),
        pytest.param(tuned("pinned", NEW_IMAGE), ["new-mi300x"], id="pinned-to-the-image-tag"),
        pytest.param(tuned("pinned", "registry.example.com/mirror/aim-qwen:0.8.0"), [], id="pinned-no-such-version"),
        pytest.param(tuned("pinned"), [], id="pinned-without-image"),
        pytest.param(tuned("latest"), ["new-mi300x"], id="latest-is-semver-newest"),
        pytest.param(tuned("any"), ["old-mi300x", "new-mi300x"], id="any"),
        # spec.modelSources holds one source (v1alpha2 maxItems 1): the candidates follow its model id.
        pytest.param(
            tuned("any", modelSources=[{"modelId": "Qwen/Qwen3-8B", "sourceUri": "s3://t/8b"}]),
            ["new-8b"],
            id="any-for-the-source-model",
        ),
        pytest.param(
            tuned("any", modelSources=[{"modelId": "Qwen/Qwen3-4B", "sourceUri": "s3://t/4b"}]),
            [],
            id="model-id-filter",
        ),
    ],
)
def test_fine_tune_candidates(m: dict[str, Any], expected: list[str]) -> None:
    assert [t.name for t in fine_tune_candidates(observe_tuned(m))] == expected


def test_latest_without_readable_versions_has_no_candidates() -> None:
    owners = {
        k: official_model(k.split("/")[1], v["spec"]["image"].rsplit(":", 1)[0] + ":main") for k, v in OWNERS.items()
    }
    assert fine_tune_candidates(observe_tuned(tuned("latest"), owners)) == []


@pytest.mark.parametrize(
    ("m", "owners", "template_name", "image"),
    [
        pytest.param(tuned("pinned", OLD_IMAGE), OWNERS, "old-mi300x", OLD_IMAGE, id="pinned-own-image"),
        pytest.param(
            tuned("latest"), OWNERS, "new-mi300x", "registry.example.com/mirror/aim-base:0.10", id="base-image-rebased"
        ),
        pytest.param(
            tuned("any", OLD_IMAGE),
            OWNERS,
            "old-mi300x",
            "registry.example.com/mirror/aim-base:0.9",
            id="any-ignores-own-image",
        ),
        pytest.param(
            tuned("any"),
            {"AIMModel/old": official_model("old", OLD_IMAGE)},
            "old-mi300x",
            "registry.example.com/mirror/aim-base:0.9",
            id="legacy-base-from-release-tag",
        ),
        pytest.param(
            tuned("any"),
            {"AIMModel/old": official_model("old", "aim-qwen:v1.2.3-rc1")},
            "old-mi300x",
            "aim-base:1.2",
            id="legacy-base-owner-without-registry",
        ),
        pytest.param(
            tuned("any"),
            {"AIMModel/old": official_model("old", "registry.example.com/mirror/aim-qwen:latest")},
            "old-mi300x",
            None,
            id="unresolvable-tag",
        ),
        pytest.param(tuned("any"), {}, "old-mi300x", None, id="owner-not-found"),
    ],
)
def test_deployment_image(
    m: dict[str, Any], owners: dict[str, dict[str, Any]], template_name: str, image: str | None
) -> None:
    template = next(t for t in OFFICIAL if t["metadata"]["name"] == template_name)
    assert deployment_image(observe_tuned(m, owners), read_template(template)) == image


def test_fine_tuned_copies() -> None:
    plan = plan_model(observe_tuned(tuned("any", env=[SECRET_ENV])), NOW)
    status = status_of(plan)
    assert status["sourceType"] == "Custom"
    copies = {t["metadata"]["annotations"][DEPLOYMENT_IMAGE]: t for t in plan.apply}
    assert set(copies) == {"registry.example.com/mirror/aim-base:0.9", "registry.example.com/mirror/aim-base:0.10"}
    copy = copies["registry.example.com/mirror/aim-base:0.9"]
    assert copy["metadata"]["name"].startswith("medical-ft-0-9-0-fp8-mi300x-")
    assert copy["metadata"]["labels"][ORIGIN_LABEL] == "fine-tuned"
    assert copy["metadata"]["ownerReferences"][0]["name"] == "medical"
    assert copy["spec"] == {
        "modelName": "medical",
        "aimId": "qwen/qwen3",
        "modelId": "Qwen/Qwen3-32B",
        "hardware": {"gpu": {"requests": 1, "models": ["MI300X"]}},
        "metric": "latency",
        "precision": "fp8",
        "modelSources": [{"modelId": "Qwen/Qwen3-32B", "sourceUri": "s3://tuned/qwen3-32b-med"}],
        "env": [{"name": "VLLM_USE_V1", "value": "1"}, SECRET_ENV],
    }
    assert plan.requeue_after is None
    assert plan.delete == []


def test_unresolvable_copies_are_skipped_and_retried() -> None:
    owners = {
        "AIMModel/old": official_model("old", "registry.example.com/mirror/aim-qwen:latest"),
        "AIMModel/new": OWNERS["AIMModel/new"],
    }
    plan = plan_model(observe_tuned(tuned("any"), owners), NOW)
    assert [t["metadata"]["annotations"][DEPLOYMENT_IMAGE] for t in plan.apply] == [
        "registry.example.com/mirror/aim-base:0.10"
    ]
    assert plan.requeue_after == 60.0


def existing_copy(name: str, owner_uid: str = "uid-medical", origin: str = "fine-tuned") -> dict[str, Any]:
    return {
        "apiVersion": V1,
        "kind": "AIMServiceTemplate",
        "metadata": {
            "name": name,
            "namespace": "team",
            "labels": {ORIGIN_LABEL: origin},
            "ownerReferences": [{"kind": "AIMModel", "name": "medical", "uid": owner_uid}],
        },
        "spec": {"modelName": "medical"},
        "status": {"status": "Ready"},
    }


def test_copies_follow_their_official_templates() -> None:
    wanted = plan_model(observe_tuned(tuned("latest")), NOW).apply
    (kept,) = wanted
    gone = existing_copy("medical-ft-0-9-0-fp8-mi300x-12345678")
    templates = [
        kept | {"status": {"status": "Ready"}},
        gone,
        existing_copy("someone-elses", owner_uid="uid-other"),
        existing_copy("medical-custom", origin="custom"),
    ]
    plan = plan_model(observe_tuned(tuned("latest"), templates=templates), NOW)
    assert plan.delete == [ObjectRef(V1, "AIMServiceTemplate", gone["metadata"]["name"], "team")]


# --- template aggregation -------------------------------------------------------------------------


def owned(*states: str, kind: str = "AIMServiceTemplate", uid: str = "uid-qwen3-32b") -> list[dict[str, Any]]:
    templates = []
    for index, state in enumerate(states):
        template: dict[str, Any] = {
            "kind": kind,
            "metadata": {"name": f"t{index}", "ownerReferences": [{"uid": uid}]},
            "spec": {"modelName": "qwen3-32b"},
        }
        if state:
            template["status"] = {"status": state}
        templates.append(template)
    return templates


AGGREGATION = [
    pytest.param([], [], True, ("Progressing", "AwaitingMetadata"), id="awaiting-metadata"),
    pytest.param([], [], False, ("Ready", "NoTemplatesExpected"), id="no-templates-expected"),
    pytest.param(owned("Ready"), owned("Ready", "Ready"), False, ("Progressing", "CreatingTemplates"), id="creating"),
    pytest.param(owned("Ready", "Ready"), None, False, ("Ready", "AllTemplatesReady"), id="all-ready"),
    pytest.param(owned("Failed", "Failed"), None, False, ("Failed", "AllTemplatesFailed"), id="all-failed"),
    pytest.param(
        owned("NotAvailable", "NotAvailable"),
        None,
        False,
        ("NotAvailable", "NoTemplatesAvailable"),
        id="none-available",
    ),
    pytest.param(owned("Ready", "Degraded"), None, False, ("Degraded", "SomeTemplatesDegraded"), id="some-degraded"),
    pytest.param(owned("Ready", "Pending"), None, False, ("Progressing", "TemplatesProgressing"), id="some-pending"),
    pytest.param(owned("Ready", "Progressing"), None, False, ("Progressing", "TemplatesProgressing"), id="progressing"),
    pytest.param(owned("Ready", ""), None, False, ("Progressing", "TemplatesProgressing"), id="not-reconciled-yet"),
    pytest.param(owned("Ready", "NotAvailable"), None, False, ("Ready", "SomeTemplatesReady"), id="ready-and-no-gpu"),
    # Upstream's aggregateTemplateStatuses counts Failed with Degraded: some failed, none Ready is
    # not Ready (it reports Degraded / SomeTemplatesDegraded).
    pytest.param(
        owned("Failed", "NotAvailable"), None, False, ("Degraded", "SomeTemplatesDegraded"), id="failed-and-no-gpu"
    ),
    # As upstream (templates indexed by spec.modelName): a template the model does not own counts.
    pytest.param(owned("Ready", uid="other"), [], False, ("Ready", "AllTemplatesReady"), id="not-owned-counted"),
    pytest.param(
        owned("Degraded", uid="other"), [], False, ("Degraded", "SomeTemplatesDegraded"), id="not-owned-degraded"
    ),
]


@pytest.mark.parametrize(("templates", "desired", "awaiting", "expected"), AGGREGATION)
def test_templates_component(
    templates: list[dict[str, Any]],
    desired: list[dict[str, Any]] | None,
    awaiting: bool,
    expected: tuple[str, str],
) -> None:
    observed = observe(templates=templates)
    component = templates_component(observed, templates if desired is None else desired, awaiting)
    assert component.condition == "ServiceTemplatesReady"
    assert (component.state, component.reason) == expected


def test_cluster_model_aggregation_condition() -> None:
    component = templates_component(observe(model("AIMClusterModel")), [], False)
    assert component.condition == "ClusterServiceTemplatesReady"


def test_some_ready_message_counts() -> None:
    templates = owned("Ready", "NotAvailable", "Ready")
    component = templates_component(observe(templates=templates), templates, False)
    assert component.message == "2 of 3 template(s) Ready"


def test_a_fine_tuned_model_without_a_template_to_copy_is_progressing() -> None:
    """Upstream's fine-tuned/aimid-no-match: expecting copies, it is not Ready with none."""
    status = status_of(plan_model(observe_tuned(tuned(aimId="other/family")), NOW))
    assert status["status"] == "Progressing"
    templates = condition(status, "ServiceTemplatesReady")
    assert (templates["reason"], templates["message"]) == (
        "CreatingTemplates",
        "No official template of aimId other/family to copy yet",
    )

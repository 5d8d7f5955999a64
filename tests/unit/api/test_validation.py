"""Admission rules beyond CEL, and derived defaults."""

from __future__ import annotations

from typing import Any

import pytest

from api.defaulting import apply_defaults
from api.validation import AdmissionInput, Verdict, validate

V1 = "aim.eai.amd.com/v1alpha1"
V2 = "aim.eai.amd.com/v1alpha2"


def service(name: str = "chat", api_version: str = V2, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": "AIMService",
        "metadata": {"name": name},
        "spec": {"model": {"name": "m"}, **spec},
    }


def check(obj: dict[str, Any], namespace: str = "ml-team", old: dict[str, Any] | None = None) -> Verdict:
    return validate(AdmissionInput(obj, old, "UPDATE" if old else "CREATE", namespace))


@pytest.mark.parametrize(
    ("obj", "namespace", "path", "message"),
    [
        (service(), "n" * 43, "metadata.namespace", "is too long (43 characters)"),
        (service(routing={"pathTemplate": "/{.metadata[}"}), "ml", "spec.routing.pathTemplate", "does not parse"),
        (service(routing={"pathTemplate": "/" + "x" * 250}), "ml", "spec.routing.pathTemplate", "at most 200"),
        (
            service(api_version=V1, routing={"routeTemplate": "/{name}"}),
            "ml",
            "spec.routing.routeTemplate",
            "is not a JSONPath",
        ),
        (
            {
                "apiVersion": V1,
                "kind": "AIMServiceTemplate",
                "metadata": {"name": "t"},
                "spec": {"modelName": "m", "customProfile": {"envVars": {"lower_case": "1"}}},
            },
            "ml",
            "spec.customProfile.envVars.lower_case",
            "must match ^[A-Z0-9_]+$",
        ),
        (
            {
                "apiVersion": V1,
                "kind": "AIMModel",
                "metadata": {"name": "m"},
                "spec": {"customTemplates": [{"customProfile": {"envVars": {"A-B": "1"}}}]},
            },
            "ml",
            "spec.customTemplates[0].customProfile.envVars.A-B",
            "must match",
        ),
        (
            service(api_version=V1, profile={"name": "p"}),
            "ml",
            "spec.profile",
            "cannot be newly set through aim.eai.amd.com/v1alpha1",
        ),
        (
            {
                "apiVersion": V2,
                "kind": "AIMClusterProfileSet",
                "metadata": {"name": "s"},
                "spec": {"selector": {"aimId": "a/b"}, "version": "1", "overrides": {"features": ["lora"]}},
            },
            "ml",
            "spec.overrides.features",
            "AIMProfile has no such field",
        ),
    ],
    ids=[
        "namespace-too-long",
        "route-syntax",
        "route-too-long",
        "route-not-jsonpath",
        "template-env-key",
        "custom-template-env-key",
        "profile-through-v1alpha1",
        "profile-set-override-aimprofile-lacks",
    ],
)
def test_denials_name_the_field(obj: dict[str, Any], namespace: str, path: str, message: str) -> None:
    verdict = check(obj, namespace)
    assert not verdict.allowed
    assert [e.path for e in verdict.errors] == [path]
    assert message in verdict.errors[0].message


@pytest.mark.parametrize(
    ("old_spec", "new_spec", "path", "change"),
    [
        ({}, {"template": {"name": "t"}}, "spec.template", "added"),
        ({"caching": {"mode": "Shared"}}, {}, "spec.caching", "removed"),
        ({}, {"profile": {"name": "p"}}, "spec.profile", "added"),
    ],
    ids=["template-added", "caching-removed", "profile-added"],
)
def test_fields_fixed_at_creation_cannot_appear_or_vanish(
    old_spec: dict[str, Any], new_spec: dict[str, Any], path: str, change: str
) -> None:
    verdict = check(service(**new_spec), old=service(**old_spec))
    assert [str(e) for e in verdict.errors] == [
        f"{path}: cannot be {change} after creation (create a new AIMService instead)"
    ]


def test_a_profile_set_naming_a_discovery_cache_source_is_only_warned() -> None:
    profile_set = {
        "apiVersion": V2,
        "kind": "AIMProfileSet",
        "metadata": {"name": "s"},
        "spec": {"sourceRef": {"name": "c"}},
    }
    verdict = check(profile_set)
    assert verdict.allowed
    assert [w.split(":")[0] for w in verdict.warnings] == ["spec.sourceRef"]


def test_long_service_name_in_an_ordinary_namespace_is_allowed() -> None:
    assert check(service(name="s" * 63), "ml-team").allowed


def test_missing_label_in_route_template_is_only_a_warning() -> None:
    verdict = check(service(routing={"pathTemplate": "/{.metadata.labels['team']}"}))
    assert verdict.allowed
    assert verdict.warnings == [
        "spec.routing.pathTemplate: {.metadata.labels['team']} matches nothing in this object; "
        "the service will not get an HTTPRoute until it renders"
    ]


@pytest.mark.parametrize("download_filter", [{}, {"include": ["*.json"]}], ids=["empty", "include"])
def test_download_filter_on_a_service_is_a_warning(download_filter: dict[str, Any]) -> None:
    verdict = check(service(storage={"downloadFilter": download_filter}))
    assert verdict.allowed
    assert [w.split(":")[0] for w in verdict.warnings] == ["spec.storage.downloadFilter has no effect on an AIMService"]


def cluster_config(**quota: str) -> dict[str, Any]:
    spec = {"artifactStorageQuota": quota}
    return {"apiVersion": V1, "kind": "AIMClusterRuntimeConfig", "metadata": {"name": "default"}, "spec": spec}


@pytest.mark.parametrize(
    ("quota", "error"),
    [
        pytest.param({"clusterLimit": "1Ti", "defaultNamespaceLimit": "100Gi"}, "", id="fits"),
        pytest.param({"clusterLimit": "1Ti", "defaultNamespaceLimit": "1Ti"}, "", id="equal"),
        pytest.param({"defaultNamespaceLimit": "100Ti"}, "", id="no-cluster-limit"),
        pytest.param(
            {"clusterLimit": "100Gi", "defaultNamespaceLimit": "200Gi"},
            "spec.artifactStorageQuota.defaultNamespaceLimit: 200Gi is more than clusterLimit 100Gi",
            id="namespace-above-cluster",
        ),
    ],
)
def test_storage_quota_that_cannot_be_met_is_refused(quota: dict[str, str], error: str) -> None:
    errors = [str(e) for e in check(cluster_config(**quota), namespace="").errors]
    assert len(errors) == (1 if error else 0)
    assert all(e.startswith(error) for e in errors)


def test_v1alpha1_spellings_get_a_translation_hint() -> None:
    verdict = check(service(api_version=V1, caching={"mode": "Never"}, routing={"routeTemplate": "/a"}))
    assert verdict.warnings == [
        "when moving this AIMService to aim.eai.amd.com/v1alpha2: spec.routing.routeTemplate is "
        "spec.routing.pathTemplate; caching modes Always/Auto are Shared and Never is Dedicated"
    ]


def test_references_are_listed_namespace_first() -> None:
    verdict = check(service(template={"name": "t"}, runtimeConfigName="team", profile=None))
    assert [(r.path, r.name, r.kinds) for r in verdict.references] == [
        ("spec.model.name", "m", ("AIMModel", "AIMClusterModel")),
        ("spec.template.name", "t", ("AIMServiceTemplate", "AIMClusterServiceTemplate")),
        ("spec.runtimeConfigName", "team", ("AIMRuntimeConfig", "AIMClusterRuntimeConfig")),
    ]


def test_default_runtime_config_is_never_a_missing_reference() -> None:
    assert check(service(runtimeConfigName="default")).references[1:] == []


def test_cluster_objects_only_reference_cluster_kinds() -> None:
    model = {
        "apiVersion": V2,
        "kind": "AIMClusterModel",
        "metadata": {"name": "m"},
        "spec": {"image": "i", "runtimeConfigName": "platform"},
    }
    verdict = validate(AdmissionInput(model, None, "CREATE", None))
    assert [r.kinds for r in verdict.references] == [("AIMClusterRuntimeConfig",)]


@pytest.mark.parametrize(
    ("obj", "expected_spec"),
    [
        (
            {"kind": "AIMArtifact", "spec": {"sourceUri": "hf://Qwen/Qwen3-32B@main"}},
            {"sourceUri": "hf://Qwen/Qwen3-32B@main", "modelId": "Qwen/Qwen3-32B"},
        ),
        (
            {"kind": "AIMArtifact", "spec": {"sourceUri": "s3://bucket/org/name"}},
            {"sourceUri": "s3://bucket/org/name", "modelId": "org/name"},
        ),
        ({"kind": "AIMArtifact", "spec": {"sourceUri": "s3://bucket/only"}}, {"sourceUri": "s3://bucket/only"}),
        (
            {"kind": "AIMModel", "spec": {"modelSources": [{"modelId": "a/b"}]}},
            {"modelSources": [{"modelId": "a/b"}], "custom": {"type": "unoptimized"}},
        ),
        (
            {"kind": "AIMModel", "spec": {"aimId": "x/y", "modelSources": [{"modelId": "a/b"}]}},
            {"aimId": "x/y", "modelSources": [{"modelId": "a/b"}]},
        ),
        (
            {"kind": "AIMProfile", "spec": {"acceleratorModel": "MI300X"}},
            {"acceleratorModel": "MI300X", "acceleratorType": "gpu"},
        ),
        ({"kind": "AIMService", "spec": {"model": {"name": "m"}}}, {"model": {"name": "m"}}),
    ],
    ids=[
        "hf-model-id",
        "s3-model-id",
        "s3-no-model-id",
        "custom-type",
        "fine-tuned-untouched",
        "accelerator-type",
        "service-untouched",
    ],
)
def test_derived_defaults_and_their_idempotence(obj: dict[str, Any], expected_spec: dict[str, Any]) -> None:
    once = apply_defaults(obj)
    assert once["spec"] == expected_spec
    assert apply_defaults(once) == once


@pytest.mark.parametrize(
    ("obj", "path"),
    [
        pytest.param(service(kvCache={"name": "1cache"}), "spec.kvCache.name", id="service-digit-first"),
        pytest.param(service(kvCache={"name": "team.kv"}), "spec.kvCache.name", id="service-dot"),
        pytest.param(service(kvCache={"name": "k" * 64}), "spec.kvCache.name", id="service-too-long"),
        pytest.param(
            {"apiVersion": V1, "kind": "AIMKVCache", "metadata": {"name": "9kv"}, "spec": {"kvCacheType": "redis"}},
            "metadata.name",
            id="cache-digit-first",
        ),
    ],
)
def test_a_kv_cache_name_its_service_could_not_carry_is_refused(obj: dict[str, Any], path: str) -> None:
    [error] = check(obj).errors
    assert str(error).startswith(f"{path}: ")
    assert "starting with a letter" in str(error)


@pytest.mark.parametrize("kv", [{}, {"name": "team-kv"}, {"name": "kv1"}])
def test_usable_kv_cache_names_pass(kv: dict[str, Any]) -> None:
    assert check(service(kvCache=kv)).errors == []

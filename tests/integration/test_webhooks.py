"""The admission and conversion webhooks, registered on the real API server, seen through kubectl."""

from __future__ import annotations

import json
from typing import Any

from api.naming import inference_service_name
from tests.conftest import Kubectl

V1 = "aim.eai.amd.com/v1alpha1"
V2 = "aim.eai.amd.com/v1alpha2"


def service(name: str, api_version: str = V2, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": "AIMService",
        "metadata": {"name": name},
        "spec": {"model": {"name": "qwen"}, **spec},
    }


def test_invalid_object_is_denied_naming_the_field(kubectl: Kubectl) -> None:
    result = kubectl.apply(
        {
            "apiVersion": V1,
            "kind": "AIMServiceTemplate",
            "metadata": {"name": "t"},
            "spec": {
                "modelName": "m",
                "aimId": "a/b",
                "modelId": "a/b",
                "metric": "latency",
                "precision": "fp16",
                "hardware": {"gpu": {"requests": 1}},
                "customProfile": {"envVars": {"tunable-op": "1"}},
            },
        },
        check=False,
    )
    assert result.returncode != 0
    assert (
        'admission webhook "validate.aim.eai.amd.com" denied the request: spec.customProfile.envVars.tunable-op: '
        "environment variable names must match ^[A-Z0-9_]+$ (use TUNABLE_OP)"
    ) in result.stderr


def test_namespace_too_long_for_kserve_is_denied_with_the_explanation(kubectl: Kubectl) -> None:
    long_namespace = "n" * 43
    kubectl.plane.kubectl("create", "namespace", long_namespace)
    try:
        result = Kubectl(kubectl.plane, long_namespace).apply(service("chat"), check=False)
        assert result.returncode != 0
        assert (
            f'metadata.namespace: namespace "{long_namespace}" is too long (43 characters): KServe names the '
            "predictor {name}-predictor-{namespace}, which must fit 63 characters; use a namespace of at most "
            "42 characters"
        ) in result.stderr
    finally:
        kubectl.plane.kubectl("delete", "namespace", long_namespace, "--wait=false")


def test_long_service_name_is_admitted_and_its_derived_names_fit(kubectl: Kubectl) -> None:
    name = "a-very-long-service-name-that-alone-takes-up-most-of-the-63-chars"[:63]
    kubectl.apply(service(name))
    namespace = kubectl.namespace or ""
    isvc = inference_service_name(name, namespace)
    assert len(f"{isvc}-predictor-{namespace}") <= 63
    assert isvc != name
    assert isvc.startswith(name[:10])


def test_missing_references_are_admitted_with_warnings(kubectl: Kubectl) -> None:
    result = kubectl.apply(service("refs", template={"name": "nope"}, runtimeConfigName="team"))
    assert "created" in result.stdout
    assert (
        "Warning: spec.model.name: no AIMModel or AIMClusterModel named 'qwen' exists yet; "
        "the object waits until it does"
    ) in result.stderr
    assert (
        "Warning: spec.template.name: no AIMServiceTemplate or AIMClusterServiceTemplate named 'nope'" in result.stderr
    )
    assert (
        "Warning: spec.runtimeConfigName: no AIMRuntimeConfig or AIMClusterRuntimeConfig named 'team'" in result.stderr
    )


def test_existing_references_raise_no_warning(kubectl: Kubectl) -> None:
    kubectl.apply({"apiVersion": V2, "kind": "AIMModel", "metadata": {"name": "qwen"}, "spec": {"image": "i:1"}})
    result = kubectl.apply(service("refs-ok"))
    assert "Warning" not in result.stderr


def test_derived_defaults_are_applied_and_reapplying_changes_nothing(kubectl: Kubectl) -> None:
    artifact = {
        "apiVersion": V1,
        "kind": "AIMArtifact",
        "metadata": {"name": "weights"},
        "spec": {"sourceUri": "hf://Qwen/Qwen3-32B"},
    }
    kubectl.apply(artifact)
    stored = kubectl.get_json("aimart", "weights")
    assert stored["spec"]["modelId"] == "Qwen/Qwen3-32B"
    generation = stored["metadata"]["generation"]
    assert "unchanged" in kubectl.apply(artifact).stdout
    assert kubectl.get_json("aimart", "weights")["metadata"]["generation"] == generation


def test_fields_fixed_at_creation_cannot_be_added_later(kubectl: Kubectl) -> None:
    kubectl.apply(service("fixed"))
    result = kubectl.apply(service("fixed", template={"name": "t"}), check=False)
    assert "spec.template: cannot be added after creation (create a new AIMService instead)" in result.stderr


def test_route_templates_are_checked_for_this_object(kubectl: Kubectl) -> None:
    bad = kubectl.apply(service("r1", routing={"pathTemplate": "/{.metadata[}"}), check=False)
    assert "spec.routing.pathTemplate: {.metadata[} does not parse" in bad.stderr
    long = kubectl.apply(service("r2", routing={"pathTemplate": "/{.metadata.name}/" + "x" * 200}), check=False)
    assert "characters; at most 200" in long.stderr
    missing = kubectl.apply(service("r3", routing={"pathTemplate": "/{.metadata.labels['team']}"}))
    assert "Warning: spec.routing.pathTemplate: {.metadata.labels['team']} matches nothing" in missing.stderr


def test_object_written_through_v1alpha1_reads_back_through_both_versions(kubectl: Kubectl) -> None:
    legacy = service(
        "legacy",
        V1,
        caching={"mode": "Never"},
        cacheModel=True,
        overrides={"precision": "auto", "hardware": {"gpu": {"model": "MI300X", "requests": 1}}},
        routing={"routeTemplate": "/{.metadata.namespace}/chat"},
    )
    applied = kubectl.apply(legacy)
    assert "Warning: when moving this AIMService to aim.eai.amd.com/v1alpha2" in applied.stderr

    hub = kubectl.get_json("aimservices.v1alpha2.aim.eai.amd.com", "legacy")
    assert hub["spec"]["caching"] == {"mode": "Dedicated"}
    assert "cacheModel" not in hub["spec"]
    assert hub["spec"]["overrides"] == {
        "hardware": {"gpu": {"models": ["MI300X"], "requests": 1, "resourceName": "amd.com/gpu"}}
    }
    assert hub["spec"]["routing"] == {"pathTemplate": "/{.metadata.namespace}/chat"}

    spoke = kubectl.get_json("aimservices.v1alpha1.aim.eai.amd.com", "legacy")
    expected = json.loads(json.dumps(legacy["spec"]))
    expected["overrides"]["hardware"]["gpu"]["resourceName"] = "amd.com/gpu"  # schema default
    expected["replicas"] = 1  # schema default
    expected["adapterMode"] = "static"  # schema default
    assert spoke["spec"] == expected
    assert "conversion.aim.eai.amd.com/preserved" not in spoke["metadata"].get("annotations", {})

"""The AIMService controller against the real API server: resolution, template auto-selection by
the cluster's GPUs, the KServe InferenceService and Gateway API HTTPRoute it applies, and status.

No KServe or Gateway controller runs: the tests set their status as those would. Model and
template status is set the same way, standing in for the catalog controllers (issue 6).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from devcluster.waiting import wait_until
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl

pytestmark = pytest.mark.usefixtures("controller")
V1 = "aim.eai.amd.com/v1alpha1"
V2 = "aim.eai.amd.com/v1alpha2"


def set_status(kubectl: Kubectl, resource: str, name: str, status: dict[str, Any], namespaced: bool = True) -> None:
    args = ["patch", resource, name, "--subresource=status", "--type=merge", "-p", json.dumps({"status": status})]
    if not namespaced:
        Kubectl(kubectl.plane)(*args)
    else:
        kubectl(*args)


METADATA = {"model": {"canonicalName": "Qwen/Qwen3-32B"}}
"""Image metadata given in the spec: the model controller takes it instead of asking a registry,
and with no recommended deployments expects no templates of its own, so the model is Ready."""


def ready_model(kubectl: Kubectl, name: str, image: str = "registry.local/amdenterpriseai/aim-qwen:0.8.5") -> None:
    spec = {"image": image, "imageMetadata": METADATA}
    kubectl.apply({"apiVersion": V2, "kind": "AIMModel", "metadata": {"name": name}, "spec": spec})


def ready_template(
    kubectl: Kubectl,
    name: str,
    model: str,
    gpu: str,
    metric: str = "latency",
    precision: str = "fp8",
    kind: str = "optimized",
) -> None:
    kubectl.apply(
        {
            "apiVersion": V1,
            "kind": "AIMServiceTemplate",
            "metadata": {"name": name},
            "spec": {
                "modelName": model,
                "metric": metric,
                "precision": precision,
                "hardware": {"gpu": {"requests": 2, "models": [gpu]}},
                "type": kind,
                "env": [{"name": "AIM_ENGINE_ARGS", "value": '{"max-model-len": 8192, "swap-space": 4}'}],
                "modelSources": [{"modelId": "Qwen/Qwen3-32B", "sourceUri": "hf://Qwen/Qwen3-32B", "size": "1Gi"}],
            },
        }
    )


def service(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": V2, "kind": "AIMService", "metadata": {"name": name}, "spec": spec}


def wait_service(kubectl: Kubectl, name: str, predicate: Any, what: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def check() -> bool:
        seen.clear()
        seen.update(kubectl.get_json("aimservices.aim.eai.amd.com", name))
        return bool(predicate(seen.get("status") or {}))

    try:
        wait_until(check, 30, what)
    except TimeoutError as error:
        raise AssertionError(f"{error}; last status: {json.dumps(seen.get('status'), indent=1)}") from error
    return seen


def deployed(status: dict[str, Any]) -> bool:
    """Starting with its InferenceService created: every dependency and the model cache are Ready
    (a service is Starting while its model downloads too)."""
    return bool(status.get("status") == "Starting" and condition(status, "CacheReady").get("status") == "True")


def test_auto_selected_template_becomes_an_inference_service_and_route(kubectl: Kubectl) -> None:
    ready_model(kubectl, "qwen")
    ready_template(kubectl, "qwen-mi300x", "qwen", "MI300X")
    ready_template(kubectl, "qwen-mi355x", "qwen", "MI355X")  # better ranked, but no such GPU on the nodes
    kubectl.apply(
        service(
            "chat",
            model={"name": "qwen"},
            env=[{"name": "AIM_ENGINE_ARGS", "value": '{"max-model-len": 16384}'}, {"name": "EXTRA", "value": "1"}],
            routing={
                "enabled": True,
                "gatewayRef": {"name": "inference", "namespace": "gateways"},
                "pathTemplate": "/{.metadata.namespace}/{.metadata.name}",
            },
        )
    )
    status = wait_service(kubectl, "chat", deployed, "the service to be Starting")
    assert status["status"]["resolvedTemplate"]["name"] == "qwen-mi300x"
    assert "selected namespace/qwen-mi300x" in condition(status["status"], "TemplateReady")["message"]

    isvcs = kubectl.get_json("inferenceservices.serving.kserve.io")["items"]
    assert len(isvcs) == 1
    isvc = isvcs[0]
    assert isvc["metadata"]["name"].startswith("chat-")
    assert isvc["metadata"]["ownerReferences"][0]["kind"] == "AIMService"
    predictor = isvc["spec"]["predictor"]
    container = predictor["containers"][0]
    assert container["image"] == "registry.local/amdenterpriseai/aim-qwen:0.8.5"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert json.loads(env["AIM_ENGINE_ARGS"]) == {"max-model-len": 16384, "swap-space": 4}  # deep-merged
    assert env["AIM_MODEL_ID"] == "Qwen/Qwen3-32B"
    assert env["AIM_METRIC"] == "latency"
    assert env["EXTRA"] == "1"
    assert env["AIM_CACHE_PATH"] == "/workspace/cache"
    assert container["resources"]["requests"]["amd.com/gpu"] == "2"
    assert container["resources"]["requests"]["cpu"] == "8"
    terms = predictor["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert "74a1" in terms[0]["matchExpressions"][0]["values"]
    assert predictor["minReplicas"] == predictor["maxReplicas"] == 1

    route = kubectl.get_json("httproutes.gateway.networking.k8s.io")["items"][0]
    namespace = kubectl.namespace
    assert route["spec"]["rules"][0]["matches"][0]["path"]["value"] == f"/{namespace}/chat"
    assert route["spec"]["rules"][0]["backendRefs"][0]["name"] == f"{isvc['metadata']['name']}-predictor"

    # KServe and the gateway report in: the service runs.
    set_status(
        kubectl,
        "inferenceservices.serving.kserve.io",
        isvc["metadata"]["name"],
        {"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]},
    )
    set_status(
        kubectl,
        "httproutes.gateway.networking.k8s.io",
        route["metadata"]["name"],
        {
            "parents": [
                {
                    "parentRef": {"name": "inference", "namespace": "gateways"},
                    "controllerName": "example.com/gateway",
                    "conditions": [
                        {
                            "type": "Accepted",
                            "status": "True",
                            "reason": "Accepted",
                            "message": "",
                            "lastTransitionTime": "2026-01-01T00:00:00Z",
                        }
                    ],
                }
            ]
        },
    )
    status = wait_service(kubectl, "chat", lambda s: s.get("status") == "Running", "the service to be Running")
    ready = condition(status["status"], "Ready")
    assert ready["status"] == "True"
    assert ready["observedGeneration"] == status["metadata"]["generation"]
    assert condition(status["status"], "HTTPRouteReady")["reason"] == "HTTPRouteAccepted"
    assert status["status"]["routing"]["path"] == f"/{namespace}/chat"
    table = kubectl("get", "aimsvc", "chat").stdout
    assert "Running" in table
    events = kubectl("get", "events", "--field-selector", "involvedObject.name=chat", "-o", "json").stdout
    assert "ServiceRunning" in events


def test_missing_named_runtime_config_fails_the_service(kubectl: Kubectl) -> None:
    ready_model(kubectl, "m")
    kubectl.apply(service("svc", model={"name": "m"}, runtimeConfigName="tuned"))
    status = wait_service(kubectl, "svc", lambda s: s.get("status") == "Failed", "the service to fail")
    config = condition(status["status"], "RuntimeConfigReady")
    assert config["reason"] == "ConfigNotFound"
    assert "tuned" in config["message"]
    assert condition(status["status"], "ConfigValid")["status"] == "False"
    assert kubectl.get_json("inferenceservices.serving.kserve.io")["items"] == []


def test_a_service_resolves_a_cluster_model_and_a_cluster_template(kubectl: Kubectl) -> None:
    """Upstream's aimservice/frozen/cluster-model-ready: Starting, ModelReady and TemplateReady
    True, `resolvedTemplate` with the Cluster scope."""
    cluster = Kubectl(kubectl.plane)
    suffix = kubectl.namespace  # cluster objects outlive the test's namespace: unique names
    model_name, template_name = f"cm-{suffix}", f"ct-{suffix}"
    spec = {"image": "registry.local/amdenterpriseai/aim-qwen:0.8.5", "imageMetadata": METADATA}
    template_spec = {
        "modelName": model_name,
        "metric": "latency",
        "precision": "fp8",
        "hardware": {"gpu": {"requests": 1, "models": ["MI300X"]}},
        "type": "optimized",
        "modelSources": [{"modelId": "Qwen/Qwen3-32B", "sourceUri": "hf://Qwen/Qwen3-32B", "size": "1Gi"}],
    }
    try:
        cluster.apply({"apiVersion": V2, "kind": "AIMClusterModel", "metadata": {"name": model_name}, "spec": spec})
        cluster.apply(
            {
                "apiVersion": V1,
                "kind": "AIMClusterServiceTemplate",
                "metadata": {"name": template_name},
                "spec": template_spec,
            }
        )
        kubectl.apply(service("svc", model={"name": model_name}, template={"name": template_name}))
        status = wait_service(kubectl, "svc", deployed, "the service to deploy")["status"]
        assert condition(status, "ModelReady")["status"] == "True"
        assert condition(status, "TemplateReady")["status"] == "True"
        assert status["resolvedTemplate"]["name"] == template_name
        assert status["resolvedTemplate"]["scope"] == "Cluster"
    finally:
        cluster("delete", "aimclusterservicetemplates.aim.eai.amd.com", template_name, "--ignore-not-found")
        cluster("delete", "aimclustermodels.aim.eai.amd.com", model_name, "--ignore-not-found")


def test_equally_good_templates_are_ambiguous_and_named_in_the_message(kubectl: Kubectl) -> None:
    ready_model(kubectl, "m")
    ready_template(kubectl, "first", "m", "MI300X")
    ready_template(kubectl, "second", "m", "MI300X")
    kubectl.apply(service("svc", model={"name": "m"}))
    status = wait_service(kubectl, "svc", lambda s: s.get("status") == "Failed", "the service to fail")
    template = condition(status["status"], "TemplateReady")
    assert template["reason"] == "TemplateSelectionAmbiguous"
    assert "namespace/first" in template["message"]
    assert "namespace/second" in template["message"]


def test_unoptimized_templates_need_allow_unoptimized(kubectl: Kubectl) -> None:
    ready_model(kubectl, "m")
    ready_template(kubectl, "preview", "m", "MI300X", kind="preview")
    kubectl.apply(service("svc", model={"name": "m"}))
    status = wait_service(kubectl, "svc", lambda s: s.get("status") == "Pending", "the service to wait")
    assert "allowUnoptimized" in condition(status["status"], "TemplateReady")["message"]
    kubectl.apply(service("other", model={"name": "m"}, template={"allowUnoptimized": True}))
    wait_service(kubectl, "other", deployed, "the allowing service to start")


def test_route_template_that_renders_nothing_degrades_but_keeps_serving(kubectl: Kubectl) -> None:
    ready_model(kubectl, "m")
    ready_template(kubectl, "t", "m", "MI300X")
    kubectl.apply(
        service(
            "svc",
            model={"name": "m"},
            template={"name": "t"},
            routing={
                "enabled": True,
                "gatewayRef": {"name": "gw"},
                "pathTemplate": "/{.metadata.labels['team']}/{.metadata.name}",
            },
        )
    )
    status = wait_service(
        kubectl,
        "svc",
        lambda s: s.get("status") == "Degraded" and condition(s, "CacheReady").get("status") == "True",
        "the service to degrade once its cache is ready",
    )
    assert condition(status["status"], "HTTPRouteReady")["reason"] == "RouteTemplateInvalid"
    assert len(kubectl.get_json("inferenceservices.serving.kserve.io")["items"]) == 1
    assert kubectl.get_json("httproutes.gateway.networking.k8s.io")["items"] == []
    # The label arrives: the route appears.
    kubectl("label", "aimservice", "svc", "team=search")
    wait_until(lambda: len(kubectl.get_json("httproutes.gateway.networking.k8s.io")["items"]) == 1, 30, "the route")


def test_overrides_on_a_named_template_create_a_derived_template(kubectl: Kubectl) -> None:
    ready_model(kubectl, "m")
    ready_template(kubectl, "base", "m", "MI300X")
    kubectl.apply(service("svc", model={"name": "m"}, template={"name": "base"}, overrides={"metric": "throughput"}))
    wait_until(
        lambda: len(kubectl.get_json("aimservicetemplates.aim.eai.amd.com")["items"]) == 2, 30, "a derived template"
    )
    derived = next(
        t for t in kubectl.get_json("aimservicetemplates.aim.eai.amd.com")["items"] if t["metadata"]["name"] != "base"
    )
    assert derived["metadata"]["labels"]["aim.eai.amd.com/origin"] == "derived"
    assert derived["spec"]["metric"] == "throughput"
    assert derived["metadata"]["ownerReferences"][0]["name"] == "svc"
    # The template controller makes the derived template Ready (its sources are inline, copied from
    # the base), then the service deploys from it.
    status = wait_service(kubectl, "svc", deployed, "the service to start")
    assert status["status"]["resolvedTemplate"]["name"] == derived["metadata"]["name"]
    isvc = kubectl.get_json("inferenceservices.serving.kserve.io")["items"][0]
    env = {e["name"]: e.get("value") for e in isvc["spec"]["predictor"]["containers"][0]["env"]}
    assert env["AIM_METRIC"] == "throughput"

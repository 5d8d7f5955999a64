"""More AIMService scenarios against the real API server: models by image, shadowing, runtime
config merge, replicas, label propagation, default route path, deletion."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from devcluster.waiting import wait_until
from tests.builders import condition_or_empty as condition
from tests.conftest import REPO_ROOT, Kubectl
from tests.integration.test_service_controller import (
    METADATA,
    V1,
    V2,
    deployed,
    ready_model,
    ready_template,
    service,
    wait_service,
)
from tests.registry import Crane

pytestmark = pytest.mark.usefixtures("controller")


def isvcs(kubectl: Kubectl) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = kubectl.get_json("inferenceservices.serving.kserve.io")["items"]
    return items


def container_env(isvc: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in isvc["spec"]["predictor"]["containers"][0]["env"]}


def test_model_by_image_is_created_once_for_all_services_using_it(kubectl: Kubectl, crane: Crane) -> None:
    image = crane.ref("amdenterpriseai/aim-llama", "1.2.0")
    crane.push_image("amdenterpriseai/aim-llama", "1.2.0")  # a real image without AIM labels
    kubectl.apply(service("one", model={"image": image}))
    kubectl.apply(service("two", model={"image": image}))
    wait_until(lambda: len(kubectl.get_json("aimmodels.aim.eai.amd.com")["items"]) == 1, 30, "one auto-created model")
    [model] = kubectl.get_json("aimmodels.aim.eai.amd.com")["items"]
    assert model["spec"]["image"] == image
    assert model["metadata"]["labels"]["aim.eai.amd.com/origin"] == "auto-generated"
    assert "ownerReferences" not in model["metadata"]  # shared: outlives any one service
    # The model controller read the image from the registry: reachable, no AIM labels, no templates.
    ready = wait_until(
        lambda: (
            (m := kubectl.get_json("aimmodels.aim.eai.amd.com", model["metadata"]["name"]))["status"]["status"]
            == "Ready"
            and m
        ),
        30,
        "the model to be Ready",
    )
    assert condition(ready["status"], "ImageMetadataReady")["reason"] == "ImageFound"
    status = wait_service(kubectl, "one", lambda s: s.get("status") == "Pending", "the first service to wait")
    assert condition(status["status"], "TemplateReady")["status"] == "False"
    ready_template(kubectl, "llama", model["metadata"]["name"], "MI300X")
    wait_until(lambda: len(isvcs(kubectl)) == 2, 60, "both services deployed")
    assert {i["spec"]["predictor"]["containers"][0]["image"] for i in isvcs(kubectl)} == {image}


def test_model_not_found(kubectl: Kubectl) -> None:
    kubectl.apply(service("svc", model={"name": "absent"}), check=True)
    status = wait_service(kubectl, "svc", lambda s: s.get("status") == "Failed", "the service to fail")
    assert condition(status["status"], "ModelReady")["reason"] == "ModelNotFound"
    assert "absent" in condition(status["status"], "ModelReady")["message"]


def test_namespace_model_shadows_cluster_model(kubectl: Kubectl) -> None:
    name = f"shadow-{uuid.uuid4().hex[:6]}"
    cluster = Kubectl(kubectl.plane)
    cluster_spec = {"image": "cluster/img:1", "imageMetadata": METADATA}
    cluster.apply({"apiVersion": V2, "kind": "AIMClusterModel", "metadata": {"name": name}, "spec": cluster_spec})
    try:
        ready_model(kubectl, name, image="namespace/img:1")
        ready_template(kubectl, "t", name, "MI300X")
        kubectl.apply(service("svc", model={"name": name}))
        status = wait_service(kubectl, "svc", deployed, "the service to start")
        assert status["status"]["resolvedModel"]["scope"] == "Namespace"
        assert isvcs(kubectl)[0]["spec"]["predictor"]["containers"][0]["image"] == "namespace/img:1"
    finally:
        cluster("delete", "aimclustermodel", name, "--wait=false")


def test_runtime_config_merge_namespace_wins_per_field(kubectl: Kubectl) -> None:
    name = f"merge-{uuid.uuid4().hex[:6]}"
    cluster = Kubectl(kubectl.plane)
    cluster.apply(
        {
            "apiVersion": V1,
            "kind": "AIMClusterRuntimeConfig",
            "metadata": {"name": name},
            "spec": {"env": [{"name": "SOURCE", "value": "cluster"}, {"name": "CLUSTER_ONLY", "value": "1"}]},
        }
    )
    try:
        kubectl.apply(
            {
                "apiVersion": V1,
                "kind": "AIMRuntimeConfig",
                "metadata": {"name": name},
                "spec": {
                    "env": [{"name": "SOURCE", "value": "namespace"}],
                    "labelPropagation": {"enabled": True, "match": ["team*"]},
                },
            }
        )
        ready_model(kubectl, "m")
        ready_template(kubectl, "t", "m", "MI300X")
        svc = service(
            "svc", model={"name": "m"}, runtimeConfigName=name, env=[{"name": "CLUSTER_ONLY", "value": "svc"}]
        )
        svc["metadata"]["labels"] = {"team": "search", "cost-centre": "42", "aim.eai.amd.com/tier": "gold"}
        kubectl.apply(svc)
        status = wait_service(kubectl, "svc", deployed, "the service to start")
        assert status["status"]["resolvedRuntimeConfig"] == {"name": name, "scope": "Merged"}
        [isvc] = isvcs(kubectl)
        env = container_env(isvc)
        assert (env["SOURCE"], env["CLUSTER_ONLY"]) == ("namespace", "svc")  # namespace > cluster; service > all
        labels = isvc["metadata"]["labels"]
        assert labels["team"] == "search"
        assert labels["aim.eai.amd.com/tier"] == "gold"
        assert "cost-centre" not in labels
    finally:
        cluster("delete", "aimclusterruntimeconfig", name, "--wait=false")


def test_replicas_default_and_update_and_resources_precedence(kubectl: Kubectl) -> None:
    ready_model(kubectl, "m")
    ready_template(kubectl, "t", "m", "MI300X")
    kubectl.apply(service("svc", model={"name": "m"}, template={"name": "t"}))
    wait_until(lambda: len(isvcs(kubectl)) == 1, 30, "the InferenceService")
    predictor = isvcs(kubectl)[0]["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (1, 1)
    assert predictor["containers"][0]["resources"]["requests"]["memory"] == "64Gi"  # 2 GPUs x 32Gi default
    kubectl.apply(
        service(
            "svc", model={"name": "m"}, template={"name": "t"}, replicas=3, resources={"requests": {"memory": "100Gi"}}
        )
    )

    def updated() -> bool:
        predictor = isvcs(kubectl)[0]["spec"]["predictor"]
        return bool(
            predictor["minReplicas"] == 3 and predictor["containers"][0]["resources"]["requests"]["memory"] == "100Gi"
        )

    wait_until(updated, 30, "replicas and memory to follow the service")
    assert kubectl.get_json("aimservices.aim.eai.amd.com", "svc")["status"]["runtime"]["replicas"] == "3"


def test_default_route_path_and_deletion_removes_owned_objects(kubectl: Kubectl) -> None:
    ready_model(kubectl, "m")
    ready_template(kubectl, "t", "m", "MI300X")
    kubectl.apply(service("svc", model={"name": "m"}, routing={"enabled": True, "gatewayRef": {"name": "gw"}}))
    wait_until(lambda: len(kubectl.get_json("httproutes.gateway.networking.k8s.io")["items"]) == 1, 30, "the route")
    uid = kubectl.get_json("aimservices.aim.eai.amd.com", "svc")["metadata"]["uid"]
    route = kubectl.get_json("httproutes.gateway.networking.k8s.io")["items"][0]
    assert route["spec"]["rules"][0]["matches"][0]["path"]["value"] == f"/{kubectl.namespace}/{uid}"
    kubectl("delete", "aimservice", "svc")
    wait_until(
        lambda: not isvcs(kubectl) and not kubectl.get_json("httproutes.gateway.networking.k8s.io")["items"],
        60,
        "garbage collection of the InferenceService and HTTPRoute",
    )
    assert len(kubectl.get_json("aimmodels.aim.eai.amd.com")["items"]) == 1  # the model is not the service's


def test_identical_inline_custom_models_become_one_model(kubectl: Kubectl, crane: Crane) -> None:
    crane.push_image("amdenterpriseai/aim-base", "latest")  # the base image exists; no AIM labels
    base = crane.ref("amdenterpriseai/aim-base", "latest")
    custom = {
        "baseImage": base,
        "modelSources": [{"modelId": "org/tuned-7b", "sourceUri": "hf://org/tuned-7b", "size": "1Gi"}],
        "hardware": {"gpu": {"requests": 1, "models": ["MI300X"]}},
    }
    kubectl.apply(service("first", model={"custom": custom}))
    kubectl.apply(service("second", model={"custom": custom}, template={"allowUnoptimized": True}))
    wait_until(lambda: kubectl.get_json("aimmodels.aim.eai.amd.com")["items"], 30, "the custom model")
    [model] = kubectl.get_json("aimmodels.aim.eai.amd.com")["items"]
    assert model["metadata"]["labels"]["aim.eai.amd.com/custom-model"] == "true"
    assert model["spec"]["image"] == base
    assert model["spec"]["modelSources"][0]["modelId"] == "org/tuned-7b"
    # The model controller generated one unoptimized template from the spec; only the service that
    # allows unoptimized templates may pick it.
    ready = wait_until(
        lambda: (
            (m := kubectl.get_json("aimmodels.aim.eai.amd.com", model["metadata"]["name"]))["status"]["status"]
            == "Ready"
            and m
        ),
        30,
        "the custom model to be Ready",
    )
    assert ready["status"]["sourceType"] == "Custom"
    assert condition(ready["status"], "ImageMetadataReady")["reason"] == "ImageFound"
    [template] = kubectl.get_json("aimservicetemplates.aim.eai.amd.com")["items"]
    assert template["spec"]["type"] == "unoptimized"
    assert template["spec"]["modelSources"] == custom["modelSources"]
    assert template["metadata"]["ownerReferences"][0]["uid"] == model["metadata"]["uid"]
    wait_service(kubectl, "second", deployed, "the allowing service to start")
    first = wait_service(
        kubectl, "first", lambda s: "allowUnoptimized" in condition(s, "TemplateReady").get("message", ""), "refusal"
    )
    assert first["status"]["status"] == "Pending"


def test_the_readme_quickstart_reaches_an_inference_service_with_kubectl(kubectl: Kubectl) -> None:
    """The README's quickstart as a user runs it: nothing is marked Ready by hand."""
    kubectl("apply", "-f", str(REPO_ROOT / "examples" / "quickstart" / "service.yaml"))
    status = wait_service(kubectl, "chat", deployed, "the quickstart service to deploy")
    assert status["status"]["resolvedTemplate"]["name"] == "qwen-mi300x-latency"
    printed = kubectl("get", "aimsvc", "chat").stdout
    assert "Starting" in printed
    [isvc] = isvcs(kubectl)
    assert isvc["spec"]["predictor"]["containers"][0]["image"] == "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"
    assert kubectl("get", "aimart").stdout.count("Ready") == 1

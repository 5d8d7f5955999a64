"""Autoscaling against the real API server with KEDA's own CRDs (from KEDA's Go module): the
ScaledObject an autoscaled service owns, accepted by KEDA's schema; the HPA KEDA would make,
reported through by the real HPA controller of kube-controller-manager; bounds that change;
autoscaling turned off; bounds without a metric.

KEDA itself does not run here (its operator runs as pods: tests/realnode/test_autoscaling.py scales
a real predictor with it); the HPA this module creates stands in for the one KEDA makes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from devcluster import keda
from devcluster.binaries import go_module_dir
from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl
from tests.integration.test_service_controller import ready_model, ready_template, service, wait_service

SCALED_OBJECTS = "scaledobjects.keda.sh"
ACTIVATOR = "http://aim-activator.aim-system.svc.cluster.local:8080"
RUNNING_METRIC = {
    "type": "PodMetric",
    "podmetric": {
        "metric": {"backend": "metrics-api", "metricNames": ["vllm:num_requests_running"]},
        "target": {"type": "Value", "value": "2"},
    },
}


@pytest.fixture(scope="module", autouse=True)
def controller(control_plane: ControlPlane) -> Iterator[None]:
    """KEDA's CRDs, then the controller (which serves the keda.sh kinds it finds at start)."""
    control_plane.apply_manifests(keda.crd_files(go_module_dir(keda.MODULE)), server_side=True)
    control_plane.wait_crds_established()
    process = control_plane.start_controller(env={"AIM_CONTROLLER_ACTIVATOR_URL": ACTIVATOR})
    yield
    process.stop()


def scaled_objects(kubectl: Kubectl) -> list[dict[str, Any]]:
    return list(kubectl.get_json(SCALED_OBJECTS)["items"])


def inference_service(kubectl: Kubectl) -> dict[str, Any]:
    [isvc] = kubectl.get_json("inferenceservices.serving.kserve.io")["items"]
    return dict(isvc)


def keda_hpa(scaled_object: dict[str, Any]) -> dict[str, Any]:
    """The HPA KEDA makes for a ScaledObject: its name, the ScaledObject's labels, its bounds."""
    name = scaled_object["metadata"]["name"]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": f"keda-hpa-{name}",
            "labels": scaled_object["metadata"]["labels"] | {"scaledobject.keda.sh/name": name},
        },
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": scaled_object["spec"]["minReplicaCount"] or 1,
            "maxReplicas": scaled_object["spec"]["maxReplicaCount"],
            "metrics": [
                {
                    "type": "External",
                    "external": {
                        "metric": {"name": "s0-metric-api-vllm-num_requests_running"},
                        "target": {"type": "Value", "value": "2"},
                    },
                }
            ],
        },
    }


def test_an_autoscaled_service_owns_a_scaled_object_and_reports_the_hpa(kubectl: Kubectl) -> None:
    ready_model(kubectl, "qwen")
    ready_template(kubectl, "qwen-mi300x", "qwen", "MI300X")
    autoscaling = {"metrics": [RUNNING_METRIC], "pollingInterval": 5, "cooldownPeriod": 30}
    kubectl.apply(service("chat", model={"name": "qwen"}, minReplicas=1, maxReplicas=3, autoScaling=autoscaling))
    wait_until(lambda: len(scaled_objects(kubectl)) == 1, 30, "the service's ScaledObject")
    [scaled_object] = scaled_objects(kubectl)
    isvc = inference_service(kubectl)
    isvc_name = isvc["metadata"]["name"]
    assert isvc["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "external"
    assert (isvc["spec"]["predictor"]["minReplicas"], isvc["spec"]["predictor"]["maxReplicas"]) == (1, 3)
    assert scaled_object["metadata"]["name"] == f"{isvc_name}-predictor"
    assert scaled_object["metadata"]["ownerReferences"][0]["kind"] == "AIMService"
    assert scaled_object["metadata"]["labels"]["aim.eai.amd.com/service.name"] == "chat"
    spec = scaled_object["spec"]
    assert (spec["minReplicaCount"], spec["maxReplicaCount"], spec["pollingInterval"], spec["cooldownPeriod"]) == (
        1,
        3,
        5,
        30,
    )
    assert spec["triggers"][0]["type"] == "metrics-api"
    assert spec["triggers"][0]["metadata"]["url"].startswith(f"http://{isvc_name}-predictor.{kubectl.namespace}.svc")
    status = wait_service(
        kubectl, "chat", lambda s: condition(s, "HPAReady").get("reason") == "HPANotFound", "HPAReady HPANotFound"
    )["status"]
    assert condition(status, "HPAReady")["message"] == "Waiting for KEDA to create HorizontalPodAutoscaler"

    # KEDA's HPA appears; kube-controller-manager's HPA controller finds no predictor Deployment
    # (no KServe here) and says so, and the service reports it (its HPA watch brings it back).
    kubectl.apply(keda_hpa(scaled_object))
    status = wait_service(
        kubectl,
        "chat",
        lambda s: condition(s, "HPAReady").get("reason") == "ScaleTargetNotReady",
        "HPAReady ScaleTargetNotReady from the HPA controller",
    )["status"]
    assert "deployments" in condition(status, "HPAReady")["message"].lower()

    # New bounds reach the ScaledObject, the InferenceService and status.runtime (upstream's
    # autoscaling-update scenario).
    kubectl(
        "patch",
        "aimservice.aim.eai.amd.com",
        "chat",
        "--type=merge",
        "-p",
        '{"spec":{"minReplicas":2,"maxReplicas":5}}',
    )
    wait_until(
        lambda: bool(
            (so := scaled_objects(kubectl))
            and (so[0]["spec"]["minReplicaCount"], so[0]["spec"]["maxReplicaCount"]) == (2, 5)
        ),
        30,
        "the ScaledObject's new bounds",
    )
    predictor = inference_service(kubectl)["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 5)
    runtime = wait_service(
        kubectl, "chat", lambda s: (s.get("runtime") or {}).get("maxReplicas") == 5, "status.runtime 2-5"
    )["status"]["runtime"]
    assert runtime["minReplicas"] == 2

    # minReplicas 0: the activation trigger on aim-activator's count comes first.
    kubectl("patch", "aimservice.aim.eai.amd.com", "chat", "--type=merge", "-p", '{"spec":{"minReplicas":0}}')
    wait_until(
        lambda: bool((so := scaled_objects(kubectl)) and so[0]["spec"]["minReplicaCount"] == 0),
        30,
        "the ScaledObject at minReplicaCount 0",
    )
    [activation, metric] = scaled_objects(kubectl)[0]["spec"]["triggers"]
    assert activation["metadata"]["url"] == f"{ACTIVATOR}/-/activation/{kubectl.namespace}/chat"
    assert (activation["metadata"]["activationTargetValue"], metric["type"]) == ("0", "metrics-api")

    # Autoscaling off: the ScaledObject goes (KEDA then removes its HPA), KServe is told `none`.
    patch = [
        {"op": "remove", "path": "/spec/minReplicas"},
        {"op": "remove", "path": "/spec/maxReplicas"},
        {"op": "remove", "path": "/spec/autoScaling"},
        {"op": "replace", "path": "/spec/replicas", "value": 2},
    ]
    kubectl("patch", "aimservice.aim.eai.amd.com", "chat", "--type=json", "-p", json.dumps(patch))
    wait_until(lambda: not scaled_objects(kubectl), 30, "the ScaledObject to be deleted")
    isvc = inference_service(kubectl)
    assert isvc["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "none"
    assert (isvc["spec"]["predictor"]["minReplicas"], isvc["spec"]["predictor"]["maxReplicas"]) == (2, 2)
    wait_service(kubectl, "chat", lambda s: not condition(s, "HPAReady"), "HPAReady to be gone")


def test_bounds_without_a_metric_are_an_invalid_config(kubectl: Kubectl) -> None:
    ready_model(kubectl, "qwen")
    ready_template(kubectl, "qwen-mi300x", "qwen", "MI300X")
    kubectl.apply(service("bounds", model={"name": "qwen"}, minReplicas=1, maxReplicas=3))
    status = wait_service(kubectl, "bounds", lambda s: s.get("status") == "Degraded", "the service to be Degraded")[
        "status"
    ]
    assert condition(status, "HPAReady")["reason"] == "AutoscalingRequiresMetrics"
    assert condition(status, "ConfigValid")["status"] == "False"
    assert "spec.autoScaling.metrics" in condition(status, "ConfigValid")["message"]
    assert scaled_objects(kubectl) == []


def test_an_empty_autoscaling_block_is_refused_naming_the_field(kubectl: Kubectl) -> None:
    result = kubectl.apply(
        service("empty", model={"name": "qwen"}, minReplicas=1, maxReplicas=3, autoScaling={}), check=False
    )
    assert result.returncode != 0
    assert "spec.autoScaling" in result.stderr
    assert "must not be empty" in result.stderr

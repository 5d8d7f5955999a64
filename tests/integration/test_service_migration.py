"""Switching to this controller keeps a service's children: an InferenceService or HTTPRoute the
service owns under another name (upstream AIM Engine 0.2 hashed only the namespace into the
InferenceService name; this project hashed the service name into the route's) is adopted, never
duplicated; of two owned InferenceServices the one named as this controller names it is kept and
the other deleted. Against the real API server (no KServe controller: the objects are data)."""

from __future__ import annotations

from typing import Any

import pytest

from api.naming import derived_name, inference_service_name
from devcluster.waiting import wait_until
from tests.conftest import Kubectl
from tests.integration.test_service_controller import deployed, ready_model, ready_template, service, wait_service

pytestmark = pytest.mark.usefixtures("controller")
PAUSED = {"aim.eai.amd.com/reconciliation-paused": "true"}
ROUTING = {"enabled": True, "gatewayRef": {"name": "inference", "namespace": "gateways"}}


def owned_child(kubectl: Kubectl, kind: str, name: str, owner: dict[str, Any]) -> None:
    api = "serving.kserve.io/v1beta1" if kind == "InferenceService" else "gateway.networking.k8s.io/v1"
    spec: dict[str, Any] = (
        {"predictor": {"containers": [{"name": "kserve-container", "image": "old:1"}]}}
        if kind == "InferenceService"
        else {"parentRefs": [{"name": "inference", "namespace": "gateways"}]}
    )
    reference = {
        "apiVersion": owner["apiVersion"],
        "kind": "AIMService",
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    metadata = {
        "name": name,
        "labels": {"aim.eai.amd.com/service": owner["metadata"]["name"], "app.kubernetes.io/managed-by": "aim-engine"},
        "ownerReferences": [reference],
    }
    kubectl.apply({"apiVersion": api, "kind": kind, "metadata": metadata, "spec": spec})


def paused_service(kubectl: Kubectl, name: str) -> dict[str, Any]:
    manifest = service(name, model={"name": "qwen"}, routing=ROUTING)
    manifest["metadata"]["annotations"] = PAUSED
    kubectl.apply(manifest)
    return kubectl.get_json("aimservices.aim.eai.amd.com", name)


def resume(kubectl: Kubectl, name: str) -> None:
    kubectl("annotate", "aimservices.aim.eai.amd.com", name, "aim.eai.amd.com/reconciliation-paused-")


def names(kubectl: Kubectl, resource: str, service_name: str) -> list[str]:
    items = kubectl.get_json(resource, "-l", f"aim.eai.amd.com/service={service_name}")["items"]
    return sorted(item["metadata"]["name"] for item in items)


def test_children_named_by_another_version_are_adopted_not_duplicated(kubectl: Kubectl, namespace: str) -> None:
    ready_model(kubectl, "qwen")
    ready_template(kubectl, "qwen-mi300x", "qwen", "MI300X")
    upstream_isvc = derived_name(["chat"], hash_inputs=[namespace])
    old_route = derived_name(["chat"], hash_inputs=[namespace, "chat"])
    assert upstream_isvc != inference_service_name("chat", namespace)
    chat = paused_service(kubectl, "chat")
    owned_child(kubectl, "InferenceService", upstream_isvc, chat)
    owned_child(kubectl, "HTTPRoute", old_route, chat)
    resume(kubectl, "chat")

    wait_service(kubectl, "chat", deployed, "the service to be Starting")
    assert names(kubectl, "inferenceservices.serving.kserve.io", "chat") == [upstream_isvc]
    assert names(kubectl, "httproutes.gateway.networking.k8s.io", "chat") == [old_route]
    isvc = kubectl.get_json("inferenceservices.serving.kserve.io", upstream_isvc)
    assert isvc["spec"]["predictor"]["containers"][0]["image"] != "old:1"  # now managed by this controller
    route = kubectl.get_json("httproutes.gateway.networking.k8s.io", old_route)
    assert route["spec"]["rules"][0]["backendRefs"][0]["name"] == f"{upstream_isvc}-predictor"


def test_of_two_owned_inference_services_ours_is_kept_and_the_other_deleted(kubectl: Kubectl, namespace: str) -> None:
    ready_model(kubectl, "qwen")
    ready_template(kubectl, "qwen-mi300x", "qwen", "MI300X")
    ours = inference_service_name("dup", namespace)
    upstream = derived_name(["dup"], hash_inputs=[namespace])
    dup = paused_service(kubectl, "dup")
    owned_child(kubectl, "InferenceService", upstream, dup)
    owned_child(kubectl, "InferenceService", ours, dup)
    resume(kubectl, "dup")

    wait_service(kubectl, "dup", deployed, "the service to be Starting")
    wait_until(
        lambda: names(kubectl, "inferenceservices.serving.kserve.io", "dup") == [ours],
        30,
        f"only {ours} to be left",
    )

"""ConfigValid as upstream's reconcile framework sets it, on the real API server (upstream e2e
aimmodel/error-recovery): a model naming a runtime config that does not exist is Failed with
ConfigValid=False/ReferenceNotFound; once the config exists it recovers by itself, ConfigValid
True/ConfigurationValid."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from devcluster.controlplane import ControlPlane
from devcluster.registration import OPERATOR_NAMESPACE
from devcluster.waiting import DeadlineExceededError, wait_until
from tests.conftest import Kubectl
from tests.integration.test_service_controller import METADATA

pytestmark = pytest.mark.usefixtures("controller")
V1 = "aim.eai.amd.com/v1alpha1"
V2 = "aim.eai.amd.com/v1alpha2"


def config_valid(kubectl: Kubectl) -> tuple[str, dict[str, Any]] | None:
    status = kubectl.get_json("aimmodels.aim.eai.amd.com", "m").get("status") or {}
    found = [c for c in status.get("conditions") or [] if c["type"] == "ConfigValid"]
    return (status.get("status", ""), found[0]) if found else None


def test_a_missing_runtime_config_fails_the_model_until_it_exists(kubectl: Kubectl) -> None:
    spec = {"image": "registry.local/amdenterpriseai/aim-qwen:0.8.5", "imageMetadata": METADATA}
    kubectl.apply(
        {"apiVersion": V2, "kind": "AIMModel", "metadata": {"name": "m"}, "spec": spec | {"runtimeConfigName": "tuned"}}
    )
    state, condition = wait_until(lambda: config_valid(kubectl), 30, "ConfigValid on the model")
    assert state == "Failed"
    assert (condition["status"], condition["reason"]) == ("False", "ReferenceNotFound")
    assert "RuntimeConfig tuned not found" in condition["message"]

    kubectl.apply({"apiVersion": V1, "kind": "AIMRuntimeConfig", "metadata": {"name": "tuned"}, "spec": {}})
    state, condition = wait_until(
        lambda: (found := config_valid(kubectl)) and found[1]["status"] == "True" and found, 30, "the model to recover"
    )
    assert (condition["reason"], state) == ("ConfigurationValid", "Ready")


TEMPLATES_CRD = "aimservicetemplates.aim.eai.amd.com"


def gpu_requests_schema(crd: dict[str, Any]) -> dict[str, Any]:
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    gpu: dict[str, Any] = spec["properties"]["hardware"]["properties"]["gpu"]["properties"]
    return gpu


def replace_gpu_requests_schema(plane: ControlPlane, schema: dict[str, Any]) -> dict[str, Any]:
    """Sets the v1alpha1 template schema of spec.hardware.gpu.requests; returns the one it had."""
    crd = json.loads(plane.kubectl("get", "crd", TEMPLATES_CRD, "-o", "json").stdout)
    fields = gpu_requests_schema(crd)
    previous: dict[str, Any] = fields["requests"]
    fields["requests"] = schema
    plane.kubectl("replace", "-f", "-", input_text=json.dumps(crd))
    return previous


def test_an_object_the_controllers_model_refuses_is_said_on_its_status_naming_the_field(
    control_plane: ControlPlane,
) -> None:
    """A CRD of another version than the controller's (here: one field loosened to accept a
    string) and an object stored past the webhooks (the operator's namespace is exempt from them):
    the controller does not act on it half-read but says which field does not fit, in a condition
    and an event (the field is immutable here; the fix is to recreate it)."""
    control_plane.kubectl("create", "namespace", OPERATOR_NAMESPACE, check=False)  # may exist already
    kubectl = Kubectl(control_plane, OPERATOR_NAMESPACE)
    name = f"skewed-{uuid.uuid4().hex[:5]}"
    spec = {"modelName": "absent", "hardware": {"gpu": {"model": "MI300X", "requests": "lots"}}}
    template = {"apiVersion": V1, "kind": "AIMServiceTemplate", "metadata": {"name": name}, "spec": spec}
    original = replace_gpu_requests_schema(control_plane, {"x-kubernetes-int-or-string": True})
    try:
        refusals: list[str] = []

        def stored() -> bool:
            result = kubectl.apply(template, check=False)
            refusals.append(result.stderr)
            return result.returncode == 0

        try:
            wait_until(stored, 30, "the loosened CRD to be served")
        except DeadlineExceededError:
            pytest.fail(f"the template was refused: {refusals[-1]}")

        def config_valid_of_template() -> dict[str, Any] | None:
            status = kubectl.get_json("aimservicetemplates.aim.eai.amd.com", name).get("status") or {}
            return next((c for c in status.get("conditions") or [] if c["type"] == "ConfigValid"), None)

        condition = wait_until(config_valid_of_template, 30, "ConfigValid on the skewed template")
        assert (condition["status"], condition["reason"]) == ("False", "InvalidSpec")
        assert "spec.hardware.gpu.requests" in condition["message"]
        events = kubectl.get_json("events", "--field-selector", f"involvedObject.name={name}")["items"]
        assert [e["reason"] for e in events if e["type"] == "Warning"] == ["InvalidSpec"]

        # Nothing else was acted on: no discovery Job, and the status says nothing but this.
        status = kubectl.get_json("aimservicetemplates.aim.eai.amd.com", name)["status"]
        assert [c["type"] for c in status["conditions"]] == ["ConfigValid"]
        assert not kubectl.get_json("jobs", "-l", f"aim.eai.amd.com/service-template.name={name}")["items"]
    finally:
        kubectl("delete", "aimservicetemplates.aim.eai.amd.com", name, "--ignore-not-found", check=False)
        replace_gpu_requests_schema(control_plane, original)

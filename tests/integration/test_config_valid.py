"""ConfigValid as upstream's reconcile framework sets it, on the real API server (upstream e2e
aimmodel/error-recovery): a model naming a runtime config that does not exist is Failed with
ConfigValid=False/ReferenceNotFound; once the config exists it recovers by itself, ConfigValid
True/ConfigurationValid."""

from __future__ import annotations

from typing import Any

import pytest

from devcluster.waiting import wait_until
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

"""A write the controller needs, refused because the API server cannot call an admission webhook,
is said on the object (DependenciesReachable=False, AdmissionWebhookUnavailable, one Warning) and
retried with back-off until the webhook answers again. The outage is a validating webhook for
AIMModels of this test's namespace only, pointing at a closed port, so nothing else is affected."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from devcluster.waiting import wait_until
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl
from tests.integration.test_service_controller import service

pytestmark = pytest.mark.usefixtures("controller")
IMAGE = "registry.local/amdenterpriseai/aim-llama:1.0"


@pytest.fixture
def unreachable_model_webhook(kubectl: Kubectl, namespace: str) -> Iterator[str]:
    name = f"unreachable-{namespace}"
    config: dict[str, Any] = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [
            {
                "name": "unreachable.example.com",
                "clientConfig": {"url": "https://127.0.0.1:1/validate"},
                "rules": [
                    {
                        "apiGroups": ["aim.eai.amd.com"],
                        "apiVersions": ["*"],
                        "operations": ["CREATE"],
                        "resources": ["aimmodels"],
                    }
                ],
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                "failurePolicy": "Fail",
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "timeoutSeconds": 2,
            }
        ],
    }
    kubectl.apply(config)
    try:
        yield name
    finally:
        kubectl("delete", "validatingwebhookconfiguration", name, "--ignore-not-found")


def test_a_refused_child_write_is_reported_and_retried_after_the_outage(
    kubectl: Kubectl, unreachable_model_webhook: str
) -> None:
    kubectl.apply(service("chat", model={"image": IMAGE}))

    def reported() -> bool:
        status = kubectl.get_json("aimservices.aim.eai.amd.com", "chat").get("status") or {}
        return condition(status, "DependenciesReachable").get("reason") == "AdmissionWebhookUnavailable"

    wait_until(reported, 30, "the service to say the admission webhook is unreachable")
    status = kubectl.get_json("aimservices.aim.eai.amd.com", "chat")["status"]
    reachable = condition(status, "DependenciesReachable")
    assert reachable["status"] == "False"
    assert "failed calling webhook" in reachable["message"]
    assert kubectl.get_json("aimmodels.aim.eai.amd.com")["items"] == []
    events = json.loads(kubectl("get", "events", "--field-selector", "involvedObject.name=chat", "-o", "json").stdout)
    warnings = [e for e in events["items"] if e["reason"] == "AdmissionWebhookUnavailable"]
    assert len(warnings) == 1  # not one per retry

    kubectl("delete", "validatingwebhookconfiguration", unreachable_model_webhook)

    def recovered() -> bool:
        status = kubectl.get_json("aimservices.aim.eai.amd.com", "chat").get("status") or {}
        return bool(kubectl.get_json("aimmodels.aim.eai.amd.com")["items"]) and not condition(
            status, "DependenciesReachable"
        )

    wait_until(recovered, 90, "the model to be created and the condition to go once the webhook is gone")

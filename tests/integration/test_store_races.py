"""Reads from the controller's in-memory view race the writes users make: a service's spec is
changed many times while its reconciles run (each may read a copy one change behind), and the
InferenceService and status still end on the last spec. Every write is an apply, a
resourceVersion-guarded patch or a status patch, and every newer object enqueues the key again."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from devcluster.waiting import wait_until
from tests.conftest import Kubectl
from tests.integration.test_service_controller import deployed, ready_model, ready_template, service, wait_service

pytestmark = pytest.mark.usefixtures("controller")
CHANGES = 15


def extra_env(isvc: dict[str, Any]) -> str | None:
    container = isvc["spec"]["predictor"]["containers"][0]
    return next((e.get("value") for e in container.get("env") or [] if e["name"] == "CHANGE"), None)


def test_the_last_spec_wins_over_reconciles_that_read_an_older_copy(kubectl: Kubectl) -> None:
    ready_model(kubectl, "qwen")
    ready_template(kubectl, "qwen-mi300x", "qwen", "MI300X")
    kubectl.apply(service("chat", model={"name": "qwen"}, env=[{"name": "CHANGE", "value": "0"}]))
    wait_service(kubectl, "chat", deployed, "the service to be Starting")

    for change in range(1, CHANGES + 1):  # faster than a reconcile: most run on a stale copy
        patch = {"spec": {"env": [{"name": "CHANGE", "value": str(change)}]}}
        kubectl("patch", "aimservice", "chat", "--type=merge", "-p", json.dumps(patch))
        time.sleep(0.02)

    def settled() -> bool:
        svc = kubectl.get_json("aimservices.aim.eai.amd.com", "chat")
        isvcs = kubectl.get_json("inferenceservices.serving.kserve.io")["items"]
        return (
            len(isvcs) == 1
            and extra_env(isvcs[0]) == str(CHANGES)
            and (svc.get("status") or {}).get("observedGeneration") == svc["metadata"]["generation"]
        )

    wait_until(settled, 30, f"the InferenceService and status to reflect change {CHANGES}")

"""A failed discovery on the real API server (upstream's `success-with-failures` scenario): the
template is Failed with `status.discovery` counting the attempt and the time to the next one,
while another template's discovery is not held up by it. The Jobs' simulated pods fail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl, controller_running
from tests.integration.test_discovery_slots import IMAGE, template
from tests.integration.test_service_controller import V2


@pytest.fixture(scope="module", autouse=True)
def controller(control_plane: ControlPlane) -> Iterator[None]:
    annotations = {"sim.aim.eai.amd.com/run-duration": "1s", "sim.aim.eai.amd.com/outcome": "Failed"}
    with controller_running(control_plane, "controller-discovery-retries", annotations):
        yield


def test_a_failed_discovery_counts_its_attempt_and_waits_to_retry(kubectl: Kubectl) -> None:
    model = {"image": IMAGE, "imageMetadata": {"model": {"canonicalName": "Qwen/Qwen3-32B"}}}
    kubectl.apply({"apiVersion": V2, "kind": "AIMModel", "metadata": {"name": "qwen"}, "spec": model})
    kubectl.apply(template(0))

    def failed_once() -> dict[str, object] | None:
        status = kubectl.get_json("aimservicetemplates.aim.eai.amd.com", "t00").get("status") or {}
        return status if (status.get("discovery") or {}).get("attempts") == 1 else None

    status = wait_until(failed_once, 60, "the first failed attempt counted")
    assert status["status"] == "Failed"
    discovered = condition(status, "Discovered")
    assert discovered["reason"] == "DiscoveryFailed"
    assert "(attempt 1)" in discovered["message"]
    assert "retrying in" in discovered["message"]
    discovery = status["discovery"]
    assert isinstance(discovery, dict)
    assert discovery["lastFailureReason"]
    assert discovery["lastAttemptTime"]
    # Still one Job: the next attempt waits out its minute.
    assert len(kubectl.get_json("jobs", "-l", "app.kubernetes.io/component=discovery")["items"]) == 1

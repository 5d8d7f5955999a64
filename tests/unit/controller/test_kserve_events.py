"""KServe's Warning events that fail a service (controller.common.kserve_events), the event watch
that records them, and the InferenceServiceReady component they decide."""

from __future__ import annotations

from typing import Any

import pytest

from controller.common.kserve_events import KServeWarning, KServeWarnings, kserve_warning
from controller.service.plan import inference_service_component
from controller.watches import Event, ServiceIndex, services_warned_by_kserve

REJECTED = "It is not possible to use Serverless deployment mode when Knative Services are not available"


def event(
    reason: str = "InternalError",
    message: str = "fails to reconcile predictor: admission webhook denied the request",
    kind: str = "InferenceService",
    type_: str = "Warning",
    at: str = "2026-12-07T10:00:00Z",
    name: str = "chat-8f812705",
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.1", "namespace": "team"},
        "involvedObject": {"kind": kind, "name": name, "namespace": "team"},
        "type": type_,
        "reason": reason,
        "message": message,
        "lastTimestamp": at,
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(event(), "InternalError", id="internal-error"),
        pytest.param(event("ServerlessModeRejected", REJECTED), "ServerlessModeRejected", id="serverless-rejected"),
        pytest.param(
            event(message="Operation cannot be fulfilled on inferenceservices.serving.kserve.io"),
            None,
            id="write-conflict-kserve-retries",
        ),
        pytest.param(event(message="the object has been modified; please apply"), None, id="stale-write"),
        pytest.param(event(type_="Normal"), None, id="normal-event"),
        pytest.param(event(kind="Pod"), None, id="other-kind"),
        pytest.param(event(reason="UpdateFailed"), None, id="other-reason"),
    ],
)
def test_which_kserve_events_fail_a_service(body: dict[str, Any], expected: str | None) -> None:
    found = kserve_warning(body)
    assert (found[1].reason if found else None) == expected
    if found:
        assert found[0] == ("team", "chat-8f812705")


def test_the_latest_warning_is_kept_and_forgotten_when_its_event_expires() -> None:
    warnings = KServeWarnings()
    older, newer = event(at="2026-12-07T10:00:00Z"), event(message="later failure", at="2026-12-07T10:05:00Z")
    warnings.observe(newer, deleted=False)
    warnings.observe(older, deleted=False)  # kopf re-listing an older event changes nothing
    assert warnings.get("team", "chat-8f812705") == KServeWarning(
        "InternalError", "later failure", newer["lastTimestamp"]
    )
    warnings.observe(older, deleted=True)  # another event expiring leaves the latest
    assert warnings.get("team", "chat-8f812705") is not None
    warnings.observe(newer, deleted=True)
    assert warnings.get("team", "chat-8f812705") is None


def test_the_event_watch_enqueues_the_services_of_the_namespace_only_for_fatal_warnings() -> None:
    index = ServiceIndex()
    service = {"metadata": {"name": "chat", "namespace": "team", "uid": "u"}, "spec": {}}
    index.update(service, deleted=False)
    assert services_warned_by_kserve(Event(event()), index) == [("AIMService", "team", "chat")]
    assert services_warned_by_kserve(Event(event(type_="Normal")), index) == []
    assert index.kserve_warnings.get("team", "chat-8f812705") is not None


NOT_READY = {
    "status": {"conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": "2026-12-07T10:01:00Z"}]}
}
READY = {"status": {"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-12-07T10:01:00Z"}]}}
NO_STATUS: dict[str, Any] = {}


@pytest.mark.parametrize(
    ("isvc", "warning", "expected"),
    [
        pytest.param(NO_STATUS, None, ("Starting", "CreatingRuntime"), id="kserve-not-acted-yet"),
        pytest.param(
            NO_STATUS,
            KServeWarning("ServerlessModeRejected", REJECTED, "2026-12-07T10:00:00Z"),
            ("Failed", "ServerlessModeRejected"),
            id="serverless-rejected-before-any-status",
        ),
        pytest.param(
            NOT_READY,
            KServeWarning("InternalError", "boom", "2026-12-07T10:02:00Z"),
            ("Failed", "InternalError"),
            id="error-after-the-last-transition",
        ),
        pytest.param(
            NOT_READY,
            KServeWarning("InternalError", "boom", "2026-12-07T10:00:00Z"),
            ("Starting", "CreatingRuntime"),
            id="error-before-the-last-transition-is-past",
        ),
        pytest.param(
            READY,
            KServeWarning("InternalError", "boom", "2026-12-07T10:02:00Z"),
            ("Running", "RuntimeReady"),
            id="ready-wins-over-an-event",
        ),
    ],
)
def test_inference_service_component_reads_kserve_warnings(
    isvc: dict[str, Any], warning: KServeWarning | None, expected: tuple[str, str]
) -> None:
    component = inference_service_component(isvc, True, warning=warning)
    assert (component.state, component.reason) == expected
    if warning is not None and expected[0] == "Failed":
        assert warning.message in component.message
        if warning.reason == "ServerlessModeRejected":
            assert component.message.startswith("Knative is not available. Configure KServe to use RawDeployment mode.")

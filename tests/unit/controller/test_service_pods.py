"""InferenceServicePodsReady and status.runtime from an InferenceService's predictor pods
(controller.service.pods), and the pod watch that brings a service back."""

from __future__ import annotations

from typing import Any

import pytest

from api.v1alpha2.aimservice import AIMServiceSpec
from controller.service.autoscaling import runtime_status
from controller.service.pods import observed_replicas, pods_component, served_by_kserve
from controller.watches import Event, ServiceIndex, pod_fingerprint, services_of_pod

READY_ISVC = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
STARTING_ISVC: dict[str, Any] = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}


def pod(
    phase: str = "Running",
    ready: bool = True,
    waiting: str | None = None,
    message: str = "",
    last: dict[str, Any] | None = None,
    terminated: dict[str, Any] | None = None,
    unschedulable: str | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    if unschedulable is not None:
        conditions.append(
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": unschedulable}
        )
    container: dict[str, Any] = {"name": "kserve-container", "state": {}}
    if waiting:
        container["state"] = {"waiting": {"reason": waiting, "message": message}}
    if terminated:
        container["state"] = {"terminated": terminated}
    if last:
        container["lastState"] = {"terminated": last}
    metadata: dict[str, Any] = {"name": "p", "namespace": "team"}
    if deleting:
        metadata["deletionTimestamp"] = "2026-12-07T00:00:00Z"
    return {
        "metadata": metadata,
        "status": {"phase": phase, "conditions": conditions, "containerStatuses": [container]},
    }


SCHEDULER = "0/3 nodes are available: 3 Insufficient amd.com/gpu."


@pytest.mark.parametrize(
    ("isvc", "pods", "expected"),
    [
        pytest.param(None, None, None, id="no-inference-service"),
        pytest.param(STARTING_ISVC, [], ("Starting", "NoPods"), id="no-pods-yet"),
        pytest.param(READY_ISVC, [], ("Running", "PodsReady"), id="kserve-ready-without-pods"),
        pytest.param(STARTING_ISVC, [pod()], ("Running", "PodsReady"), id="ready"),
        pytest.param(STARTING_ISVC, [pod(ready=False)], ("Starting", "PodsStarting"), id="running-not-ready"),
        pytest.param(
            STARTING_ISVC,
            [pod("Pending", ready=False, unschedulable=SCHEDULER)],
            ("Pending", "FailedScheduling", SCHEDULER),
            id="unschedulable-with-the-schedulers-words",
        ),
        pytest.param(STARTING_ISVC, [pod("Pending", ready=False)], ("Pending", "PodsPending"), id="pending"),
        pytest.param(
            STARTING_ISVC,
            [pod("Pending", ready=False, waiting="ImagePullBackOff", message="pull access denied, unauthorized")],
            ("Failed", "ImagePullAuthFailure"),
            id="pull-unauthorized",
        ),
        pytest.param(
            STARTING_ISVC,
            [pod("Pending", ready=False, waiting="ErrImagePull", message="manifest unknown")],
            ("Failed", "ImageNotFound"),
            id="pull-not-found",
        ),
        pytest.param(
            STARTING_ISVC,
            [pod("Pending", ready=False, waiting="ImagePullBackOff", message="i/o timeout")],
            ("Degraded", "ImagePullBackOff"),
            id="pull-back-off",
        ),
        pytest.param(
            STARTING_ISVC,
            [
                pod(
                    ready=False,
                    waiting="CrashLoopBackOff",
                    last={"exitCode": 1, "reason": "Error", "message": "boom\nno GPU found"},
                )
            ],
            (
                "Degraded",
                "CrashLoopBackOff",
                "Container kserve-container keeps crashing; last exit code 1: no GPU found",
            ),
            id="crash-loop-names-the-last-exit",
        ),
        pytest.param(
            STARTING_ISVC,
            [pod(ready=False, waiting="CrashLoopBackOff", last={"exitCode": 137, "reason": "OOMKilled"})],
            ("Degraded", "PodOOMKilled"),
            id="crash-loop-out-of-memory",
        ),
        pytest.param(
            STARTING_ISVC,
            [pod("Failed", ready=False, terminated={"exitCode": 1, "reason": "Error"})],
            ("Failed", "PodFailed"),
            id="failed",
        ),
        pytest.param(
            STARTING_ISVC,
            [pod(), pod("Pending", ready=False, unschedulable=SCHEDULER)],
            ("Running", "PodsReady"),
            id="one-ready-is-serving",
        ),
        pytest.param(STARTING_ISVC, [pod(deleting=True)], ("Starting", "NoPods"), id="terminating-pods-do-not-count"),
    ],
)
def test_pods_component(
    isvc: dict[str, Any] | None, pods: list[dict[str, Any]] | None, expected: tuple[str, ...] | None
) -> None:
    component = pods_component(isvc, pods)
    if expected is None:
        assert component is None
        return
    assert component is not None
    assert component.condition == "InferenceServicePodsReady"
    assert (component.state, component.reason) == expected[:2]
    if len(expected) == 3:
        assert component.message == expected[2]


@pytest.mark.parametrize(
    ("spec", "pods", "expected"),
    [
        pytest.param({"replicas": 2}, [pod(), pod("Pending", ready=False)], (1, 2, "1"), id="fixed-observed"),
        pytest.param({"replicas": 2}, None, (2, 2, "2"), id="not-read"),
        pytest.param({"minReplicas": 1, "maxReplicas": 4}, [pod(), pod()], (2, 1, "2/1 (1-4)"), id="autoscaling"),
    ],
)
def test_runtime_status_is_observed(
    spec: dict[str, Any], pods: list[dict[str, Any]] | None, expected: tuple[Any, ...]
) -> None:
    runtime = runtime_status(AIMServiceSpec.model_validate(spec), observed_replicas(pods))
    assert (runtime["currentReplicas"], runtime["desiredReplicas"], runtime["replicas"]) == expected


def test_a_predictor_pod_enqueues_its_service() -> None:
    index = ServiceIndex()
    index.update({"metadata": {"name": "chat", "namespace": "team", "uid": "u"}, "spec": {}}, deleted=False)
    index.update({"metadata": {"name": "other", "namespace": "team", "uid": "v"}, "spec": {}}, deleted=False)
    labelled = pod() | {
        "metadata": {"name": "p", "namespace": "team", "labels": {"aim.eai.amd.com/service.name": "chat"}}
    }
    assert services_of_pod(Event(labelled), index) == [("AIMService", "team", "chat")]
    assert services_of_pod(Event(pod()), index) == []
    heartbeat_only = labelled | {"status": labelled["status"] | {"startTime": "later"}}
    assert pod_fingerprint(Event(labelled)) == pod_fingerprint(Event(heartbeat_only))
    assert pod_fingerprint(Event(labelled)) != pod_fingerprint(
        Event(pod(ready=False) | {"metadata": labelled["metadata"]})
    )


@pytest.mark.parametrize(
    ("isvc", "read"),
    [
        pytest.param(None, False, id="none"),
        pytest.param({"metadata": {"name": "x"}}, False, id="no-kserve-yet"),
        pytest.param({"status": {}}, False, id="empty-status"),
        pytest.param(STARTING_ISVC, True, id="kserve-acted"),
    ],
)
def test_pods_are_read_only_once_kserve_acts(isvc: dict[str, Any] | None, read: bool) -> None:
    assert served_by_kserve(isvc) is read

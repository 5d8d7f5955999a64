"""What an AIMService's predictor pods say (pure: KServe's InferenceService and its pods in; the
`InferenceServicePodsReady` component and the observed replica counts out).

Upstream reads the same pods (`GetPodsHealth`): an image that cannot be pulled first (by
authorisation, a missing image, or otherwise), then a failed pod, then ready / running / pending.
Two things are read differently here: why a pod is pending comes from its `PodScheduled`
condition (the scheduler's own message, the one its `FailedScheduling` event repeats) instead of
listing the pod's events on every reconcile; and a container in `CrashLoopBackOff` makes the
service Degraded with the container's last exit (upstream counts such a pod as still starting).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.conditions import ConditionType, ContainerReason, PodConditionType, PodPhase, Reason
from api.v1alpha1.aimservice import ServiceStatusValue
from controller.pipeline.components import Component
from controller.pipeline.conditions import is_true

CONDITION = ConditionType.INFERENCE_SERVICE_PODS_READY
_AUTH_WORDS = ("unauthorized", "authentication required", "denied", "401", "403")
_NOT_FOUND_WORDS = ("not found", "manifest unknown", "404", "does not exist")


def served_by_kserve(inference_service: dict[str, Any] | None) -> bool:
    """KServe has acted on the InferenceService (it wrote its status): only then are there pods to
    read. Without KServe (or before it acts) the pods are not listed at all: one request fewer per
    reconcile, which is most of a rollout of a thousand services."""
    return bool(((inference_service or {}).get("status") or {}).get("conditions"))


def live(pods: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pods that count: not being deleted (a rollout's old pods)."""
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def _ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == PodConditionType.READY and c.get("status") == "True" for c in conditions)


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    status = pod.get("status") or {}
    return list(status.get("initContainerStatuses") or []) + list(status.get("containerStatuses") or [])


def _pull_problem(pod: dict[str, Any]) -> Component | None:
    for container in _containers(pod):
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") not in (
            ContainerReason.ERR_IMAGE_PULL,
            ContainerReason.IMAGE_PULL_BACK_OFF,
            ContainerReason.INVALID_IMAGE_NAME,
        ):
            continue
        text = f"Container {container.get('name')}: {waiting.get('message') or waiting.get('reason')}"
        lowered = text.lower()
        if any(word in lowered for word in _AUTH_WORDS):
            return Component(CONDITION, ServiceStatusValue.FAILED, Reason.IMAGE_PULL_AUTH_FAILURE, text)
        if (
            any(word in lowered for word in _NOT_FOUND_WORDS)
            or waiting.get("reason") == ContainerReason.INVALID_IMAGE_NAME
        ):
            return Component(CONDITION, ServiceStatusValue.FAILED, Reason.IMAGE_NOT_FOUND, text)
        return Component(CONDITION, ServiceStatusValue.DEGRADED, Reason.IMAGE_PULL_BACK_OFF, text)
    return None


def _last_exit(container: dict[str, Any]) -> str:
    terminated = (container.get("lastState") or {}).get("terminated") or {}
    if not terminated:
        return ""
    said = (terminated.get("message") or "").strip().splitlines()
    detail = said[-1] if said else terminated.get("reason") or ""
    return f"; last exit code {terminated.get('exitCode')}" + (f": {detail}" if detail else "")


def _crash_loop(pod: dict[str, Any]) -> Component | None:
    for container in _containers(pod):
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") == ContainerReason.CRASH_LOOP_BACK_OFF:
            reason = (container.get("lastState") or {}).get("terminated", {}).get("reason")
            message = f"Container {container.get('name')} keeps crashing{_last_exit(container)}"
            if reason == ContainerReason.OOM_KILLED:
                return Component(CONDITION, ServiceStatusValue.DEGRADED, Reason.POD_OOM_KILLED, message)
            return Component(CONDITION, ServiceStatusValue.DEGRADED, Reason.CRASH_LOOP_BACK_OFF, message)
    return None


def _failed(pod: dict[str, Any]) -> Component:
    for container in _containers(pod):
        terminated = (container.get("state") or {}).get("terminated") or {}
        if terminated.get("reason") == ContainerReason.OOM_KILLED:
            return Component(
                CONDITION,
                ServiceStatusValue.FAILED,
                Reason.POD_OOM_KILLED,
                f"Container {container.get('name')} ran out of memory",
            )
        if terminated:
            return Component(
                CONDITION,
                ServiceStatusValue.FAILED,
                Reason.POD_FAILED,
                f"Container {container.get('name')} terminated with reason: {terminated.get('reason') or 'Error'}",
            )
    status = pod.get("status") or {}
    return Component(CONDITION, ServiceStatusValue.FAILED, Reason.POD_FAILED, status.get("message") or "The pod failed")


def _unschedulable(pod: dict[str, Any]) -> str | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        scheduled = condition.get("type") == PodConditionType.POD_SCHEDULED and condition.get("status") == "False"
        if scheduled and condition.get("reason") == ContainerReason.UNSCHEDULABLE:
            return str(condition.get("message") or "the scheduler cannot place the pod")
    return None


def pods_component(
    inference_service: dict[str, Any] | None, pods: Sequence[dict[str, Any]] | None, *, scaled_to_zero: bool = False
) -> Component | None:
    """InferenceServicePodsReady; None while there is no InferenceService to have pods.
    `scaled_to_zero`: KEDA idled the predictor, so no pod is as it should be."""
    if inference_service is None or pods is None:
        return None
    current = live(pods)
    if not current and scaled_to_zero:
        return Component(CONDITION, ServiceStatusValue.RUNNING, Reason.SCALED_TO_ZERO, "scaled to zero while idle")
    if not current:
        if is_true(inference_service, ConditionType.READY):
            # KServe says Ready with no pod of its label: trust its verdict (e.g. an external
            # serving runtime); nothing to say about pods.
            return Component(CONDITION, ServiceStatusValue.RUNNING, Reason.PODS_READY, "the InferenceService is Ready")
        return Component(
            CONDITION, ServiceStatusValue.STARTING, Reason.NO_PODS, "waiting for KServe to create the predictor's pods"
        )
    for find in (_pull_problem, _crash_loop):
        for pod in current:
            if (problem := find(pod)) is not None:
                return problem
    failed = [p for p in current if (p.get("status") or {}).get("phase") == PodPhase.FAILED]
    if failed:
        return _failed(failed[0])
    if any(_ready(p) for p in current):
        return Component(CONDITION, ServiceStatusValue.RUNNING, Reason.PODS_READY, "Pods are ready")
    if any((p.get("status") or {}).get("phase") == PodPhase.RUNNING for p in current):
        return Component(
            CONDITION, ServiceStatusValue.STARTING, Reason.PODS_STARTING, "Pods are running, waiting for readiness"
        )
    for pod in current:
        if (message := _unschedulable(pod)) is not None:
            return Component(CONDITION, ServiceStatusValue.PENDING, Reason.FAILED_SCHEDULING, message)
    if any((p.get("status") or {}).get("phase") == PodPhase.PENDING for p in current):
        return Component(CONDITION, ServiceStatusValue.PENDING, Reason.PODS_PENDING, "Pods are pending")
    return Component(CONDITION, ServiceStatusValue.STARTING, Reason.PODS_PROGRESSING, "Pods are progressing")


def ready_pods(pods: Sequence[dict[str, Any]] | None) -> int:
    """Predictor pods that are Ready (0 when the pods were not read)."""
    return sum(1 for p in live(pods or []) if _ready(p))


def observed_replicas(pods: Sequence[dict[str, Any]] | None) -> int | None:
    """Predictor pods that are Running (being deleted or not yet started ones do not count); None
    when the pods were not read."""
    if pods is None:
        return None
    return sum(1 for p in live(pods) if (p.get("status") or {}).get("phase") == PodPhase.RUNNING)

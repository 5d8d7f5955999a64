"""Carry out a plan (edge layer): fetch → plan (pure) → apply, delete, finalizers, status, events.

One `PlanReconciler` per kind; the worker threads look it up by the work-queue key's kind.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from controller.kube.client import Kube
from controller.pipeline.apply import needs_apply, with_applied_hash
from controller.pipeline.plan import Plan

log = logging.getLogger(__name__)
PAUSED = "aim.eai.amd.com/reconciliation-paused"


class Observation(Protocol):
    def existing(self, kind: str, name: str) -> dict[str, Any] | None: ...


class Reconciler(Protocol):
    def reconcile(self, namespace: str, name: str) -> float | None:
        """Returns seconds after which to look again without an event, or None."""


Obs = TypeVar("Obs", bound=Observation)


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_paused(obj: dict[str, Any]) -> bool:
    return (obj["metadata"].get("annotations") or {}).get(PAUSED) == "true"


def carry_out(kube: Kube, obj: dict[str, Any], plan: Plan, observed: Observation) -> None:
    metadata = obj["metadata"]
    where = f"{metadata.get('namespace', '')}/{metadata['name']}".lstrip("/")
    for planned in plan.apply:
        desired = with_applied_hash(planned)
        if not needs_apply(desired, observed.existing(desired["kind"], desired["metadata"]["name"])):
            continue
        kube.apply(desired)
        log.info("Applied %s %s for %s %s", desired["kind"], desired["metadata"]["name"], obj["kind"], where)
    for ref in plan.delete:
        kube.delete(ref.api_version, ref.kind, ref.name, ref.namespace or None)
        log.info("Deleted %s %s for %s %s", ref.kind, ref.name, obj["kind"], where)
    # Finalizers first: the patch is guarded by the resourceVersion we read, which a status write
    # would move on.
    if plan.finalizers is not None and plan.finalizers != (metadata.get("finalizers") or []):
        kube.set_finalizers(obj, plan.finalizers)
    if plan.status is not None and plan.status != (obj.get("status") or {}):
        kube.patch_status(obj, plan.status)
        log.info("Updated %s %s status: %s", obj["kind"], where, plan.status.get("status"))
    for event in plan.events:
        kube.event(obj, event.type, event.reason, event.message)


class PlanReconciler(Generic[Obs]):
    """Reconciles one kind: reads the object, fetches what it depends on, plans, carries out."""

    def __init__(
        self,
        kube: Kube,
        api_version: str,
        kind: str,
        fetch: Callable[[Kube, dict[str, Any]], Obs],
        plan: Callable[[Obs, str], Plan],
        now: Callable[[], str] = utc_now,
    ):
        self.kube = kube
        self.api_version = api_version
        self.kind = kind
        self.fetch = fetch
        self.plan = plan
        self.now = now

    def reconcile(self, namespace: str, name: str) -> float | None:
        obj = self.kube.get(self.api_version, self.kind, name, namespace or None)
        if obj is None:
            return None
        if is_paused(obj):
            log.info("Skipped paused %s %s/%s", self.kind, namespace, name)
            return None
        observed = self.fetch(self.kube, obj)
        plan = self.plan(observed, self.now())
        carry_out(self.kube, obj, plan, observed)
        return plan.requeue_after

"""Run one AIMService reconcile: fetch, plan (pure), apply, status, events (edge orchestration)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from controller.kube.client import Kube
from controller.pipeline.apply import needs_apply, with_applied_hash
from controller.service.cleanup import FINALIZER, plan_service_cleanup, with_finalizer
from controller.service.fetch import V1, V2, fetch_service
from controller.service.plan import plan_service

log = logging.getLogger(__name__)
PAUSED = "aim.eai.amd.com/reconciliation-paused"


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ServiceReconciler:
    def __init__(self, kube: Kube, now: Callable[[], str] = utc_now):
        self.kube = kube
        self.now = now

    def reconcile(self, namespace: str, name: str) -> None:
        service = self.kube.get(V2, "AIMService", name, namespace)
        if service is None:
            return
        if service["metadata"].get("deletionTimestamp"):
            self._clean_up(service)  # owned children go with it (garbage collection)
            return
        if (service["metadata"].get("annotations") or {}).get(PAUSED) == "true":
            log.info("Skipped paused AIMService %s/%s", namespace, name)
            return
        finalizers = with_finalizer(service)
        if finalizers is not None:
            self.kube.set_finalizers(service, finalizers)
        observed = fetch_service(self.kube, service)
        plan = plan_service(observed, self.now())
        for planned in plan.apply:
            obj = with_applied_hash(planned)
            if not needs_apply(obj, observed.existing(obj["kind"], obj["metadata"]["name"])):
                continue
            self.kube.apply(obj)
            log.info("Applied %s %s/%s", obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if plan.status != (service.get("status") or {}):
            self.kube.patch_status(service, plan.status)
            log.info("Updated AIMService %s/%s status: %s", namespace, name, plan.status.get("status"))
        for event in plan.events:
            self.kube.event(service, event.type, event.reason, event.message)

    def _clean_up(self, service: dict[str, Any]) -> None:
        """Delete the service's caches that never became Ready, then let the service go."""
        metadata = service["metadata"]
        if FINALIZER not in (metadata.get("finalizers") or []):
            return
        namespace = metadata["namespace"]
        terminating = self.kube.namespace_terminating(namespace)
        plan = plan_service_cleanup(
            service,
            [] if terminating else self.kube.list(V1, "AIMTemplateCache", namespace),
            [] if terminating else self.kube.list(V2, "AIMProfileCache", namespace),
            [] if terminating else self.kube.list(V2, "AIMService", namespace),
            terminating,
        )
        for ref in plan.delete:
            self.kube.delete(ref.api_version, ref.kind, ref.name, ref.namespace)
            log.info("Deleted %s %s/%s: never Ready, its service is gone", ref.kind, ref.namespace, ref.name)
        self.kube.set_finalizers(service, plan.finalizers)

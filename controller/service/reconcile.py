"""Run one AIMService reconcile: fetch, plan (pure), apply, status, events (edge orchestration)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from controller.kube.client import Kube
from controller.pipeline.apply import needs_apply, with_applied_hash
from controller.service.fetch import V2, fetch_service
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
        if service is None or service["metadata"].get("deletionTimestamp"):
            return  # owned children go with it (garbage collection)
        if (service["metadata"].get("annotations") or {}).get(PAUSED) == "true":
            log.info("Skipped paused AIMService %s/%s", namespace, name)
            return
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

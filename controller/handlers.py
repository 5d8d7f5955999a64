"""kopf wiring (edge layer): watches turn into keys on the work queue; nothing else happens here.

AIMServices are enqueued on every event. Other kinds are mapped to the services that depend on
them through a small in-memory index of each service's references, rebuilt from the service
watch (which kopf lists in full at start-up, so nothing is lost on restart).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import kopf

from controller.pipeline.workqueue import WorkQueue
from controller.settings import ControllerSettings

log = logging.getLogger(__name__)
GROUP = "aim.eai.amd.com"
ServiceKey = tuple[str, str]


@dataclass(frozen=True)
class ServiceReferences:
    model: str
    template: str
    runtime_config: str
    uid: str


class ServiceIndex:
    def __init__(self) -> None:
        self._services: dict[ServiceKey, ServiceReferences] = {}
        self._lock = threading.Lock()

    def update(self, body: dict[str, Any], deleted: bool) -> None:
        metadata = body["metadata"]
        key = (metadata["namespace"], metadata["name"])
        spec = body.get("spec") or {}
        with self._lock:
            if deleted:
                self._services.pop(key, None)
            else:
                self._services[key] = ServiceReferences(
                    model=(spec.get("model") or {}).get("name") or "",
                    template=(spec.get("template") or {}).get("name") or "",
                    runtime_config=(spec.get("runtimeConfigName") or "").strip() or "default",
                    uid=metadata.get("uid", ""),
                )

    def all_keys(self) -> list[ServiceKey]:
        with self._lock:
            return list(self._services)

    def matching(self, namespace: str | None, **wanted: str) -> list[ServiceKey]:
        """Services (in `namespace`, or anywhere for cluster-scoped objects) whose reference
        equals the given value; an empty `wanted` matches all."""
        with self._lock:
            return [
                key
                for key, refs in self._services.items()
                if (namespace is None or key[0] == namespace)
                and all(getattr(refs, field) == value for field, value in wanted.items())
            ]

    def owner(self, namespace: str, owner_uid: str) -> list[ServiceKey]:
        with self._lock:
            return [key for key, refs in self._services.items() if key[0] == namespace and refs.uid == owner_uid]


def register(registry: kopf.OperatorRegistry, queue: WorkQueue[ServiceKey], index: ServiceIndex) -> None:
    def enqueue(keys: list[ServiceKey]) -> None:
        for key in keys:
            queue.add(key)

    @kopf.on.event(GROUP, "v1alpha2", "aimservices", registry=registry)
    def service_changed(body: kopf.Body, type: str | None, **_: Any) -> None:
        index.update(dict(body), deleted=type == "DELETED")
        if type != "DELETED":
            queue.add((body["metadata"]["namespace"], body["metadata"]["name"]))

    def owned_changed(body: kopf.Body, **_: Any) -> None:
        for owner in body["metadata"].get("ownerReferences") or []:
            if owner.get("kind") == "AIMService":
                enqueue(index.owner(body["metadata"]["namespace"], owner.get("uid", "")))

    managed = {"app.kubernetes.io/managed-by": "aim-engine"}
    kopf.on.event("serving.kserve.io", "v1beta1", "inferenceservices", labels=managed, registry=registry)(owned_changed)
    kopf.on.event("gateway.networking.k8s.io", "v1", "httproutes", labels=managed, registry=registry)(owned_changed)

    @kopf.on.event(GROUP, "v1alpha2", "aimmodels", registry=registry)
    def model_changed(body: kopf.Body, **_: Any) -> None:
        # By name, and every service of the namespace for image-based lookups (cheap, de-duplicated).
        enqueue(index.matching(body["metadata"]["namespace"]))

    @kopf.on.event(GROUP, "v1alpha2", "aimclustermodels", registry=registry)
    def cluster_model_changed(body: kopf.Body, **_: Any) -> None:
        enqueue(index.matching(None, model=body["metadata"]["name"]))

    @kopf.on.event(GROUP, "v1alpha1", "aimservicetemplates", registry=registry)
    def template_changed(body: kopf.Body, **_: Any) -> None:
        enqueue(index.matching(body["metadata"]["namespace"]))

    @kopf.on.event(GROUP, "v1alpha1", "aimclusterservicetemplates", registry=registry)
    def cluster_template_changed(body: kopf.Body, **_: Any) -> None:
        enqueue(index.matching(None))

    @kopf.on.event(GROUP, "v1alpha1", "aimruntimeconfigs", registry=registry)
    def runtime_config_changed(body: kopf.Body, **_: Any) -> None:
        enqueue(index.matching(body["metadata"]["namespace"], runtime_config=body["metadata"]["name"]))

    @kopf.on.event(GROUP, "v1alpha1", "aimclusterruntimeconfigs", registry=registry)
    def cluster_runtime_config_changed(body: kopf.Body, **_: Any) -> None:
        enqueue(index.matching(None, runtime_config=body["metadata"]["name"]))

    gpu_fingerprints: dict[str, str] = {}

    @kopf.on.event("", "v1", "nodes", registry=registry)
    def node_changed(body: kopf.Body, type: str | None, **_: Any) -> None:
        # Node status heartbeats are frequent; only GPU labels, GPU capacity and schedulability matter.
        labels = {k: v for k, v in (body["metadata"].get("labels") or {}).items() if "amd.com/gpu" in k}
        allocatable = ((body.get("status") or {}).get("allocatable") or {}).get("amd.com/gpu")
        fingerprint = repr(
            (type == "DELETED", sorted(labels.items()), allocatable, (body.get("spec") or {}).get("unschedulable"))
        )
        name = body["metadata"]["name"]
        if gpu_fingerprints.get(name) != fingerprint:
            gpu_fingerprints[name] = fingerprint
            enqueue(index.matching(None, template=""))  # only auto-selecting services depend on GPUs


def configure(settings: kopf.OperatorSettings, controller: ControllerSettings) -> None:
    settings.watching.server_timeout = controller.watch_server_timeout
    settings.watching.client_timeout = controller.watch_client_timeout
    settings.posting.level = logging.WARNING  # kopf's own k8s events only for problems; ours are explicit
    settings.persistence.finalizer = "aim.eai.amd.com/kopf-finalizer"

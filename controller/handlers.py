"""kopf wiring (edge layer): watches turn into keys on the work queue; nothing else happens here.

Every reconciled kind is enqueued on its own events. Other kinds are mapped to the objects that
depend on them: services through a small in-memory index of each service's references, rebuilt
from the service watch (which kopf lists in full at start-up, so nothing is lost on restart);
templates, caches and artifacts through names, labels and owner references on the event itself.
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
TEMPLATE_CACHE_LABEL = "aim.eai.amd.com/template-cache.name"
PROFILE_CACHE_LABEL = "aim.eai.amd.com/profile-cache.name"
ACCELERATOR_LABEL_PREFIX = "feature.node.kubernetes.io/aim-accelerator."
MODEL_SOURCE_LABEL = "aim.eai.amd.com/model-source"
KSERVE_GROUP = "serving.kserve.io"
GATEWAY_GROUP = "gateway.networking.k8s.io"
THIRD_PARTY_GROUPS = (KSERVE_GROUP, GATEWAY_GROUP)
"""Watched kinds whose CRDs other projects install, possibly after this controller (crdwatch)."""
RECONCILED = (
    ("AIMServiceTemplate", "v1alpha1", "aimservicetemplates"),
    ("AIMClusterServiceTemplate", "v1alpha1", "aimclusterservicetemplates"),
    ("AIMTemplateCache", "v1alpha1", "aimtemplatecaches"),
    ("AIMArtifact", "v1alpha1", "aimartifacts"),
    ("AIMClusterModelSource", "v1alpha1", "aimclustermodelsources"),
    ("AIMModel", "v1alpha2", "aimmodels"),
    ("AIMClusterModel", "v1alpha2", "aimclustermodels"),
    ("AIMProfile", "v1alpha2", "aimprofiles"),
    ("AIMClusterProfile", "v1alpha2", "aimclusterprofiles"),
    ("AIMProfileCache", "v1alpha2", "aimprofilecaches"),
)
"""Kinds with a reconciler of their own besides AIMService (kind, served version, plural)."""
ServiceKey = tuple[str, str]
ObjectKey = tuple[str, str, str]
"""(kind, namespace, name); namespace is "" for cluster-scoped kinds."""


@dataclass(frozen=True)
class ServiceReferences:
    model: str
    template: str
    runtime_config: str
    uid: str
    profile: str = ""


class ServiceIndex:
    def __init__(self) -> None:
        self._services: dict[ServiceKey, ServiceReferences] = {}
        self._others: set[ObjectKey] = set()
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
                    profile=(spec.get("profile") or {}).get("name") or "",
                )

    def all_keys(self) -> list[ObjectKey]:
        """Every known object of every reconciled kind (services included), for resyncs."""
        with self._lock:
            return [("AIMService", *key) for key in self._services] + sorted(self._others)

    def track(self, key: ObjectKey, deleted: bool) -> None:
        with self._lock:
            if deleted:
                self._others.discard(key)
            else:
                self._others.add(key)

    def tracked(self, kind: str, namespace: str | None = None) -> list[ObjectKey]:
        with self._lock:
            return [k for k in self._others if k[0] == kind and (namespace is None or k[1] == namespace)]

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


def register(registry: kopf.OperatorRegistry, queue: WorkQueue[ObjectKey], index: ServiceIndex) -> None:
    def services(keys: list[ServiceKey]) -> None:
        for namespace, name in keys:
            queue.add(("AIMService", namespace, name))

    def reconciled(kind: str, version: str, plural: str) -> None:
        """The kind's own events enqueue the object itself."""

        def changed(body: kopf.Body, type: str | None, **_: Any) -> None:
            key = (kind, body["metadata"].get("namespace") or "", body["metadata"]["name"])
            index.track(key, deleted=type == "DELETED")
            if type != "DELETED":
                queue.add(key)

        kopf.on.event(GROUP, version, plural, registry=registry)(changed)

    def owners(body: kopf.Body, kind: str) -> list[ObjectKey]:
        namespace = body["metadata"].get("namespace") or ""
        return [
            (kind, namespace, ref["name"])
            for ref in body["metadata"].get("ownerReferences") or []
            if ref.get("kind") == kind
        ]

    @kopf.on.event(GROUP, "v1alpha2", "aimservices", registry=registry)
    def service_changed(body: kopf.Body, type: str | None, **_: Any) -> None:
        index.update(dict(body), deleted=type == "DELETED")
        if type != "DELETED":
            queue.add(("AIMService", body["metadata"]["namespace"], body["metadata"]["name"]))

    def owned_changed(body: kopf.Body, **_: Any) -> None:
        for owner in body["metadata"].get("ownerReferences") or []:
            if owner.get("kind") == "AIMService":
                services(index.owner(body["metadata"]["namespace"], owner.get("uid", "")))

    managed = {"app.kubernetes.io/managed-by": "aim-engine"}
    kopf.on.event(KSERVE_GROUP, "v1beta1", "inferenceservices", labels=managed, registry=registry)(owned_changed)
    kopf.on.event(GATEWAY_GROUP, "v1", "httproutes", labels=managed, registry=registry)(owned_changed)

    for kind, version, plural in RECONCILED:
        reconciled(kind, version, plural)

    def templates_of_model(model: str, namespace: str | None) -> None:
        # Namespaced templates see namespaced and cluster models; cluster templates only cluster ones.
        for key in index.tracked("AIMServiceTemplate", namespace):
            queue.add(key)
        for key in index.tracked("AIMClusterServiceTemplate"):
            queue.add(key)

    @kopf.on.event(GROUP, "v1alpha2", "aimmodels", registry=registry)
    def model_changed(body: kopf.Body, **_: Any) -> None:
        # By name, and every service of the namespace for image-based lookups (cheap, de-duplicated).
        services(index.matching(body["metadata"]["namespace"]))
        templates_of_model(body["metadata"]["name"], body["metadata"]["namespace"])

    @kopf.on.event(GROUP, "v1alpha2", "aimclustermodels", registry=registry)
    def cluster_model_changed(body: kopf.Body, **_: Any) -> None:
        services(index.matching(None, model=body["metadata"]["name"]))
        templates_of_model(body["metadata"]["name"], None)
        source = (body["metadata"].get("labels") or {}).get(MODEL_SOURCE_LABEL)
        if source:  # the source counts its models and how many are Ready
            queue.add(("AIMClusterModelSource", "", source))

    def caches_of_template(name: str, namespace: str | None) -> None:
        for key in index.tracked("AIMTemplateCache", namespace):
            queue.add(key)

    def models_of_template(body: kopf.Body) -> None:
        # The owning model aggregates its templates' status; a template of an AIM family may be
        # copied by fine-tuned models of that family anywhere.
        for kind in ("AIMModel", "AIMClusterModel"):
            for key in owners(body, kind):
                queue.add(key if kind == "AIMModel" else (kind, "", key[2]))
        if (body.get("spec") or {}).get("aimId"):
            for kind in ("AIMModel", "AIMClusterModel"):
                for key in index.tracked(kind):
                    queue.add(key)

    @kopf.on.event(GROUP, "v1alpha1", "aimservicetemplates", registry=registry)
    def template_changed(body: kopf.Body, **_: Any) -> None:
        services(index.matching(body["metadata"]["namespace"]))
        caches_of_template(body["metadata"]["name"], body["metadata"]["namespace"])
        models_of_template(body)

    @kopf.on.event(GROUP, "v1alpha1", "aimclusterservicetemplates", registry=registry)
    def cluster_template_changed(body: kopf.Body, **_: Any) -> None:
        services(index.matching(None))
        caches_of_template(body["metadata"]["name"], None)
        models_of_template(body)

    cache_states: dict[tuple[str, str], str] = {}

    @kopf.on.event(GROUP, "v1alpha1", "aimtemplatecaches", registry=registry)
    def template_cache_changed(body: kopf.Body, type: str | None, **_: Any) -> None:
        # Shared caches serve every service of the namespace that resolved their template; the
        # services care about the cache's state and the volumes it lists, not each progress write.
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        status = body.get("status") or {}
        fingerprint = repr((type == "DELETED", status.get("status"), sorted(status.get("artifacts") or {})))
        if cache_states.get(key) == fingerprint:
            return
        cache_states[key] = fingerprint
        if type == "DELETED":
            cache_states.pop(key, None)
        services(index.matching(body["metadata"]["namespace"]))

    @kopf.on.event(GROUP, "v1alpha1", "aimartifacts", registry=registry)
    def artifact_changed(body: kopf.Body, **_: Any) -> None:
        labels = body["metadata"].get("labels") or {}
        for kind, label in (("AIMTemplateCache", TEMPLATE_CACHE_LABEL), ("AIMProfileCache", PROFILE_CACHE_LABEL)):
            if labels.get(label):
                queue.add((kind, body["metadata"]["namespace"], labels[label]))
            for key in owners(body, kind):
                queue.add(key)

    @kopf.on.event(GROUP, "v1alpha2", "aimprofiles", registry=registry)
    def profile_changed(body: kopf.Body, **_: Any) -> None:
        namespace = body["metadata"]["namespace"]
        services(index.matching(namespace, profile=body["metadata"]["name"]))
        for key in index.tracked("AIMProfileCache", namespace):
            queue.add(key)

    @kopf.on.event(GROUP, "v1alpha2", "aimclusterprofiles", registry=registry)
    def cluster_profile_changed(body: kopf.Body, **_: Any) -> None:
        services(index.matching(None, profile=body["metadata"]["name"]))
        for key in index.tracked("AIMProfileCache"):
            queue.add(key)

    @kopf.on.event(GROUP, "v1alpha2", "aimprofilecaches", registry=registry)
    def profile_cache_changed(body: kopf.Body, **_: Any) -> None:
        # Services wait for it; a profile-owned one is re-applied by its profile when changed or deleted.
        profile = (body.get("spec") or {}).get("profileName") or ""
        services(index.matching(body["metadata"]["namespace"], profile=profile))
        for key in owners(body, "AIMProfile"):
            queue.add(key)

    @kopf.on.event("batch", "v1", "jobs", labels={"app.kubernetes.io/component": "discovery"}, registry=registry)
    def discovery_job_changed(body: kopf.Body, **_: Any) -> None:
        # Namespaced templates own their discovery Jobs; a cluster template's Job runs in the
        # operator's namespace, unowned, and names the template in a label.
        owned = owners(body, "AIMServiceTemplate")
        for key in owned:
            queue.add(key)
        template = (body["metadata"].get("labels") or {}).get("aim.eai.amd.com/template")
        if template and not owned:
            queue.add(("AIMClusterServiceTemplate", "", template))

    def artifact_children_changed(body: kopf.Body, **_: Any) -> None:
        for key in owners(body, "AIMArtifact"):
            queue.add(key)

    artifact_owned = {"aim.eai.amd.com/cache.type": "artifact"}
    kopf.on.event("batch", "v1", "jobs", labels=artifact_owned, registry=registry)(artifact_children_changed)
    kopf.on.event("", "v1", "persistentvolumeclaims", labels=artifact_owned, registry=registry)(
        artifact_children_changed
    )

    def configs_changed(namespace: str | None) -> None:
        for kind in ("AIMServiceTemplate", "AIMTemplateCache", "AIMArtifact", "AIMModel"):
            for key in index.tracked(kind, namespace):
                queue.add(key)
        for kind in ("AIMClusterServiceTemplate", "AIMClusterModel"):
            for key in index.tracked(kind):
                queue.add(key)

    @kopf.on.event(GROUP, "v1alpha1", "aimruntimeconfigs", registry=registry)
    def runtime_config_changed(body: kopf.Body, **_: Any) -> None:
        services(index.matching(body["metadata"]["namespace"], runtime_config=body["metadata"]["name"]))
        configs_changed(body["metadata"]["namespace"])

    @kopf.on.event(GROUP, "v1alpha1", "aimclusterruntimeconfigs", registry=registry)
    def cluster_runtime_config_changed(body: kopf.Body, **_: Any) -> None:
        services(index.matching(None, runtime_config=body["metadata"]["name"]))
        configs_changed(None)

    gpu_fingerprints: dict[str, str] = {}

    @kopf.on.event("", "v1", "nodes", registry=registry)
    def node_changed(body: kopf.Body, type: str | None, **_: Any) -> None:
        # Node status heartbeats are frequent; only GPU and accelerator labels, allocatable resources
        # and schedulability matter.
        labels = {
            k: v
            for k, v in (body["metadata"].get("labels") or {}).items()
            if "amd.com/gpu" in k or k.startswith(ACCELERATOR_LABEL_PREFIX)
        }
        allocatable = sorted(((body.get("status") or {}).get("allocatable") or {}).items())
        fingerprint = repr(
            (type == "DELETED", sorted(labels.items()), allocatable, (body.get("spec") or {}).get("unschedulable"))
        )
        name = body["metadata"]["name"]
        if gpu_fingerprints.get(name) != fingerprint:
            gpu_fingerprints[name] = fingerprint
            services(index.matching(None, template=""))  # only auto-selecting services depend on GPUs
            for kind in ("AIMServiceTemplate", "AIMClusterServiceTemplate", "AIMProfile", "AIMClusterProfile"):
                for key in index.tracked(kind):
                    queue.add(key)


def configure(settings: kopf.OperatorSettings, controller: ControllerSettings) -> None:
    settings.watching.server_timeout = controller.watch_server_timeout
    settings.watching.client_timeout = controller.watch_client_timeout
    settings.posting.level = logging.WARNING  # kopf's own k8s events only for problems; ours are explicit
    settings.persistence.finalizer = "aim.eai.amd.com/kopf-finalizer"

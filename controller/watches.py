"""Which objects an event concerns (pure): watched objects in, work-queue keys out.

Every reconciled kind lists, in its descriptor (controller.kinds), the watches that enqueue it:
its own events, and events of the objects it depends on mapped to keys by the functions here.
Services are found through `ServiceIndex`, a small in-memory index of each service's
references, rebuilt from the service watch (which kopf lists in full at start-up, so nothing is
lost on restart); other kinds through names, labels and owner references on the event itself, or
through the set of known objects the index also tracks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from api import labels
from api.naming import rfc1123
from api.v1alpha1.aimartifact import ArtifactType
from api.v1alpha1.aimruntimeconfig import DEFAULT_CONFIG_NAME
from api.v1alpha1.aimservice import adapters_enabled
from controller.common.kserve_events import KServeWarnings

ObjectKey = tuple[str, str, str]
"""(kind, namespace, name); namespace is "" for cluster-scoped kinds."""
ServiceKey = tuple[str, str]
SERVICE = "AIMService"


@dataclass(frozen=True)
class Resource:
    """A watched resource, optionally narrowed by a label selector (kopf filters by it)."""

    group: str
    version: str
    plural: str
    labels: tuple[tuple[str, str], ...] = ()
    stored: bool = True
    """Kept in the controller's in-memory store when watched in full; not for events, of which
    the watch reads only a few."""
    fields: str = ""
    """A field selector the API server applies to the watch, for a resource the controller reads
    only a sliver of (events)."""


@dataclass(frozen=True)
class Event:
    body: Mapping[str, Any]
    deleted: bool = False

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.body["metadata"].get("namespace") or "")

    @property
    def labels(self) -> Mapping[str, str]:
        return self.body["metadata"].get("labels") or {}

    @property
    def spec(self) -> Mapping[str, Any]:
        return self.body.get("spec") or {}

    def owners(self, kind: str, cluster: bool = False) -> list[ObjectKey]:
        """Keys of the event object's owners of `kind` (in its namespace; "" for `cluster` kinds)."""
        return [
            (kind, "" if cluster else self.namespace, ref["name"])
            for ref in self.body["metadata"].get("ownerReferences") or []
            if ref.get("kind") == kind
        ]


@dataclass(frozen=True)
class ServiceReferences:
    model: str
    template: str
    runtime_config: str
    uid: str
    profile: str = ""
    adapters: bool = False
    """Serves LoRA adapters (or has some to prune): artifact changes concern it."""


class ServiceIndex:
    """Each service's references, and the keys of every other reconciled object seen."""

    def __init__(self, kserve_warnings: KServeWarnings | None = None) -> None:
        self._services: dict[ServiceKey, ServiceReferences] = {}
        self._others: set[ObjectKey] = set()
        self._lock = threading.Lock()
        self.kserve_warnings = kserve_warnings or KServeWarnings()

    def update(self, body: Mapping[str, Any], deleted: bool) -> None:
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
                    runtime_config=(spec.get("runtimeConfigName") or "").strip() or DEFAULT_CONFIG_NAME,
                    uid=metadata.get("uid", ""),
                    profile=(spec.get("profile") or {}).get("name") or "",
                    adapters=serves_adapters(body),
                )

    def all_keys(self) -> list[ObjectKey]:
        """Every known object of every reconciled kind (services included), for resyncs."""
        with self._lock:
            return [(SERVICE, *key) for key in self._services] + sorted(self._others)

    def track(self, key: ObjectKey, deleted: bool) -> None:
        with self._lock:
            if deleted:
                self._others.discard(key)
            else:
                self._others.add(key)

    def tracked(self, kind: str, namespace: str | None = None) -> list[ObjectKey]:
        with self._lock:
            return sorted(k for k in self._others if k[0] == kind and (namespace is None or k[1] == namespace))

    def matching(self, namespace: str | None, **wanted: str) -> list[ObjectKey]:
        """Services (in `namespace`, or anywhere for cluster-scoped objects) whose reference
        equals the given value; an empty `wanted` matches all."""
        with self._lock:
            return [
                (SERVICE, *key)
                for key, refs in self._services.items()
                if (namespace is None or key[0] == namespace)
                and all(getattr(refs, name) == value for name, value in wanted.items())
            ]

    def with_adapters(self, namespace: str) -> list[ObjectKey]:
        with self._lock:
            return [(SERVICE, *key) for key, refs in self._services.items() if key[0] == namespace and refs.adapters]

    def owned_by(self, namespace: str, owner_uid: str) -> list[ObjectKey]:
        with self._lock:
            return [
                (SERVICE, *key) for key, refs in self._services.items() if key[0] == namespace and refs.uid == owner_uid
            ]


ToKeys = Callable[[Event, ServiceIndex], Iterable[ObjectKey]]


@dataclass(frozen=True)
class Watch:
    """Events of `resource` enqueue the keys `to_keys` returns. With a `fingerprint`, an event
    whose fingerprint equals the previous one of the same object enqueues nothing (frequent
    writes that do not matter to the target, such as node heartbeats or download progress)."""

    resource: Resource
    to_keys: ToKeys
    fingerprint: Callable[[Event], str] | None = None


@dataclass
class Deduplicated:
    """The fingerprints last seen per object for one watch (state at the edge, logic here)."""

    watch: Watch
    seen: dict[tuple[str, str], str] = field(default_factory=dict)

    def keys(self, event: Event, index: ServiceIndex) -> list[ObjectKey]:
        if self.watch.fingerprint is not None:
            key = (event.namespace, event.name)
            fingerprint = self.watch.fingerprint(event)
            if self.seen.get(key) == fingerprint:
                return []
            if event.deleted:
                self.seen.pop(key, None)
            else:
                self.seen[key] = fingerprint
        return list(self.watch.to_keys(event, index))


def aim(plural: str, version: str) -> Resource:
    return Resource(labels.GROUP, version, plural)


def managed(group: str, version: str, plural: str) -> Resource:
    return Resource(group, version, plural, ((labels.MANAGED_BY, labels.MANAGED_BY_VALUE),))


# --- fingerprints ----------------------------------------------------------------------------------


def cache_fingerprint(event: Event) -> str:
    """Services care about a shared cache's state and the volumes it lists, not each progress write."""
    status = event.body.get("status") or {}
    return repr((event.deleted, status.get("status"), sorted(status.get("artifacts") or {})))


def scaled_object_fingerprint(event: Event) -> str:
    """What a service reads of its ScaledObject: KEDA's verdicts (Ready, Active), not the
    lastActiveTime KEDA rewrites on every poll while a trigger fires."""
    status = event.body.get("status") or {}
    conditions = sorted((c.get("type"), c.get("status"), c.get("reason")) for c in status.get("conditions") or [])
    return repr((event.deleted, event.body["metadata"].get("generation"), conditions))


def hpa_fingerprint(event: Event) -> str:
    """What a service reads of KEDA's HPA: the replica counts it decided and its conditions."""
    status = event.body.get("status") or {}
    conditions = sorted((c.get("type"), c.get("status"), c.get("reason")) for c in status.get("conditions") or [])
    return repr((event.deleted, status.get("desiredReplicas"), status.get("currentReplicas"), conditions))


def pod_fingerprint(event: Event) -> str:
    """What a service reads of a predictor pod: phase, readiness, scheduling, container states."""
    status = event.body.get("status") or {}
    conditions = sorted((c.get("type"), c.get("status"), c.get("reason")) for c in status.get("conditions") or [])
    containers = sorted(
        (
            c.get("name"),
            sorted((c.get("state") or {}).keys()),
            ((c.get("state") or {}).get("waiting") or {}).get("reason"),
        )
        for c in status.get("containerStatuses") or []
    )
    deleting = bool(event.body["metadata"].get("deletionTimestamp"))
    return repr((event.deleted, deleting, status.get("phase"), conditions, containers))


def gpu_fingerprint(event: Event) -> str:
    """What GPU placement reads of a node: GPU and accelerator labels, allocatable resources,
    schedulability (not heartbeats)."""
    gpu_labels = sorted(
        (k, v) for k, v in event.labels.items() if "amd.com/gpu" in k or k.startswith(labels.ACCELERATOR_PREFIX)
    )
    allocatable = sorted(((event.body.get("status") or {}).get("allocatable") or {}).items())
    return repr((event.deleted, gpu_labels, allocatable, event.spec.get("unschedulable")))


# --- to keys ---------------------------------------------------------------------------------------


def itself(kind: str) -> ToKeys:
    """A reconciled kind's own events enqueue the object (not once it is deleted: nothing is left)."""

    def to_keys(event: Event, index: ServiceIndex) -> list[ObjectKey]:
        return [] if event.deleted else [(kind, event.namespace, event.name)]

    return to_keys


def owners(*kinds: str) -> ToKeys:
    def to_keys(event: Event, index: ServiceIndex) -> list[ObjectKey]:
        return [key for kind in kinds for key in event.owners(kind)]

    return to_keys


def tracked(kind: str, same_namespace: bool = True) -> ToKeys:
    """Every known object of `kind`: of the event's namespace when `same_namespace` and the
    event's object is namespaced, otherwise all of them (a cluster object concerns every namespace)."""

    def to_keys(event: Event, index: ServiceIndex) -> list[ObjectKey]:
        return index.tracked(kind, event.namespace if same_namespace and event.namespace else None)

    return to_keys


def caches_a_service_left(kind: str) -> ToKeys:
    """A service being deleted (or gone) may leave a Shared cache nothing uses: the caches of
    `kind` in its namespace look again (controller.common.caching.abandoned). Any other service
    event enqueues nothing, so a rollout costs the caches no reconcile."""

    def to_keys(event: Event, index: ServiceIndex) -> list[ObjectKey]:
        if not (event.deleted or event.body["metadata"].get("deletionTimestamp")):
            return []
        return index.tracked(kind, event.namespace)

    return to_keys


def services_of_namespace(event: Event, index: ServiceIndex) -> list[ObjectKey]:
    """Every service of the event's namespace, or of the cluster for a cluster-scoped object
    (for lookups by image or auto-selection, which a name alone cannot narrow; cheap, and the
    work queue de-duplicates)."""
    return index.matching(event.namespace or None)


def services_referring(field_name: str, of: Callable[[Event], str] = lambda e: e.name) -> ToKeys:
    """Services of the namespace (any, for a cluster object) whose reference `field_name` names it."""

    def to_keys(event: Event, index: ServiceIndex) -> list[ObjectKey]:
        return index.matching(event.namespace or None, **{field_name: of(event)})

    return to_keys


def serves_adapters(body: Mapping[str, Any]) -> bool:
    """A service with adapters declared, in dynamic mode, or with adapters still to prune."""
    return adapters_enabled(body.get("spec") or {}) or bool((body.get("status") or {}).get("adapters"))


def services_with_adapters(event: Event, index: ServiceIndex) -> list[ObjectKey]:
    """An artifact's lineage, readiness or adapter disk concerns the services with adapters."""
    return index.with_adapters(event.namespace)


def adapter_artifact_fingerprint(event: Event) -> str:
    status = event.body.get("status") or {}
    spec = event.spec
    return repr(
        (
            event.deleted,
            spec.get("type"),
            spec.get("adapterDisk") is not None,
            spec.get("parentArtifact"),
            status.get("status"),
            status.get("adapterPersistentVolumeClaim"),
            status.get("adapterPath"),
        )
    )


def artifacts_of_adapter_service(event: Event, index: ServiceIndex) -> list[ObjectKey]:
    """A service with adapters created or deleted changes which subtrees a model artifact's
    reaper keeps: the namespace's artifacts look again (those without an adapter disk do nothing)."""
    return index.tracked("AIMArtifact", event.namespace) if serves_adapters(event.body) else []


def adapters_of_parent(event: Event, index: ServiceIndex) -> list[ObjectKey]:
    """A model artifact's changes concern the adapters of its namespace (few; their planner
    checks the lineage)."""
    if event.spec.get("type") == ArtifactType.ADAPTER or (event.spec.get("adapterDisk") is None and not event.deleted):
        return []
    return index.tracked("AIMArtifact", event.namespace)


def adapter_service_fingerprint(event: Event) -> str:
    return repr((event.deleted, event.body["metadata"].get("uid"), serves_adapters(event.body)))


def services_owning(event: Event, index: ServiceIndex) -> list[ObjectKey]:
    return [
        key
        for owner in event.body["metadata"].get("ownerReferences") or []
        if owner.get("kind") == SERVICE
        for key in index.owned_by(event.namespace, owner.get("uid", ""))
    ]


def services_of_pod(event: Event, index: ServiceIndex) -> list[ObjectKey]:
    """A pod KServe made for a service's InferenceService carries the service's label (KServe
    copies the InferenceService's labels to its pods), and so does the HPA KEDA makes for its
    ScaledObject (KEDA copies the ScaledObject's labels)."""
    label = event.labels.get(labels.OWNER_NAME[SERVICE])
    if not label or not event.namespace:
        return []
    return [key for key in index.matching(event.namespace) if rfc1123(key[2]) == label]


def services_warned_by_kserve(event: Event, index: ServiceIndex) -> list[ObjectKey]:
    """A fatal KServe warning on an InferenceService concerns the services of its namespace (the
    event names the InferenceService, not its owner; such events are rare). Every other event
    concerns nothing."""
    concerned = index.kserve_warnings.observe(event.body, event.deleted)
    return index.matching(concerned[0]) if concerned else []


def auto_selecting_services(event: Event, index: ServiceIndex) -> list[ObjectKey]:
    """Only services that select their template themselves depend on the cluster's GPUs."""
    return index.matching(None, template="")


def profile_cache_services(event: Event, index: ServiceIndex) -> list[ObjectKey]:
    return index.matching(event.namespace, profile=str(event.spec.get("profileName") or ""))


def models_of_template(kind: str, cluster: bool) -> ToKeys:
    """The model a template names (in its scope: a namespaced template's AIMModel in its namespace, a
    cluster template's AIMClusterModel) and its owning model aggregate its status; a template of an
    AIM family (spec.aimId) may be copied by fine-tuned models of that family anywhere."""

    def to_keys(event: Event, index: ServiceIndex) -> list[ObjectKey]:
        named = str(event.spec.get("modelName") or "")
        same_scope = cluster != bool(event.namespace)
        keys = [(kind, event.namespace, named)] if named and same_scope else []
        return keys + event.owners(kind, cluster) + (index.tracked(kind) if event.spec.get("aimId") else [])

    return to_keys


def source_of_model(event: Event, index: ServiceIndex) -> list[ObjectKey]:
    """A model source counts its models and how many are Ready."""
    source = event.labels.get(labels.MODEL_SOURCE)
    return [("AIMClusterModelSource", "", source)] if source else []


PROFILE_SET_KINDS = ("AIMProfileSet", "AIMClusterProfileSet")


def profile_sets_of_profile(set_kind: str) -> ToKeys:
    """A profile a set derived concerns only the set owning it (its status is counted). Any other
    profile may be a source of every set that can see it: a namespaced profile of the sets of its
    namespace, a cluster profile of every set (namespaced sets fall back to cluster profiles).
    Whether it matches a selector is the planner's business; the work queue de-duplicates."""
    cluster = set_kind == "AIMClusterProfileSet"

    def to_keys(event: Event, index: ServiceIndex) -> list[ObjectKey]:
        owners = event.body["metadata"].get("ownerReferences") or []
        if any(ref.get("kind") in PROFILE_SET_KINDS for ref in owners):
            return event.owners(set_kind, cluster=cluster)
        return index.tracked(set_kind, event.namespace or None)

    return to_keys


def caches_of_artifact(cache_kind: str, label: str) -> ToKeys:
    """A cache's artifacts name it in a label (Shared, unowned) or own it (Dedicated); an artifact
    a user created (neither) may be adopted by any cache of its namespace, which looks again."""

    def to_keys(event: Event, index: ServiceIndex) -> list[ObjectKey]:
        named = [(cache_kind, event.namespace, event.labels[label])] if event.labels.get(label) else []
        owners = event.owners(cache_kind)
        if named or owners or event.labels.get(labels.MANAGED_BY) == labels.MANAGED_BY_VALUE:
            return named + owners
        return index.tracked(cache_kind, event.namespace)

    return to_keys


def artifacts_listed(event: Event, index: ServiceIndex) -> list[ObjectKey]:
    """The artifacts a template or profile cache lists in its status (also when it is deleted:
    they may then be unreferenced)."""
    listed = (event.body.get("status") or {}).get("artifacts") or {}
    return [("AIMArtifact", event.namespace, str((entry or {}).get("name") or name)) for name, entry in listed.items()]


def cluster_template_of_discovery_job(event: Event, index: ServiceIndex) -> list[ObjectKey]:
    """Namespaced templates own their discovery Jobs; a cluster template's Job runs in the
    operator's namespace, unowned, and names the template in a label."""
    template = event.labels.get(labels.TEMPLATE)
    if template and not event.owners("AIMServiceTemplate"):
        return [("AIMClusterServiceTemplate", "", template)]
    return []

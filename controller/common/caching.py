"""Caches of model sources, shared by template caches (controller.cache) and profile caches
(controller.profilecache) (pure): one AIMArtifact per source, reused across caches of a namespace
when Shared, owned when Dedicated; their aggregate health and the status map; clean-up of the
artifacts a deleted cache created that never became Ready."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from api import labels, naming
from api.conditions import ConditionType, Reason
from api.naming import rfc1123
from api.objects import AnyObject, as_stored, wire
from api.v1alpha1 import common as v1alpha1
from api.v1alpha1.aimartifact import AIMArtifact, ArtifactType
from api.v1alpha1.aimservice import adapters_enabled
from api.v1alpha1.aimtemplatecache import AIMTemplateCache
from api.v1alpha1.common import CacheMode, LifecycleStatus
from api.v1alpha2 import common as v1alpha2
from api.v1alpha2.aimprofilecache import AIMProfileCache
from controller.common.runtimeconfig import merge_env
from controller.pipeline.components import Component
from controller.pipeline.objects import child_labels, managed, manifest, with_present
from controller.pipeline.plan import Event, ObjectRef, Plan, object_ref, owned_by, severity_rank, worst

AnyCache = AIMTemplateCache | AIMProfileCache
ModelSource = v1alpha1.ModelSource | v1alpha2.ModelSource
"""A template's (v1alpha1) or a profile's (v1alpha2) model source."""

CacheT = TypeVar("CacheT", AIMTemplateCache, AIMProfileCache)
SourceT = TypeVar("SourceT", bound=AnyObject)


@dataclass(frozen=True)
class ServiceUse:
    """What the caches and artifacts of a namespace need to know of one of its AIMServices. Read
    from the stored service (service_use), not through its API model: a reconcile that reads every
    service of its namespace this way takes about 1.5 µs per service against 27 µs for parsing a
    running service whole (a test checks they are the fields the model reads)."""

    uid: str
    deleting: bool
    template_cache: str | None = None
    """status.cache.templateCacheRef.name: the template cache it uses."""
    profile: str | None = None
    """spec.profile.name: the profile whose cache it uses."""
    adapters: bool = False
    """It serves adapters (spec) or has some on disk (status.adapters)."""
    label: str = ""
    """Its name as the `aim.eai.amd.com/service` label of the Shared caches it creates carries it."""


def service_use(service: Mapping[str, Any]) -> ServiceUse:
    """The few fields of an AIMService (as the API server sends it) that caches and artifacts read."""
    metadata = service["metadata"]
    spec = service.get("spec") or {}
    status = service.get("status") or {}
    return ServiceUse(
        uid=str(metadata.get("uid") or ""),
        deleting=bool(metadata.get("deletionTimestamp")),
        template_cache=((status.get("cache") or {}).get("templateCacheRef") or {}).get("name"),
        profile=(spec.get("profile") or {}).get("name"),
        adapters=adapters_enabled(spec) or bool(status.get("adapters")),
        label=rfc1123(str(metadata.get("name") or "")),
    )


@dataclass
class CacheObservation(Generic[CacheT, SourceT]):
    """What a template or profile cache's reconcile observed (filled by its fetch step). The
    planners see it typed: CacheObservation[AIMTemplateCache, AnyServiceTemplate]
    or CacheObservation[AIMProfileCache, AnyProfile]."""

    cache: CacheT
    """An AIMTemplateCache (v1alpha1) or AIMProfileCache (v1alpha2)."""
    source: SourceT | None
    """The template or profile whose model sources the cache holds (spec.templateName or
    spec.profileName in its scope), when it exists."""
    artifacts: list[AIMArtifact] = field(default_factory=list)
    """Every AIMArtifact in the cache's namespace: read (their states), and what the artifacts the
    plan applies are compared with (existing() gives them as stored)."""
    namespace_terminating: bool = False
    services: list[ServiceUse] | None = None
    """The services of the cache's namespace, read only when the cache could be abandoned
    (may_be_abandoned); None otherwise."""

    def existing(self, kind: str, name: str) -> dict[str, Any] | None:
        if kind != "AIMArtifact":
            return None
        stored = (as_stored(a) for a in self.artifacts)
        return next((dict(a) for a in stored if a["metadata"]["name"] == name), None)


artifact_name = naming.artifact_name


def artifact_state(artifact: AIMArtifact | None) -> LifecycleStatus:
    """Its status.status; Pending until its controller wrote one."""
    return artifact.status.status if artifact is not None and artifact.status is not None else LifecycleStatus.PENDING


def _usable(artifact: AIMArtifact, cache: AnyCache, source_uri: str) -> bool:
    spec = cache.spec
    # Its controller has written a status (an artifact just created is applied again until then).
    if artifact.spec.source_uri != source_uri or artifact.status is None or not artifact.status.model_fields_set:
        return False
    if artifact.spec.type != ArtifactType.MODEL:
        return False  # an adapter is staged per service, never a model's cache
    if spec.storage_class_name and artifact.spec.storage_class_name != spec.storage_class_name:
        return False
    if spec.mode == CacheMode.DEDICATED:
        return owned_by(artifact, cache.uid)
    return not artifact.metadata.get("ownerReferences")


def best_artifact(artifacts: list[AIMArtifact], cache: AnyCache, source_uri: str) -> AIMArtifact | None:
    usable = [a for a in artifacts if _usable(a, cache, source_uri)]
    return max(usable, key=lambda a: (severity_rank(artifact_state(a)), a.name), default=None)


def plan_artifact(cache: AnyCache, source: ModelSource, origin: dict[str, str]) -> dict[str, Any]:
    """The AIMArtifact for one model source of a (template or profile) cache; the `origin` labels
    name where it came from, including the cache whose finalizer cleans it up."""
    spec = cache.spec
    dedicated = spec.mode == CacheMode.DEDICATED
    env = merge_env(wire(spec.env or []), wire(source.env or []))
    storage_class = spec.storage_class_name or ""
    name = artifact_name(source.source_uri, env, storage_class, cache.name if dedicated else "")
    # Only a template cache names a runtime config, a download image and pull secrets.
    template_cache = cache.spec if isinstance(cache, AIMTemplateCache) else None
    artifact_spec = with_present(
        {"sourceUri": source.source_uri, "modelId": source.model_id},
        storageClassName=storage_class,
        size=source.size,
        env=env,
        runtimeConfigName=template_cache.runtime_config_name if template_cache else None,
        modelDownloadImage=template_cache.download_image if template_cache else None,
        imagePullSecrets=wire(template_cache.image_pull_secrets) if template_cache else None,
    )
    return manifest(
        labels.V1ALPHA1,
        "AIMArtifact",
        name,
        cache.namespace,
        object_labels=child_labels(cache, managed(origin)),
        owner=cache if dedicated else None,
        spec=artifact_spec,
    )


ArtifactEntry = tuple[AIMArtifact | None, str]
"""An artifact serving one model source (None until it exists) and the source's modelId."""


def resolve_artifacts(
    cache: AnyCache,
    artifacts: list[AIMArtifact],
    sources: Sequence[ModelSource],
    origin: Callable[[int], dict[str, str]],
) -> tuple[list[ArtifactEntry], list[dict[str, Any]]]:
    """The best usable artifact per source, and the artifacts to apply for sources that have none
    (labelled `origin(index of the source)`)."""
    entries: list[ArtifactEntry] = []
    desired: list[dict[str, Any]] = []
    for index, source in enumerate(sources):
        found = best_artifact(artifacts, cache, source.source_uri)
        if found is None:
            planned = plan_artifact(cache, source, origin(index))
            desired.append(planned)
            found = next((a for a in artifacts if a.name == planned["metadata"]["name"]), None)
        entries.append((found, source.model_id))
    return entries, desired


def artifacts_component(entries: list[ArtifactEntry], owner: str) -> Component:
    """ArtifactsReady; `owner` ("template", "profile") names what should have had model sources."""
    condition = ConditionType.ARTIFACTS_READY
    if not entries:
        return Component(condition, LifecycleStatus.FAILED, Reason.NO_CACHES, f"The {owner} has no model sources")
    existing = [artifact for artifact, _ in entries if artifact is not None]
    if len(existing) < len(entries):
        return Component(condition, LifecycleStatus.PROGRESSING, Reason.CREATING_CACHES, "Creating artifacts")
    states: list[str] = [artifact_state(a) for a in existing]
    state = worst(states)
    if state == LifecycleStatus.READY:
        return Component(condition, LifecycleStatus.READY, Reason.ALL_CACHES_READY, f"{len(entries)} artifact(s) ready")
    artifact = next(a for a in existing if artifact_state(a) == state)
    conditions = artifact.status.conditions if artifact.status is not None else None
    ready = next((c for c in conditions or [] if c.type == ConditionType.READY), None)
    state = LifecycleStatus.PROGRESSING if state == LifecycleStatus.PENDING else state
    message = f"One or more caches are not ready: {artifact.name} {ready.message if ready else ''}"
    return Component(condition, state, (ready.reason if ready else "") or Reason.CACHES_NOT_READY, message.strip())


def artifacts_status(entries: list[ArtifactEntry]) -> dict[str, Any] | None:
    """status.artifacts: the existing artifacts by name (None when there is none yet)."""
    return {a.name: _artifact_entry(a, model) for a, model in entries if a is not None} or None


def _artifact_entry(artifact: AIMArtifact, model: str) -> dict[str, Any]:
    entry = {"uid": artifact.uid, "name": artifact.name, "model": model, "status": artifact_state(artifact)}
    claim = artifact.status.persistent_volume_claim if artifact.status is not None else None
    return entry | ({"persistentVolumeClaim": claim} if claim else {})


def plan_deletion(cache: AnyCache, artifacts: list[AIMArtifact], namespace_terminating: bool, label: str) -> Plan:
    """Drop the cleanup finalizer, deleting the artifacts labelled `label`=<cache> that are not
    Ready (Ready ones stay for reuse), unless the namespace itself is going away."""
    finalizers = list(cache.metadata.get("finalizers") or [])
    plan = Plan(finalizers=[f for f in finalizers if f != labels.CACHE_FINALIZER])
    if namespace_terminating:
        return plan  # everything in the namespace goes anyway; never block its deletion
    value = rfc1123(cache.name)
    for artifact in artifacts:
        if artifact.labels.get(label) == value and artifact_state(artifact) != LifecycleStatus.READY:
            plan.delete.append(ObjectRef(labels.V1ALPHA1, "AIMArtifact", artifact.name, artifact.namespace))
    return plan


def may_be_abandoned(cache: AnyCache) -> bool:
    """A Shared cache a service made (labelled with the service, owned by nothing) that is not
    Ready and not being deleted: whether it is abandoned depends on the namespace's services."""
    return bool(
        cache.labels.get(labels.MANAGED_BY) == labels.MANAGED_BY_VALUE
        and cache.labels.get(labels.SERVICE)
        and not cache.metadata.get("ownerReferences")
        and not cache.metadata.get("deletionTimestamp")
        and (cache.status.status if cache.status is not None else None) != LifecycleStatus.READY
    )


def abandoned(cache: AnyCache, services: Sequence[ServiceUse]) -> bool:
    """A cache that may be abandoned (may_be_abandoned) and that no live service of its namespace
    created or uses (names in its status, for a template cache; asks for its profile, for a profile
    cache).

    Such a cache would otherwise stay forever: garbage collection never removes an unowned object,
    and nothing else would finish its download. Upstream deletes it from the finalizer
    `template-cache-cleanup` of each service that used it, which costs a write per service and
    blocks the service's deletion whenever the controller is not running; here the cache's own
    reconcile deletes it, when a service's deletion or its own change says it may have to. A
    service that meets it a moment later creates it again (as it would have after the finalizer).
    Ready caches stay for the next service (the point of sharing)."""
    if not may_be_abandoned(cache):
        return False
    live = [s for s in services if not s.deleting]
    if any(s.label == cache.labels.get(labels.SERVICE) for s in live):
        return False
    if isinstance(cache, AIMTemplateCache):
        return not any(s.template_cache == cache.name for s in live)
    return not any(s.profile == cache.spec.profile_name for s in live)


def start_plan(observed: CacheObservation[CacheT, SourceT], label: str) -> tuple[Plan, bool]:
    """A cache's plan as it starts, and whether it is already whole: being deleted, the deletion
    plan (plan_deletion); abandoned (and holding its clean-up finalizer, which then deletes its
    non-Ready artifacts), its own deletion; otherwise an empty plan that adds the clean-up
    finalizer if missing."""
    cache = observed.cache
    if cache.metadata.get("deletionTimestamp"):
        return plan_deletion(cache, observed.artifacts, observed.namespace_terminating, label), True
    finalizers: list[str] = list(cache.metadata.get("finalizers") or [])
    if labels.CACHE_FINALIZER not in finalizers:
        return Plan(finalizers=[*finalizers, labels.CACHE_FINALIZER]), False
    if observed.services is not None and abandoned(cache, observed.services):
        message = "No service of the namespace made or uses this cache and it never became Ready: deleting it"
        return Plan(delete=[object_ref(cache)], events=[Event("Normal", Reason.CACHE_ABANDONED, message)]), True
    return Plan(), False


def owned_cache(owner: AnyObject, api_version: str, kind: str, source: str, **spec: Any) -> dict[str, Any]:
    """The Shared cache a caching template or profile (`source`: "template" or "profile") owns:
    its name, its namespace, the fields of `spec` that are set. Its artifacts are Shared, so they
    outlive the owner for reuse."""
    metadata = as_stored(owner)["metadata"]
    cache_spec = {f"{source}Name": metadata["name"], f"{source}Scope": "Namespace", "mode": "Shared"}
    return manifest(
        api_version,
        kind,
        metadata["name"],
        metadata["namespace"],
        object_labels=child_labels(owner, managed()),
        owner=owner,
        spec=with_present(cache_spec, **spec),
    )

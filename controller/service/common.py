"""Pieces both AIMService pipelines share (pure): the component record, what a pipeline resolved,
cache health and volumes, and the InferenceService around the serving container.

controller.service.plan deploys a model with a template; controller.service.profile deploys
spec.profile. Both end in the same InferenceService shape (ports, shared memory, replicas or
autoscaling, labels, owner) built here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from api import labels
from api.conditions import ConditionType, Reason
from api.core import Condition, Conditions
from api.naming import predictor_name, rfc1123
from api.objects import ObjectRoot, wire
from api.v1alpha1.aimservice import MetricsBackend, ServiceStatusValue
from api.v1alpha1.aimservicetemplate import AIMClusterServiceTemplate, AIMServiceTemplate
from api.v1alpha1.aimtemplatecache import AIMTemplateCache, ResolvedArtifact
from api.v1alpha1.common import LifecycleStatus
from api.v1alpha2.aimprofile import AIMClusterProfile, AIMProfile
from api.v1alpha2.aimprofilecache import AIMProfileCache
from api.v1alpha2.aimservice import AIMService
from controller.catalog.imageref import pull_policy
from controller.pipeline.components import Component
from controller.pipeline.objects import child_labels
from controller.pipeline.plan import ObjectRef, owner_reference, severity_rank
from controller.service.autoscaling import SERVING_PORT, autoscaling, replica_bounds

RUNNING, STARTING, DEGRADED, FAILED = (
    ServiceStatusValue.RUNNING,
    ServiceStatusValue.STARTING,
    ServiceStatusValue.DEGRADED,
    ServiceStatusValue.FAILED,
)

CACHE_MOUNT_ROOT = "/workspace/cache"

SourcesOf = AIMServiceTemplate | AIMClusterServiceTemplate | AIMProfile | AIMClusterProfile
"""What a pipeline deploys from: the resolved template or profile (its model sources name the
adapters' base model)."""
ModelCache = AIMTemplateCache | AIMProfileCache
"""The template or profile cache a service mounts."""


@dataclass
class Resolution:
    """What one pipeline resolved before the InferenceService: its components, status fields,
    objects to apply and to delete, and how to build the InferenceService by name (None while it cannot be)."""

    components: list[Component] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    apply: list[dict[str, Any]] = field(default_factory=list)
    delete: list[ObjectRef] = field(default_factory=list)
    """Children it no longer wants (deleted after the objects to apply are written)."""
    build: Callable[[str], dict[str, Any]] | None = None
    waiting_for: str = "the model and template"
    """What the InferenceService waits for while it cannot be built, for its condition message."""
    sources_of: SourcesOf | None = None
    """The resolved template or profile (its model sources name the adapters' base model)."""
    cache: ModelCache | None = None
    """The template or profile cache in use."""


def source_model_ids(sources_of: SourcesOf) -> list[str]:
    """The model ids of a template's model sources (discovered ones first, else its spec's) or
    of a profile's."""
    discovered = None
    if isinstance(sources_of, AIMServiceTemplate | AIMClusterServiceTemplate) and sources_of.status is not None:
        discovered = sources_of.status.model_sources
    return [source.model_id for source in discovered or sources_of.spec.model_sources or []]


def plain(value: str | None) -> str | None:
    """An enum field's value as a plain string, for documents that are not JSON (YAML files)."""
    return None if value is None else str(value)


def reference(obj: ObjectRoot, scope: str) -> dict[str, Any]:
    found = {"name": obj.name, "scope": scope, "kind": obj.kind, "uid": obj.uid, "namespace": obj.namespace}
    return {k: v for k, v in found.items() if v}


def condition_message(conditions: Conditions | None, condition_type: str) -> str:
    """The message of an AIM object's condition of `condition_type` ("" without one)."""
    found: Condition | None = next((c for c in conditions or [] if c.type == condition_type), None)
    return found.message if found is not None else ""


def cache_state(cache: ModelCache) -> LifecycleStatus:
    return cache.status.status if cache.status is not None else LifecycleStatus.PENDING


def cache_artifacts(cache: ModelCache | None) -> dict[str, ResolvedArtifact]:
    """The artifacts a cache lists, by name (none before it resolved them)."""
    return (cache.status.artifacts if cache is not None and cache.status is not None else None) or {}


def best_cache(caches: list[ModelCache]) -> ModelCache | None:
    """The healthiest of some usable caches (by status, then name, so the choice is stable)."""
    return max(caches, key=lambda c: (severity_rank(cache_state(c)), c.name), default=None)


def cache_component(cache: ModelCache, label: str) -> Component:
    """CacheReady for an existing cache; `label` names it, e.g. "template cache x"."""
    state = cache_state(cache)
    if state == LifecycleStatus.READY:
        return Component(ConditionType.CACHE_READY, RUNNING, Reason.CACHE_READY, f"{label} is Ready")
    if state == LifecycleStatus.FAILED:
        conditions = cache.status.conditions if cache.status is not None else None
        why = condition_message(conditions, ConditionType.READY) or "see its status"
        return Component(ConditionType.CACHE_READY, FAILED, Reason.CACHE_FAILED, f"{label} failed: {why}")
    return Component(ConditionType.CACHE_READY, STARTING, Reason.CACHE_NOT_READY, f"{label} is {state}")


def missing_cache_component(existing: dict[str, Any] | None, shared: bool, message: str) -> Component:
    """CacheReady while the cache is (re)created: a running InferenceService that lost its Shared
    cache is Degraded (CacheLost), a lost Dedicated one Degraded while it is recreated."""
    had_volumes = bool(cache_volumes(existing))
    if had_volumes and shared:
        return Component(ConditionType.CACHE_READY, DEGRADED, Reason.CACHE_LOST, message)
    return Component(ConditionType.CACHE_READY, DEGRADED if had_volumes else STARTING, Reason.CACHE_CREATING, message)


def use_cache(
    usable: list[ModelCache],
    existing: dict[str, Any] | None,
    noun: str,
    create: Callable[[], dict[str, Any]],
    shared: bool,
) -> tuple[Component, ModelCache | None, dict[str, Any] | None]:
    """CacheReady, the cache to mount (the healthiest usable one) and, when there is none, the
    cache to create (`create()`); `noun` names the kind in messages, e.g. "template cache".
    `existing`: the service's InferenceService as the API server sent it."""
    cache = best_cache(usable)
    if cache is None:
        planned = create()
        message = f"Creating {noun} {planned['metadata']['name']}"
        return missing_cache_component(existing, shared, message), None, planned
    return cache_component(cache, f"{noun} {cache.name}"), cache, None


def predictor_volumes(isvc: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The volumes of an InferenceService's predictor (none without one)."""
    return list((((isvc or {}).get("spec") or {}).get("predictor") or {}).get("volumes") or [])


def predictor_volume(isvc: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """The predictor's volume of that name ({} when it has none)."""
    return next((v for v in predictor_volumes(isvc) if v.get("name") == name), {})


def cache_volumes(isvc: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [v for v in predictor_volumes(isvc) if str(v.get("name", "")).startswith("cache-")]


def mount_cache(isvc: dict[str, Any], cache: ModelCache | None, existing: dict[str, Any] | None) -> None:
    """Mount each artifact's PVC at /workspace/cache/<modelId> (AIM_CACHE_PATH). While a lost cache
    is recreated, until the new one lists its volumes, the running InferenceService keeps the
    volumes it has (the predictor is not rolled twice)."""
    ordered = sorted(cache_artifacts(cache).values(), key=lambda a: a.model or a.name)
    # Numbered among all artifacts, volume or not: the names stay as the running predictor has them.
    volumes = [
        {"name": f"cache-{i}", "persistentVolumeClaim": {"claimName": a.persistent_volume_claim}}
        for i, a in enumerate(ordered)
        if a.persistent_volume_claim
    ]
    mounts = [
        {"name": v["name"], "mountPath": f"{CACHE_MOUNT_ROOT}/{a.model or a.name}"}
        for v, a in zip(volumes, [a for a in ordered if a.persistent_volume_claim], strict=True)
    ]
    if not volumes:  # no cache yet, or a recreated one whose artifacts are not Ready yet
        volumes = cache_volumes(existing)
        container = ((((existing or {}).get("spec") or {}).get("predictor") or {}).get("containers") or [{}])[0]
        mounts = [m for m in container.get("volumeMounts") or [] if str(m.get("name", "")).startswith("cache-")]
    if not volumes:
        return
    predictor = isvc["spec"]["predictor"]
    predictor["volumes"] = predictor.get("volumes", []) + volumes
    container = predictor["containers"][0]
    container["volumeMounts"] = container.get("volumeMounts", []) + mounts


def serving_container(image: str | None, env: list[dict[str, Any]], resources: dict[str, Any] | None) -> dict[str, Any]:
    """The engine's container: the image (pulled as its tag says), its env and resources, the HTTP
    port, shared memory."""
    container: dict[str, Any] = {
        "name": "kserve-container",
        "image": image,
        "imagePullPolicy": pull_policy(image),
        "env": env,
        "ports": [{"name": "http", "containerPort": SERVING_PORT, "protocol": "TCP"}],
        "volumeMounts": [{"name": "dshm", "mountPath": "/dev/shm"}],  # noqa: S108 - shared memory for the engine
    }
    if resources:
        container["resources"] = resources
    return container


def plan_workload(
    service: AIMService,
    config: Mapping[str, Any],
    name: str,
    container: dict[str, Any],
    *,
    affinity: dict[str, Any] | None,
    pull_secrets: list[dict[str, Any]] | None,
    service_account: str | None,
    extra_labels: dict[str, str],
) -> dict[str, Any]:
    """The InferenceService `name` running `container` for `service`: node affinity, pull secrets
    and service account as given, the service's priority class, fixed replicas or KEDA autoscaling,
    and the common labels (the pipeline's `extra_labels` added), owned by the service. `config`:
    the runtime config's spec (its label propagation)."""
    spec = service.spec
    predictor: dict[str, Any] = {
        "containers": [container],
        "volumes": [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}}],
    }
    if affinity:
        predictor["affinity"] = {"nodeAffinity": affinity}
    if pull_secrets:
        predictor["imagePullSecrets"] = pull_secrets
    if service_account:
        predictor["serviceAccountName"] = service_account
    if spec.priority_class_name:
        predictor["priorityClassName"] = spec.priority_class_name

    annotations: dict[str, str] = {}
    if autoscaling(spec):
        # The service's own ScaledObject scales the predictor (controller/service/autoscaling.py).
        predictor["minReplicas"], predictor["maxReplicas"] = replica_bounds(spec)
        # KServe sizes an injected OpenTelemetry collector from these (upstream copies them); its
        # schema knows only the opentelemetry backend, so metrics-api ones stay with the ScaledObject.
        metrics = [
            wire(m)
            for m in (spec.auto_scaling.metrics if spec.auto_scaling is not None else None) or []
            if m.podmetric is None or m.podmetric.metric.backend == MetricsBackend.OPENTELEMETRY
        ]
        if metrics:
            predictor["autoScaling"] = {"metrics": metrics}
        annotations[labels.AUTOSCALER_CLASS] = labels.AUTOSCALER_CLASS_EXTERNAL
        annotations[labels.OTEL_SIDECAR_INJECT] = predictor_name(name)
        annotations[labels.PROMETHEUS_PORT] = str(SERVING_PORT)
    else:
        replicas = spec.replicas
        predictor["minReplicas"] = replicas
        predictor["maxReplicas"] = replicas
        annotations[labels.AUTOSCALER_CLASS] = "none"  # KServe makes no autoscaler: the count is fixed

    builder = {
        labels.COMPONENT: labels.COMPONENT_INFERENCE,
        labels.MANAGED_BY: labels.MANAGED_BY_VALUE,
        labels.SERVICE: rfc1123(service.name),
    }
    all_labels = child_labels(service, builder | extra_labels, config)
    return {
        "apiVersion": labels.INFERENCE_SERVICE_API,
        "kind": "InferenceService",
        "metadata": {
            "name": name,
            "namespace": service.namespace,
            "labels": all_labels,
            "annotations": annotations,
            "ownerReferences": [owner_reference(service)],
        },
        "spec": {"predictor": predictor},
    }


def adopt_owned(owned: list[dict[str, Any]], desired_name: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The child of one kind a service keeps among those it owns, and the rest. The one named as
    this controller names it wins; otherwise the oldest is adopted under its name, so a service
    whose InferenceService or HTTPRoute was named by another version (upstream AIM Engine before
    it changed its naming, or this project before it matched upstream) keeps serving from it
    instead of getting a second one."""
    if not owned:
        return None, []
    kept = next(
        (o for o in owned if o["metadata"]["name"] == desired_name),
        min(owned, key=lambda o: (o["metadata"].get("creationTimestamp") or "", o["metadata"]["name"])),
    )
    return kept, [o for o in owned if o is not kept]

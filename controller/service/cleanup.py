"""What deleting an AIMService leaves behind (pure: the service and its namespace's caches and
services in, the caches to delete and the finalizers to keep out).

A service's Shared caches have no owner, so garbage collection never removes them: a Ready one is
kept for the next service of the same template or profile (the point of sharing), but one that
never became Ready (failed, or still downloading for a service that no longer exists) would stay
forever. The service's finalizer deletes those, as upstream's `template-cache-cleanup` does; the
caches' own finalizer then deletes their non-Ready artifacts (controller.cache.plan). Two things
differ from upstream: a cache another live service of the namespace uses is kept whatever its
state (deleting it would only make that service create it again), and profile caches are cleaned
up the same way. Dedicated caches are owned by the service and go with it regardless.

The objects are read as the API server stored them, not as their API models: a deletion must not
wait on an object the model refuses (no reconcile step turns that into a condition on this path,
and a finalizer that is never removed blocks the service's deletion).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api import labels
from api.naming import rfc1123
from api.v1alpha1.common import LifecycleStatus
from controller.pipeline.plan import ObjectRef, Plan
from controller.service.observe import ServiceObservation


@dataclass(frozen=True)
class CleanupObservation:
    """Everything as stored (see the module's docstring)."""

    service: dict[str, Any]
    """The AIMService being deleted, with our finalizer."""
    namespace_terminating: bool
    template_caches: list[dict[str, Any]] = field(default_factory=list)
    """AIMTemplateCaches of the namespace (not read while it terminates)."""
    profile_caches: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    """Every AIMService of the namespace, the deleted one included."""


def _created_by(obj: dict[str, Any], service_label: str) -> bool:
    return bool((obj["metadata"].get("labels") or {}).get(labels.SERVICE) == service_label)


def _ours(obj: dict[str, Any]) -> bool:
    """Made by the controller for a service: a cache a user created is never deleted for them."""
    return bool((obj["metadata"].get("labels") or {}).get(labels.MANAGED_BY) == labels.MANAGED_BY_VALUE)


def _ready(obj: dict[str, Any]) -> bool:
    return bool((obj.get("status") or {}).get("status") == LifecycleStatus.READY)


def _template_caches_in_use(services: list[dict[str, Any]]) -> set[str]:
    return {
        ((s.get("status") or {}).get("cache") or {}).get("templateCacheRef", {}).get("name", "") for s in services
    } - {""}


def _profiles_in_use(services: list[dict[str, Any]]) -> set[str]:
    return {((s.get("spec") or {}).get("profile") or {}).get("name", "") for s in services} - {""}


def plan_service_cleanup(observed: CleanupObservation, now: str) -> Plan:
    """For a service being deleted: its non-Ready caches that no other live service uses, then
    our finalizer removed (the owned children go with the service: garbage collection)."""
    service = observed.service
    finalizers = [f for f in service["metadata"].get("finalizers") or [] if f != labels.SERVICE_FINALIZER]
    if observed.namespace_terminating:
        return Plan(finalizers=finalizers)  # everything goes with the namespace; never block it
    metadata = service["metadata"]
    label = rfc1123(metadata["name"])
    others = [
        s
        for s in observed.services
        if s["metadata"]["name"] != metadata["name"] and not s["metadata"].get("deletionTimestamp")
    ]
    template_caches_in_use = _template_caches_in_use(others)
    profiles_in_use = _profiles_in_use(others)
    # A Shared cache carries the label of the service that created it; later services reuse it
    # without relabelling, so the caches this service used count as its own too.
    used_template_caches = _template_caches_in_use([service])
    used_profiles = _profiles_in_use([service])
    delete = [
        ObjectRef(labels.V1ALPHA1, "AIMTemplateCache", c["metadata"]["name"], metadata["namespace"])
        for c in observed.template_caches
        if _ours(c)
        and (_created_by(c, label) or c["metadata"]["name"] in used_template_caches)
        and not _ready(c)
        and c["metadata"]["name"] not in template_caches_in_use
    ] + [
        ObjectRef(labels.V1ALPHA2, "AIMProfileCache", c["metadata"]["name"], metadata["namespace"])
        for c in observed.profile_caches
        if _ours(c)
        and (_created_by(c, label) or _profile_of(c) in used_profiles)
        and not _ready(c)
        and _profile_of(c) not in profiles_in_use
    ]
    return Plan(delete=delete, finalizers=finalizers)


def _profile_of(cache: dict[str, Any]) -> str:
    return str((cache.get("spec") or {}).get("profileName") or "")


CACHE_KINDS = ("AIMTemplateCache", "AIMProfileCache")


def clean_up_needed(observed: ServiceObservation, plan: Plan) -> bool:
    """Whether the service needs its finalizer now: it creates a Shared cache, or uses or created
    one that is not Ready — what `plan_service_cleanup` would delete. A service that only ever
    meets Ready caches (most of a rollout that shares one) is never patched for it. Upstream adds
    the finalizer to every service."""
    if any(obj.get("kind") in CACHE_KINDS for obj in plan.apply):
        return True
    # The same tests as the clean-up's, on the same (stored) forms.
    service = observed.service.stored
    label = rfc1123(observed.service.name)
    status = plan.status if plan.status is not None else service.get("status") or {}
    used_cache = _template_caches_in_use([{"status": status}])
    used_profiles = _profiles_in_use([service])
    return any(
        _ours(c) and not _ready(c) and (_created_by(c, label) or c["metadata"]["name"] in used_cache)
        for c in (cache.stored for cache in observed.caches)
    ) or any(
        _ours(c) and not _ready(c) and (_created_by(c, label) or _profile_of(c) in used_profiles)
        for c in (cache.stored for cache in observed.profile_caches)
    )

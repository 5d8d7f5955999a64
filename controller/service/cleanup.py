"""What deleting an AIMService that carries the `template-cache-cleanup` finalizer leaves behind
(pure: the service and its namespace's caches and services in, the caches to delete and the
finalizers to keep out).

The controller no longer adds that finalizer: a Shared cache that never became Ready and that no
live service made or uses deletes itself (controller.common.caching.abandoned), which needs no
write per service and never blocks a service's deletion. Services that carry the finalizer (from
upstream, which adds it to every service, or from an earlier release of this controller) are
still cleaned up as upstream's finalizer would: their non-Ready caches that no other live service
uses are deleted, then the finalizer is removed. The caches' own finalizer then deletes their
non-Ready artifacts (controller.cache.plan). A cache another live service of the namespace uses
is kept whatever its state, and profile caches are cleaned up the same way. Dedicated caches are
owned by the service and go with it regardless.

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

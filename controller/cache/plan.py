"""AIMTemplateCache: a template's model sources in, one AIMArtifact per source out (pure).

Shared caches reuse (and create) unowned artifacts, so a model is downloaded once per namespace
whoever asks; Dedicated caches own theirs. On deletion the cache removes the artifacts it created
that never became Ready (Ready ones stay for reuse) unless the namespace itself is going away.

AIMProfileCache (controller.profilecache.plan) does the same for a profile's model sources; what
both do is in controller.common.caching.
"""

from __future__ import annotations

from typing import Any

from api import labels
from api.conditions import ConditionType, Reason
from api.naming import rfc1123
from api.v1alpha1.common import LifecycleStatus
from controller.common.caching import (
    CacheObservation,
    artifacts_component,
    artifacts_status,
    plan_deletion,
    resolve_artifacts,
)
from controller.pipeline.components import Component, component_status
from controller.pipeline.plan import Plan


def template_artifact_labels(cache: dict[str, Any], template: dict[str, Any], index: int) -> dict[str, str]:
    return {
        labels.TEMPLATE_CREATED: "true",
        labels.TEMPLATE_NAME: rfc1123(template["metadata"]["name"]),
        labels.TEMPLATE_SCOPE: (cache.get("spec") or {}).get("templateScope", "Namespace"),
        labels.TEMPLATE_INDEX: str(index),
        labels.TEMPLATE_CACHE: rfc1123(cache["metadata"]["name"]),
    }


def _template_component(observed: CacheObservation) -> Component:
    spec = observed.cache.get("spec") or {}
    name, scope = spec.get("templateName", ""), spec.get("templateScope", "Namespace")
    template = observed.source
    condition = ConditionType.SERVICE_TEMPLATE_READY
    if template is None:
        return Component(
            condition, LifecycleStatus.FAILED, Reason.REFERENCE_NOT_FOUND, f"{scope} template {name} not found"
        )
    state = (template.get("status") or {}).get("status") or LifecycleStatus.PENDING
    if state == LifecycleStatus.READY:
        return Component(condition, LifecycleStatus.READY, Reason.TEMPLATE_READY, f"{scope} template {name} is Ready")
    if state in (LifecycleStatus.FAILED, LifecycleStatus.NOT_AVAILABLE, LifecycleStatus.DEGRADED):
        return Component(condition, state, Reason.TEMPLATE_NOT_READY, f"{scope} template {name} is {state}")
    return Component(
        condition, LifecycleStatus.PENDING, Reason.TEMPLATE_NOT_READY, f"Waiting for {scope} template {name}"
    )


def plan_template_cache(observed: CacheObservation, now: str) -> Plan:
    cache = observed.cache
    metadata = cache["metadata"]
    finalizers = list(metadata.get("finalizers") or [])
    if metadata.get("deletionTimestamp"):
        return plan_deletion(cache, observed.artifacts, observed.namespace_terminating, labels.TEMPLATE_CACHE)
    plan = Plan()
    if labels.CACHE_FINALIZER not in finalizers:
        plan.finalizers = [*finalizers, labels.CACHE_FINALIZER]
    components = [_template_component(observed)]
    template = observed.source
    extra: dict[str, Any] = {}
    if template is not None:
        extra["resolvedTemplateKind"] = template["kind"]
    if components[0].state == LifecycleStatus.READY and template is not None:
        sources = (template.get("status") or {}).get("modelSources") or []
        entries, desired = resolve_artifacts(
            cache, observed.artifacts, sources, lambda index: template_artifact_labels(cache, template, index)
        )
        plan.apply += desired
        components.append(artifacts_component(entries, "template"))
        extra["artifacts"] = artifacts_status(entries)
    plan.status = component_status(cache, components, now, extra)
    return plan

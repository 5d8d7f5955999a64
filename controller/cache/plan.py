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
from api.objects import wire
from api.v1alpha1.aimservicetemplate import AnyServiceTemplate
from api.v1alpha1.aimtemplatecache import AIMTemplateCache
from api.v1alpha1.common import LifecycleStatus
from controller.common.caching import (
    CacheObservation,
    artifacts_component,
    artifacts_status,
    resolve_artifacts,
    start_plan,
)
from controller.pipeline.components import Component, component_status
from controller.pipeline.plan import Plan

TemplateCacheObservation = CacheObservation[AIMTemplateCache, AnyServiceTemplate]


def template_artifact_labels(cache: AIMTemplateCache, template: AnyServiceTemplate, index: int) -> dict[str, str]:
    return {
        labels.TEMPLATE_CREATED: "true",
        labels.TEMPLATE_NAME: rfc1123(template.name),
        labels.TEMPLATE_SCOPE: wire(cache.spec.template_scope),
        labels.TEMPLATE_INDEX: str(index),
        labels.TEMPLATE_CACHE: rfc1123(cache.name),
    }


def _template_component(observed: TemplateCacheObservation) -> Component:
    spec = observed.cache.spec
    name, scope = spec.template_name, spec.template_scope
    template = observed.source
    condition = ConditionType.SERVICE_TEMPLATE_READY
    if template is None:
        return Component(
            condition, LifecycleStatus.FAILED, Reason.REFERENCE_NOT_FOUND, f"{scope} template {name} not found"
        )
    state = template.status.status if template.status is not None else LifecycleStatus.PENDING
    if state == LifecycleStatus.READY:
        return Component(condition, LifecycleStatus.READY, Reason.TEMPLATE_READY, f"{scope} template {name} is Ready")
    if state in (LifecycleStatus.FAILED, LifecycleStatus.NOT_AVAILABLE, LifecycleStatus.DEGRADED):
        return Component(condition, state, Reason.TEMPLATE_NOT_READY, f"{scope} template {name} is {state}")
    return Component(
        condition, LifecycleStatus.PENDING, Reason.TEMPLATE_NOT_READY, f"Waiting for {scope} template {name}"
    )


def plan_template_cache(observed: TemplateCacheObservation, now: str) -> Plan:
    cache = observed.cache
    plan, whole = start_plan(observed, labels.TEMPLATE_CACHE)
    if whole:
        return plan
    components = [_template_component(observed)]
    template = observed.source
    extra: dict[str, Any] = {}
    if template is not None:
        extra["resolvedTemplateKind"] = template.kind
    if components[0].state == LifecycleStatus.READY and template is not None:
        sources = (template.status.model_sources if template.status is not None else None) or []
        entries, desired = resolve_artifacts(
            cache, observed.artifacts, sources, lambda index: template_artifact_labels(cache, template, index)
        )
        plan.apply += desired
        components.append(artifacts_component(entries, "template"))
        extra["artifacts"] = artifacts_status(entries)
    plan.status = component_status(cache, components, now, extra)
    return plan

"""AIMProfileCache: a profile's model sources in, one AIMArtifact per source out (pure).

The template cache's rules (controller.cache.plan) with the profile as the source of the model
sources: Shared caches reuse and create unowned artifacts, Dedicated caches own theirs, and on
deletion the artifacts this cache created that never became Ready are removed (unless the
namespace is going away). A profile's spec is complete by itself, so the artifacts are planned as
soon as it exists, whether or not a node can run it yet: pre-warming is what caches are for.
"""

from __future__ import annotations

from typing import Any

from api import labels
from api.conditions import ConditionType, Reason
from api.naming import rfc1123
from api.objects import wire
from api.v1alpha1.common import LifecycleStatus
from api.v1alpha2.aimprofile import AnyProfile
from api.v1alpha2.aimprofilecache import AIMProfileCache, ProfileScope
from controller.common.caching import (
    CacheObservation,
    artifacts_component,
    artifacts_status,
    resolve_artifacts,
    start_plan,
)
from controller.pipeline.components import Component, component_status
from controller.pipeline.plan import Plan

ProfileCacheObservation = CacheObservation[AIMProfileCache, AnyProfile]


def profile_artifact_labels(cache: AIMProfileCache, index: int) -> dict[str, str]:
    return {
        labels.PROFILE_NAME: rfc1123(cache.spec.profile_name),
        labels.PROFILE_SCOPE: wire(cache.spec.profile_scope),
        labels.PROFILE_INDEX: str(index),
        labels.PROFILE_CACHE: rfc1123(cache.name),
    }


def profile_component(observed: ProfileCacheObservation) -> Component:
    spec = observed.cache.spec
    name = spec.profile_name
    kind = "AIMClusterProfile" if spec.profile_scope == ProfileScope.CLUSTER else "AIMProfile"
    if observed.source is None:
        return Component(
            ConditionType.PROFILE_FOUND, LifecycleStatus.FAILED, Reason.PROFILE_NOT_FOUND, f"{kind} {name} not found"
        )
    status = observed.source.status
    state = status.status if status is not None else LifecycleStatus.PENDING
    return Component(
        ConditionType.PROFILE_FOUND, LifecycleStatus.READY, Reason.PROFILE_RESOLVED, f"{kind} {name} ({state})"
    )


def plan_profile_cache(observed: ProfileCacheObservation, now: str) -> Plan:
    cache = observed.cache
    plan, whole = start_plan(observed, labels.PROFILE_CACHE)
    if whole:
        return plan
    components = [profile_component(observed)]
    extra: dict[str, Any] = {}
    if observed.source is not None:
        entries, desired = resolve_artifacts(
            cache,
            observed.artifacts,
            observed.source.spec.model_sources or [],
            lambda index: profile_artifact_labels(cache, index),
        )
        plan.apply += desired
        components.append(artifacts_component(entries, "profile"))
        extra["artifacts"] = artifacts_status(entries)
    plan.status = component_status(cache, components, now, extra)
    return plan

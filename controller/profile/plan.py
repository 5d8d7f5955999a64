"""AIMProfile / AIMClusterProfile: the profile's accelerator and the cluster's nodes in; status and
the profile-owned cache out (pure).

A profile answers by itself which image, accelerator and resources one replica needs. The
controller derives the definitive resources (the accelerator count as `amd.com/gpu` or `cpu`, with
spec.resources over it), the node affinity (the accelerator's node label must exist), and counts
the schedulable nodes that carry the label and have the allocatable resources. The profile is Ready
while at least one node matches and NotAvailable otherwise; node events re-enqueue profiles, so it
becomes Ready when such a node joins.
"""

from __future__ import annotations

from typing import Any

from api import labels
from api.conditions import ConditionType, Reason
from api.objects import wire
from api.quantity import QuantityError, quantity_value
from api.v1alpha1.common import LifecycleStatus
from api.v1alpha2.aimprofile import AcceleratorType, AIMProfile, AIMProfileSpecCommon
from controller.catalog.imageref import InvalidImageReferenceError, parse_image_reference
from controller.common.caching import owned_cache
from controller.common.merge import merge_resources
from controller.pipeline.components import Component, component_status
from controller.pipeline.plan import Event, Plan
from controller.profile.observe import ProfileObservation

GPU_RESOURCE = "amd.com/gpu"
_BASIC_RESOURCES = ("cpu", "memory", "ephemeral-storage")


def profile_resources(spec: AIMProfileSpecCommon) -> dict[str, Any] | None:
    """The resources one replica requests: the accelerator count as `amd.com/gpu` (requests and
    limits: extended resources cannot be overcommitted) or as `cpu` (requests only), with
    spec.resources merged over them per resource name."""
    count = spec.accelerator_count or 0
    derived: dict[str, Any] = {}
    if count > 0 and spec.accelerator_type == AcceleratorType.GPU:
        derived = {"requests": {GPU_RESOURCE: str(count)}, "limits": {GPU_RESOURCE: str(count)}}
    elif count > 0 and spec.accelerator_type == AcceleratorType.CPU:
        derived = {"requests": {"cpu": str(count)}}
    return merge_resources([derived, wire(spec.resources)]) or None


def accelerator_label(model: str) -> str:
    return f"{labels.ACCELERATOR_PREFIX}{model}"


def profile_node_affinity(model: str | None) -> dict[str, Any] | None:
    if not model:
        return None
    return {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": accelerator_label(model), "operator": "Exists"}]}]
        }
    }


def requested(resources: dict[str, Any] | None) -> dict[str, str]:
    """What the scheduler reserves: requests, and limits where no request is given (Kubernetes
    defaults a missing request to its limit)."""
    resources = resources or {}
    return {k: str(v) for k, v in ((resources.get("limits") or {}) | (resources.get("requests") or {})).items()}


def node_fits(node: dict[str, Any], model: str | None, requests: dict[str, str]) -> bool:
    """A Node (as the API server sends it) that is schedulable, labelled with the accelerator (when
    one is named), and with every requested resource allocatable in at least the requested amount
    (a resource the node does not report is missing)."""
    if (node.get("spec") or {}).get("unschedulable"):
        return False
    if model and accelerator_label(model) not in ((node.get("metadata") or {}).get("labels") or {}):
        return False
    allocatable = (node.get("status") or {}).get("allocatable") or {}
    try:
        return all(
            name in allocatable and quantity_value(allocatable[name]) >= quantity_value(amount)
            for name, amount in requests.items()
        )
    except QuantityError:
        return False


def has_accelerator_requirement(spec: AIMProfileSpecCommon) -> bool:
    """A named accelerator, an accelerator count, or an extended resource (such as `amd.com/gpu`)."""
    if spec.accelerator_model or (spec.accelerator_count or 0) > 0:
        return True
    return any(name not in _BASIC_RESOURCES for name in requested(wire(spec.resources)))


def hardware_summary(spec: AIMProfileSpecCommon) -> str:
    model, count = spec.accelerator_model, spec.accelerator_count or 0
    if not model:
        return "CPU"
    return f"{count} x {model}" if count else str(model)


def image_version(image: str) -> str | None:
    """The image's tag (`0.8.5`); None for untagged or digest-only references."""
    try:
        return parse_image_reference(image).tag
    except InvalidImageReferenceError:
        return None


def hardware_component(spec: AIMProfileSpecCommon, matching: int, requests: dict[str, str]) -> Component:
    condition = ConditionType.HARDWARE_AVAILABLE
    if not has_accelerator_requirement(spec):
        return Component(condition, LifecycleStatus.READY, Reason.NO_ACCELERATOR_SPECIFIED, "No accelerator required")
    wanted = []
    if spec.accelerator_model:
        wanted.append(f"label {accelerator_label(spec.accelerator_model)}")
    if requests:
        wanted.append("allocatable " + ", ".join(f"{k}={v}" for k, v in sorted(requests.items())))
    described = " and ".join(wanted)
    if matching:
        return Component(
            condition, LifecycleStatus.READY, Reason.HARDWARE_AVAILABLE, f"{matching} node(s) with {described}"
        )
    return Component(
        condition, LifecycleStatus.NOT_AVAILABLE, Reason.HARDWARE_NOT_AVAILABLE, f"No schedulable node with {described}"
    )


def plan_profile(observed: ProfileObservation, now: str) -> Plan:
    profile = observed.profile
    spec = profile.spec
    previous = profile.status.status if profile.status else None
    model = spec.accelerator_model
    resources = profile_resources(spec)
    requests = requested(resources)
    matching = sum(1 for node in observed.nodes if node_fits(node, model, requests))
    component = hardware_component(spec, matching, requests)
    plan = Plan()
    extra = {
        "version": image_version(spec.image),
        "matchingNodes": matching,
        "hardwareSummary": hardware_summary(spec),
        "resources": resources,
        "resolvedNodeAffinity": profile_node_affinity(model),
    }
    plan.status = component_status(profile, [component], now, extra)
    if isinstance(profile, AIMProfile) and profile.spec.caching and profile.spec.caching.enabled and spec.model_sources:
        plan.apply.append(plan_owned_profile_cache(profile))
    if plan.status["status"] != previous and plan.status["status"] == LifecycleStatus.NOT_AVAILABLE:
        plan.events.append(Event("Warning", component.reason, component.message))
    return plan


def plan_owned_profile_cache(profile: AIMProfile) -> dict[str, Any]:
    """The AIMProfileCache a namespaced profile with caching.enabled owns: same name, Shared
    artifacts (they outlive the profile for reuse), the profile's caching.env for the downloads."""
    caching = profile.spec.caching
    return owned_cache(
        profile, labels.V1ALPHA2, "AIMProfileCache", "profile", env=wire(caching.env) if caching else None
    )

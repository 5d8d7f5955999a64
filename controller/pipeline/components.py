"""Component health → conditions and overall status (pure), the one health model of every kind.
Each dependency or child is a component with a state; its condition is True iff the state is the
API's healthy word (Ready, or Running for AIMService); the worst state is the object's status;
`Ready` names the first problem."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.conditions import (
    AUTH_FAILURE_REASONS,
    INVALID_SPEC_REASONS,
    MISSING_REFERENCE_REASONS,
    ConditionType,
    Reason,
)
from api.objects import AnyObject, as_stored
from api.v1alpha1.common import LifecycleStatus
from controller.pipeline.conditions import FALSE, TRUE, Condition, merge_conditions
from controller.pipeline.plan import HEALTHY, worst


@dataclass(frozen=True)
class Component:
    condition: str
    state: str
    """A word of controller.pipeline.plan.SEVERITY."""
    reason: str
    message: str = ""
    healthy: bool | None = None
    """The condition's truth when it differs from "state is healthy": a finding that is False but
    does not hold the object back (e.g. an image without AIM labels)."""

    def as_condition(self) -> Condition:
        healthy = self.state in HEALTHY if self.healthy is None else self.healthy
        return Condition(self.condition, TRUE if healthy else FALSE, self.reason, self.message)


def overall_state(components: list[Component], healthy: str = LifecycleStatus.READY) -> str:
    return worst([c.state for c in components], default=healthy)


def ready_condition(
    components: list[Component], healthy: str = LifecycleStatus.READY, message_when_ready: str = ""
) -> Condition:
    state = overall_state(components, healthy)
    if state in HEALTHY:
        return Condition(ConditionType.READY, TRUE, Reason.ALL_COMPONENTS_READY, message_when_ready)
    first = next(c for c in components if c.state == state)
    return Condition(ConditionType.READY, FALSE, first.reason, f"{first.condition}: {first.message}".rstrip(": "))


def component_status(
    obj: AnyObject,
    components: list[Component],
    now: str,
    extra: dict[str, Any] | None = None,
    conditions: list[Condition] | None = None,
) -> dict[str, Any]:
    """The status block: observedGeneration, conditions (one per component plus Ready, and any
    `conditions` that are findings rather than health, e.g. StorageQuotaExceeded), status and any
    kind-specific fields."""
    obj = as_stored(obj)
    previous = (obj.get("status") or {}).get("conditions")
    conditions = [c.as_condition() for c in components] + [ready_condition(components)] + list(conditions or [])
    conditions += category_conditions(components, previous)
    generation = obj["metadata"].get("generation")
    status: dict[str, Any] = {
        "conditions": merge_conditions((obj.get("status") or {}).get("conditions"), conditions, generation, now),
        "status": overall_state(components),
    }
    if generation is not None:
        status["observedGeneration"] = generation
    return status | {k: v for k, v in (extra or {}).items() if v is not None}


def category_conditions(components: list[Component], previous: list[dict[str, Any]] | None) -> list[Condition]:
    """ConfigValid and AuthValid, as upstream's framework sets them: False (InvalidSpec before
    ReferenceNotFound; AuthError) while a component has failed for such a reason, True again once
    it no longer has, and absent on an object that never had the problem. A kind that reports one
    of them as a component of its own (a model's registry credentials) keeps its own."""
    had = {c.get("type") for c in previous or []}
    own = {c.condition for c in components}
    failed = [c for c in components if c.state == LifecycleStatus.FAILED]

    def first(reasons: frozenset[Reason]) -> Component | None:
        return next((c for c in failed if c.reason in reasons), None)

    def said(component: Component) -> str:
        return f"{component.condition}: {component.message}".rstrip(": ")

    conditions = []
    if ConditionType.CONFIG_VALID not in own:
        invalid, missing = first(INVALID_SPEC_REASONS), first(MISSING_REFERENCE_REASONS)
        if invalid is not None:
            conditions.append(Condition(ConditionType.CONFIG_VALID, FALSE, Reason.INVALID_SPEC, said(invalid)))
        elif missing is not None:
            conditions.append(Condition(ConditionType.CONFIG_VALID, FALSE, Reason.REFERENCE_NOT_FOUND, said(missing)))
        elif ConditionType.CONFIG_VALID in had:
            conditions.append(
                Condition(ConditionType.CONFIG_VALID, TRUE, Reason.CONFIGURATION_VALID, "Configuration is valid")
            )
    if ConditionType.AUTH_VALID not in own:
        refused = first(AUTH_FAILURE_REASONS)
        if refused is not None:
            conditions.append(Condition(ConditionType.AUTH_VALID, FALSE, Reason.AUTH_ERROR, said(refused)))
        elif ConditionType.AUTH_VALID in had:
            conditions.append(
                Condition(
                    ConditionType.AUTH_VALID,
                    TRUE,
                    Reason.AUTHENTICATION_VALID,
                    "Authentication and authorization successful",
                )
            )
    return conditions

"""Component health → conditions and overall status (pure), shared by the catalog and caching
reconcilers. Each dependency or child is a component with a lifecycle state; its condition is True
iff the state is Ready; the worst state is the object's status; `Ready` names the first problem."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from controller.pipeline.conditions import FALSE, TRUE, Condition, merge_conditions
from controller.pipeline.plan import worst

READY = "Ready"


@dataclass(frozen=True)
class Component:
    condition: str
    state: str  # Ready, Progressing, Pending, Degraded, NotAvailable or Failed
    reason: str
    message: str = ""
    healthy: bool | None = None
    """The condition's truth when it differs from "state is Ready": a finding that is False but
    does not hold the object back (e.g. an image without AIM labels)."""

    def as_condition(self) -> Condition:
        healthy = self.state == READY if self.healthy is None else self.healthy
        return Condition(self.condition, TRUE if healthy else FALSE, self.reason, self.message)


def overall_state(components: list[Component]) -> str:
    return worst([c.state for c in components])


def ready_condition(components: list[Component]) -> Condition:
    state = overall_state(components)
    if state == READY:
        return Condition("Ready", TRUE, "AllComponentsReady", "")
    first = next(c for c in components if c.state == state)
    return Condition("Ready", FALSE, first.reason, f"{first.condition}: {first.message}".rstrip(": "))


def component_status(
    obj: dict[str, Any], components: list[Component], now: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The status block: observedGeneration, conditions (one per component plus Ready), status and
    any kind-specific fields."""
    conditions = [c.as_condition() for c in components] + [ready_condition(components)]
    generation = obj["metadata"].get("generation")
    status: dict[str, Any] = {
        "conditions": merge_conditions((obj.get("status") or {}).get("conditions"), conditions, generation, now),
        "status": overall_state(components),
    }
    if generation is not None:
        status["observedGeneration"] = generation
    return status | {k: v for k, v in (extra or {}).items() if v is not None}

"""Conditions per the Kubernetes API conventions (pure).

`lastTransitionTime` changes only when a condition's `status` changes, every condition carries the
generation it was computed for, and the list is ordered by type so that an unchanged state
serialises identically (the controller skips the status write then).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str
    message: str = ""


def merge_conditions(
    previous: list[dict[str, Any]] | None, desired: list[Condition], generation: int | None, now: str
) -> list[dict[str, Any]]:
    """The desired conditions as status entries, keeping transition times that did not change.
    Conditions not in `desired` are dropped: this controller owns the whole list."""
    before = {c.get("type"): c for c in previous or []}
    merged = []
    for condition in sorted(desired, key=lambda c: c.type):
        old = before.get(condition.type)
        transition = old.get("lastTransitionTime") if old and old.get("status") == condition.status else None
        entry: dict[str, Any] = {
            "type": condition.type,
            "status": condition.status,
            "reason": condition.reason,
            "message": condition.message,
            "lastTransitionTime": transition or now,
        }
        if generation is not None:
            entry["observedGeneration"] = generation
        merged.append(entry)
    return merged


def condition_of(obj: dict[str, Any] | None, condition_type: str) -> dict[str, Any] | None:
    for condition in ((obj or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") == condition_type:
            return dict(condition)
    return None


def is_true(obj: dict[str, Any] | None, condition_type: str) -> bool:
    condition = condition_of(obj, condition_type)
    return bool(condition and condition.get("status") == TRUE)


def set_condition(
    conditions: list[dict[str, Any]] | None, condition: Condition, generation: int | None, now: str
) -> list[dict[str, Any]]:
    """`conditions` with one condition set (added or replaced; its transition time kept when its
    status did not change), the others as they are."""
    previous = [c for c in conditions or [] if c.get("type") == condition.type]
    [entry] = merge_conditions(previous, [condition], generation, now)
    others = [c for c in conditions or [] if c.get("type") != condition.type]
    return sorted([*others, entry], key=lambda c: str(c.get("type")))

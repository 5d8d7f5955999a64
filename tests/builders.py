"""Test builders shared by every test module: reading plans, statuses and conditions.

One definition each, so a change of the status shape is one edit here.
"""

from __future__ import annotations

from typing import Any

from controller.pipeline.plan import Plan


def status_of(plan: Plan) -> dict[str, Any]:
    """The status a plan writes (it must write one)."""
    assert plan.status is not None, "the plan leaves status alone"
    return plan.status


def condition(status: dict[str, Any], condition_type: str) -> dict[str, Any]:
    """The condition of `condition_type` in a status (or a whole object's status)."""
    found = next((c for c in status.get("conditions") or [] if c["type"] == condition_type), None)
    assert found is not None, f"no {condition_type} condition in {[c['type'] for c in status.get('conditions') or []]}"
    return dict(found)


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """type → (status, reason) of every condition."""
    return {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}


def condition_or_empty(status: dict[str, Any], condition_type: str) -> dict[str, Any]:
    """The condition, or {} while it is not set yet (for polling a live object)."""
    return next((dict(c) for c in status.get("conditions") or [] if c["type"] == condition_type), {})


def applied_kind(plan: Plan, kind: str) -> dict[str, Any]:
    """The one object of `kind` a plan applies."""
    found = [o for o in plan.apply if o["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind} objects in {[o['kind'] for o in plan.apply]}"
    return found[0]


def container_env(workload: dict[str, Any]) -> dict[str, str]:
    """name → value of the env of an InferenceService's (or pod spec's) first container."""
    spec = workload["spec"].get("predictor") or workload["spec"]
    return {e["name"]: e.get("value", "") for e in spec["containers"][0].get("env") or []}

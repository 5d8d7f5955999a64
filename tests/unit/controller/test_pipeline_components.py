"""controller.pipeline: component health → conditions and overall status, and `worst` (tables)."""

from __future__ import annotations

from typing import Any

import pytest

from controller.pipeline.components import (
    Component,
    category_conditions,
    component_status,
    overall_state,
    ready_condition,
)
from controller.pipeline.conditions import Condition
from controller.pipeline.plan import worst

NOW = "2026-11-23T12:00:00Z"
LATER = "2026-11-23T12:05:00Z"


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        pytest.param([], "Ready", id="nothing-is-ready"),
        pytest.param(["Ready"], "Ready", id="one"),
        pytest.param(["Ready", "Failed", "Progressing"], "Failed", id="failed-is-worst"),
        pytest.param(["Degraded", "NotAvailable"], "NotAvailable", id="not-available-before-degraded"),
        pytest.param(["Pending", "Degraded"], "Degraded", id="degraded-before-pending"),
        pytest.param(["Progressing", "Starting"], "Starting", id="starting-before-progressing"),
        pytest.param(["Running", "Ready"], "Ready", id="running-is-best"),
        pytest.param(["Progressing", "Mystery"], "Mystery", id="unknown-ranks-as-pending"),
        pytest.param(["Pending", "Mystery"], "Pending", id="unknown-ties-with-pending-first-wins"),
        pytest.param(["Mystery", "Degraded"], "Degraded", id="unknown-better-than-degraded"),
    ],
)
def test_worst(states: list[str], expected: str) -> None:
    assert worst(states) == expected


def test_worst_default_for_no_states() -> None:
    assert worst([], default="Pending") == "Pending"


@pytest.mark.parametrize(
    ("component", "expected"),
    [
        pytest.param(Component("A", "Ready", "Fine"), Condition("A", "True", "Fine", ""), id="ready-is-true"),
        pytest.param(
            Component("A", "Progressing", "Working", "m"), Condition("A", "False", "Working", "m"), id="else-false"
        ),
        pytest.param(
            Component("A", "Ready", "ImageFound", "no labels", healthy=False),
            Condition("A", "False", "ImageFound", "no labels"),
            id="healthy-overrides-false",
        ),
        pytest.param(
            Component("A", "Degraded", "Slow", healthy=True),
            Condition("A", "True", "Slow", ""),
            id="healthy-overrides-true",
        ),
    ],
)
def test_component_as_condition(component: Component, expected: Condition) -> None:
    assert component.as_condition() == expected


@pytest.mark.parametrize(
    ("components", "state", "ready"),
    [
        pytest.param(
            [Component("A", "Ready", "Ok"), Component("B", "Ready", "Ok")],
            "Ready",
            Condition("Ready", "True", "AllComponentsReady", ""),
            id="all-ready",
        ),
        pytest.param(
            [
                Component("A", "Progressing", "Busy", "working"),
                Component("B", "Failed", "Broken", "gone"),
                Component("C", "Failed", "AlsoBroken", "too"),
            ],
            "Failed",
            Condition("Ready", "False", "Broken", "B: gone"),
            id="first-worst-named",
        ),
        pytest.param(
            [Component("A", "Pending", "Waiting")],
            "Pending",
            Condition("Ready", "False", "Waiting", "A"),
            id="empty-message-has-no-colon",
        ),
        pytest.param(
            [Component("A", "Ready", "ImageFound", healthy=False)],
            "Ready",
            Condition("Ready", "True", "AllComponentsReady", ""),
            id="unhealthy-finding-does-not-hold-back",
        ),
    ],
)
def test_overall_state_and_ready(components: list[Component], state: str, ready: Condition) -> None:
    assert overall_state(components) == state
    assert ready_condition(components) == ready


def obj(generation: int | None = 4, status: dict[str, Any] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "x"} | ({"generation": generation} if generation is not None else {})
    return {"metadata": metadata} | ({"status": status} if status is not None else {})


def test_component_status_block() -> None:
    status = component_status(
        obj(), [Component("Zeta", "Ready", "Ok"), Component("Alpha", "Pending", "Wait", "w")], NOW, {"a": 1, "b": None}
    )
    assert status["status"] == "Pending"
    assert status["observedGeneration"] == 4
    assert [c["type"] for c in status["conditions"]] == ["Alpha", "Ready", "Zeta"], "sorted by type"
    assert all(c["observedGeneration"] == 4 and c["lastTransitionTime"] == NOW for c in status["conditions"])
    assert status["a"] == 1
    assert "b" not in status, "None extras are left out"


def test_component_status_without_generation() -> None:
    status = component_status(obj(generation=None), [Component("A", "Ready", "Ok")], NOW)
    assert "observedGeneration" not in status
    assert all("observedGeneration" not in c for c in status["conditions"])


def test_component_status_keeps_transition_times_of_unchanged_conditions() -> None:
    first = component_status(obj(), [Component("A", "Ready", "Ok"), Component("B", "Pending", "Wait")], NOW)
    second = component_status(
        obj(status=first), [Component("A", "Ready", "StillOk", "new"), Component("B", "Ready", "Done")], LATER
    )
    times = {c["type"]: c["lastTransitionTime"] for c in second["conditions"]}
    assert times == {"A": NOW, "B": LATER, "Ready": LATER}
    assert next(c for c in second["conditions"] if c["type"] == "A")["reason"] == "StillOk"


CONFIG = Component("RuntimeConfigReady", "Failed", "ConfigNotFound", "RuntimeConfig tuned not found")
BAD_IMAGE = Component("ImageMetadataReady", "Failed", "InvalidImageReference", "not an image reference")
REFUSED = Component("DownloadComplete", "Failed", "AuthError", "403 from the source")
WAITING = Component("ModelReady", "Pending", "ModelNotFound", "waiting")  # not Failed: no category
FINE = Component("RuntimeConfigReady", "Ready", "ConfigFound", "")


def previously(*types_and_states: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"type": t, "status": s} for t, s in types_and_states]


@pytest.mark.parametrize(
    ("components", "previous", "expected"),
    [
        pytest.param([FINE], None, [], id="never-had-a-problem-nothing-set"),
        pytest.param(
            [CONFIG],
            None,
            [("ConfigValid", "False", "ReferenceNotFound")],
            id="missing-reference",
        ),
        pytest.param(
            [CONFIG, BAD_IMAGE],
            None,
            [("ConfigValid", "False", "InvalidSpec")],
            id="invalid-spec-before-missing-reference",
        ),
        pytest.param([REFUSED], None, [("AuthValid", "False", "AuthError")], id="auth"),
        pytest.param([WAITING], None, [], id="only-failed-components-count"),
        pytest.param(
            [FINE],
            previously(("ConfigValid", "False"), ("AuthValid", "False")),
            [("ConfigValid", "True", "ConfigurationValid"), ("AuthValid", "True", "AuthenticationValid")],
            id="recovered-says-so",
        ),
        pytest.param(
            [FINE],
            previously(("ConfigValid", "True")),
            [("ConfigValid", "True", "ConfigurationValid")],
            id="stays-once-set",
        ),
        pytest.param(
            [Component("AuthValid", "Failed", "AuthError", "own"), REFUSED],
            None,
            [],
            id="a-kinds-own-auth-component-wins",
        ),
    ],
)
def test_config_and_auth_validity_as_upstreams_framework(
    components: list[Component], previous: list[dict[str, Any]] | None, expected: list[tuple[str, str, str]]
) -> None:
    found = category_conditions(components, previous)
    assert [(c.type, c.status, c.reason) for c in found] == expected


def test_the_category_condition_names_the_component() -> None:
    [condition] = category_conditions([CONFIG], None)
    assert condition.message == "RuntimeConfigReady: RuntimeConfig tuned not found"

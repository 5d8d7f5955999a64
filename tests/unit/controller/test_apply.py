"""needs_apply: skip writes of objects that already are as desired, catch drift and dropped fields."""

from __future__ import annotations

import copy
from typing import Any

from controller.pipeline.apply import needs_apply, with_applied_hash

DESIRED = with_applied_hash(
    {
        "apiVersion": "v1",
        "kind": "X",
        "metadata": {"name": "a", "labels": {"k": "v"}},
        "spec": {"list": [{"a": 1}], "n": 1},
    }
)


def observed(**changes: Any) -> dict[str, Any]:
    obj = copy.deepcopy(DESIRED)
    obj["metadata"]["resourceVersion"] = "5"  # server-added fields do not matter
    obj["spec"]["serverDefault"] = True
    for key, value in changes.items():
        obj["spec"][key] = value
    return obj


def test_missing_object_is_applied() -> None:
    assert needs_apply(DESIRED, None)


def test_unchanged_object_is_not_applied() -> None:
    assert not needs_apply(DESIRED, observed())


def test_drifted_field_is_applied() -> None:
    assert needs_apply(DESIRED, observed(n=2))
    assert needs_apply(DESIRED, observed(list=[{"a": 1}, {"b": 2}]))


def test_a_field_no_longer_desired_changes_the_hash() -> None:
    smaller = with_applied_hash({k: v for k, v in DESIRED.items() if k != "spec"} | {"spec": {"n": 1}})
    assert needs_apply(smaller, observed())

"""Lease decisions: create, renew, follow a live holder, take over an expired one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from controller.pipeline.leadership import Action, decide, format_time

NOW = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=dt.UTC)


def lease(holder: str | None, renewed_seconds_ago: float, transitions: int = 0) -> dict[str, Any]:
    return {
        "metadata": {"name": "l", "namespace": "ns", "resourceVersion": "7"},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": 15,
            "renewTime": format_time(NOW - dt.timedelta(seconds=renewed_seconds_ago)),
            "leaseTransitions": transitions,
        },
    }


@pytest.mark.parametrize(
    ("observed", "action", "holder", "transitions"),
    [
        (None, Action.CREATE, "me", 0),
        (lease("me", 10), Action.RENEW, "me", 0),
        (lease("other", 10), Action.FOLLOW, None, None),
        (lease("other", 16, transitions=2), Action.TAKE_OVER, "me", 3),
        (lease(None, 1), Action.TAKE_OVER, "me", 1),
    ],
    ids=["no-lease", "renew-own", "follow-live-holder", "take-over-expired", "take-over-released"],
)
def test_decide(observed: dict[str, Any] | None, action: Action, holder: str | None, transitions: int | None) -> None:
    decision = decide(observed, "l", "ns", "me", 15, NOW)
    assert decision.action is action
    if decision.lease is None:
        assert holder is None
        return
    spec = decision.lease["spec"]
    assert (spec["holderIdentity"], spec["leaseTransitions"]) == (holder, transitions)
    assert spec["renewTime"] == format_time(NOW)
    if observed is not None:
        assert decision.lease["metadata"]["resourceVersion"] == "7"  # optimistic concurrency

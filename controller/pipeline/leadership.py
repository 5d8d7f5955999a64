"""Leader election over a coordination.k8s.io/v1 Lease, decided purely from the observed Lease.

One controller replica reconciles; the others watch (their queues stay warm) and take over when
the holder stops renewing for `lease_seconds`. Writes carry the Lease's resourceVersion, so two
candidates racing for an expired Lease cannot both win.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any

MICRO_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


class Action(Enum):
    CREATE = "create"
    RENEW = "renew"
    TAKE_OVER = "take-over"
    FOLLOW = "follow"


@dataclass(frozen=True)
class Decision:
    action: Action
    lease: dict[str, Any] | None
    """The Lease to write (None when following)."""


def format_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(MICRO_TIME)


def parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    for layout in (MICRO_TIME, "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return dt.datetime.strptime(value, layout).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


def decide(
    observed: dict[str, Any] | None, name: str, namespace: str, identity: str, lease_seconds: int, now: dt.datetime
) -> Decision:
    stamp = format_time(now)
    if observed is None:
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "holderIdentity": identity,
                "leaseDurationSeconds": lease_seconds,
                "acquireTime": stamp,
                "renewTime": stamp,
                "leaseTransitions": 0,
            },
        }
        return Decision(Action.CREATE, lease)
    spec = dict(observed.get("spec") or {})
    holder = spec.get("holderIdentity")
    if holder == identity:
        return Decision(Action.RENEW, _with_spec(observed, spec | {"renewTime": stamp}))
    renewed = parse_time(spec.get("renewTime")) or parse_time(spec.get("acquireTime"))
    duration = int(spec.get("leaseDurationSeconds") or lease_seconds)
    if holder and renewed is not None and now < renewed + dt.timedelta(seconds=duration):
        return Decision(Action.FOLLOW, None)
    taken = spec | {
        "holderIdentity": identity,
        "leaseDurationSeconds": lease_seconds,
        "acquireTime": stamp,
        "renewTime": stamp,
        "leaseTransitions": int(spec.get("leaseTransitions") or 0) + 1,
    }
    return Decision(Action.TAKE_OVER, _with_spec(observed, taken))


def _with_spec(observed: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    metadata = observed["metadata"]
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": metadata["name"],
            "namespace": metadata["namespace"],
            "resourceVersion": metadata["resourceVersion"],
        },
        "spec": spec,
    }

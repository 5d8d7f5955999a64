"""What a reconcile decided (pure data): objects to apply and delete, the status to write, events,
finalizers and when to look again. Planners return it; the runner (an edge) carries it out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.objects import AnyObject, as_stored
from api.v1alpha1.aimservice import ServiceStatusValue
from api.v1alpha1.common import LifecycleStatus

SEVERITY: tuple[str, ...] = (
    LifecycleStatus.FAILED,
    LifecycleStatus.NOT_AVAILABLE,
    LifecycleStatus.DEGRADED,
    LifecycleStatus.PENDING,
    ServiceStatusValue.STARTING,
    LifecycleStatus.PROGRESSING,
    LifecycleStatus.READY,
    ServiceStatusValue.RUNNING,
)
"""Every state word of every kind, worst first (upstream's aggregation order): the worst state of
an object's components becomes its status. AIMService uses Failed, Degraded, Pending, Starting and
Running; every other kind the lifecycle words, of which Ready is healthy."""
HEALTHY: tuple[str, ...] = (LifecycleStatus.READY, ServiceStatusValue.RUNNING)
"""The healthy word of each API: Running for AIMService, Ready for every other kind."""
_RANK = {state: i for i, state in enumerate(SEVERITY)}


def severity_rank(state: str | None) -> int:
    """Position in SEVERITY (lower is worse); an unknown or missing state counts as Pending."""
    return _RANK.get(state or LifecycleStatus.PENDING, _RANK[LifecycleStatus.PENDING])


def worst(states: list[str], default: str = LifecycleStatus.READY) -> str:
    """The worst of some states in SEVERITY order (`default` when there are none)."""
    return min(states, key=severity_rank, default=default)


@dataclass(frozen=True)
class Event:
    type: str  # Normal | Warning
    reason: str
    message: str
    about: dict[str, Any] | None = field(default=None, compare=False)
    """The object the event is about when it is not the reconciled one (e.g. an evicted artifact)."""


@dataclass(frozen=True)
class ObjectRef:
    api_version: str
    kind: str
    name: str
    namespace: str = ""


@dataclass
class Plan:
    apply: list[dict[str, Any]] = field(default_factory=list)
    """Objects to server-side apply, in this order."""
    delete: list[ObjectRef] = field(default_factory=list)
    """Objects to delete (background propagation)."""
    status: dict[str, Any] | None = None
    """The whole desired status; None leaves status alone (e.g. while the object is deleted)."""
    events: list[Event] = field(default_factory=list)
    finalizers: list[str] | None = None
    """The desired metadata.finalizers; None leaves them alone."""
    requeue_after: float | None = None
    """Look again after this many seconds even without a watch event (e.g. polling a download)."""


def owner_reference(owner: AnyObject, controller: bool = True) -> dict[str, Any]:
    owner = as_stored(owner)
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def owned_by(obj: AnyObject | None, owner_uid: str) -> bool:
    obj = None if obj is None else as_stored(obj)
    return any(ref.get("uid") == owner_uid for ref in ((obj or {}).get("metadata") or {}).get("ownerReferences") or [])


def object_ref(obj: AnyObject) -> ObjectRef:
    obj = as_stored(obj)
    metadata = obj["metadata"]
    return ObjectRef(obj["apiVersion"], obj["kind"], metadata["name"], metadata.get("namespace") or "")

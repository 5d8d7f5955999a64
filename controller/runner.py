"""The one reconcile pipeline (edge layer), the same for every kind:
read the object → fetch what it depends on (I/O) → plan (pure) → carry the plan out
(apply, delete, finalizers, status, events) → when to look again.

What differs between kinds is data in their descriptor (controller.kinds): the fetch and plan
functions, a finalizer and the clean-up stage that removes it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from api import labels
from api.conditions import ConditionType, Reason
from api.registry import CRDS
from api.schema.crd import CRDSpec
from controller import watches as w
from controller.clock import utc_now
from controller.common.kserve_events import KServeWarnings
from controller.kube.client import Kube
from controller.kube.errors import AdmissionUnavailableError
from controller.pipeline.apply import needs_apply, with_applied_hash
from controller.pipeline.conditions import FALSE, Condition, condition_of, set_condition
from controller.pipeline.plan import Plan
from controller.registry.client import RegistryClient
from controller.registry.settings import RegistrySettings
from controller.settings import ControllerSettings

log = logging.getLogger(__name__)


Observation = TypeVar("Observation")


@dataclass
class Context:
    """What the fetch functions read with: the API server, the registries, the settings."""

    kube: Kube
    settings: ControllerSettings
    registry: RegistryClient = field(default_factory=RegistryClient)
    """For image metadata (models): anonymous or the model's pull secrets."""
    catalog: RegistryClient = field(default_factory=lambda: RegistryClient(RegistrySettings()))
    """For listing catalogs (model sources), with the registry settings' limits."""
    kserve_warnings: KServeWarnings = field(default_factory=KServeWarnings)
    """KServe's fatal warnings on InferenceServices, from the event watch (the index's)."""


@dataclass(frozen=True)
class Stage(Generic[Observation]):
    """Read what a decision needs (I/O), then decide (pure)."""

    fetch: Callable[[Context, dict[str, Any]], Observation]
    plan: Callable[[Observation, str], Plan]


@dataclass(frozen=True, eq=False)
class Serialised:
    """Reconciles of the objects `applies` picks run one at a time, across every kind that names
    this group: a limit counted from what they create (e.g. discovery Jobs) then stays exact with
    several workers. Only the leading replica reconciles, so a lock in the process suffices."""

    name: str
    applies: Callable[[dict[str, Any]], bool]
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Kind:
    name: str
    version: str
    """The served version the controller reads and writes."""
    reconcile: Stage[Any]
    watches: tuple[w.Watch, ...] = ()
    """Events of other objects that enqueue this kind (its own events always do)."""
    finalizer: str | None = None
    """Added before anything is created; while it is there, a deleted object runs `clean_up`
    instead of `reconcile`, whose plan removes it."""
    finalizer_needed: Callable[[Any, Plan], bool] | None = None
    """When given, the finalizer is added only once a reconcile's observation and plan say the
    clean-up would have work (before that plan is carried out); otherwise always, first thing.
    Saves the finalizer's write on objects that never need it."""
    clean_up: Stage[Any] | None = None
    urgent: bool = True
    """Worked on before non-urgent kinds: what many services wait for goes first."""
    serialised: Serialised | None = None

    @property
    def crd(self) -> CRDSpec:
        return next(c for c in CRDS if c.names.kind == self.name)

    @property
    def api_version(self) -> str:
        return f"{labels.GROUP}/{self.version}"

    @property
    def resource(self) -> w.Resource:
        return w.aim(self.crd.names.plural, self.version)

    @property
    def cluster_scoped(self) -> bool:
        return self.crd.scope == "Cluster"


def is_paused(obj: dict[str, Any]) -> bool:
    return (obj["metadata"].get("annotations") or {}).get(labels.RECONCILIATION_PAUSED) == "true"


def carry_out(kube: Kube, obj: dict[str, Any], plan: Plan, observed: Any, now: str = "") -> None:
    """Write what the plan asks, skipping children already as desired and status already equal.
    A child write refused because an admission webhook cannot be called is said on the object's
    status (DependenciesReachable=False) and retried with back-off by the caller."""
    try:
        _write_children(kube, obj, plan, observed)
    except AdmissionUnavailableError as error:
        _report_admission_unavailable(kube, obj, plan, str(error), now or utc_now())
        raise
    _write_own(kube, obj, plan)


def _write_children(kube: Kube, obj: dict[str, Any], plan: Plan, observed: Any) -> None:
    metadata = obj["metadata"]
    where = f"{metadata.get('namespace', '')}/{metadata['name']}".lstrip("/")
    existing: Callable[[str, str], dict[str, Any] | None] = getattr(observed, "existing", lambda kind, name: None)
    for planned in plan.apply:
        desired = with_applied_hash(planned)
        if not needs_apply(desired, existing(desired["kind"], desired["metadata"]["name"])):
            continue
        kube.apply(desired)
        log.info("Applied %s %s for %s %s", desired["kind"], desired["metadata"]["name"], obj["kind"], where)
    for ref in plan.delete:
        kube.delete(ref.api_version, ref.kind, ref.name, ref.namespace or None)
        log.info("Deleted %s %s for %s %s", ref.kind, ref.name, obj["kind"], where)


def _report_admission_unavailable(kube: Kube, obj: dict[str, Any], plan: Plan, message: str, now: str) -> None:
    """The planned status (or the current one) with DependenciesReachable=False, and one Warning
    the first time. Status writes do not pass the admission webhooks, so this one goes through."""
    status = dict(plan.status if plan.status is not None else obj.get("status") or {})
    condition = Condition(ConditionType.DEPENDENCIES_REACHABLE, FALSE, Reason.ADMISSION_WEBHOOK_UNAVAILABLE, message)
    was = condition_of(obj, ConditionType.DEPENDENCIES_REACHABLE) or {}
    status["conditions"] = set_condition(status.get("conditions"), condition, obj["metadata"].get("generation"), now)
    if status != (obj.get("status") or {}):  # unchanged while it lasts: no write, no watch event
        kube.patch_status(obj, status)
    if was.get("reason") != Reason.ADMISSION_WEBHOOK_UNAVAILABLE:
        kube.event(obj, "Warning", Reason.ADMISSION_WEBHOOK_UNAVAILABLE, message)
    log.warning("%s %s: %s", obj["kind"], obj["metadata"]["name"], message)


def unreadable_message(error: ValidationError) -> str:
    """Which fields of which object do not fit the API model, in the user's (camelCase) terms."""
    problems = "; ".join(
        f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}" for issue in error.errors()[:5]
    )
    return f"{error.title} does not fit the API schema ({error.error_count()} problem(s)): {problems}"


def _report_unreadable(kube: Kube, obj: dict[str, Any], error: ValidationError, now: str) -> None:
    """An object (or one it references) the API server stored but the controller's model refuses:
    admission was bypassed or the CRD and the controller are of different versions. Said on the
    status (ConfigValid=False InvalidSpec) and in one Warning, not retried until something changes."""
    message = unreadable_message(error)
    condition = Condition(ConditionType.CONFIG_VALID, FALSE, Reason.INVALID_SPEC, message)
    status = dict(obj.get("status") or {})
    status["conditions"] = set_condition(status.get("conditions"), condition, obj["metadata"].get("generation"), now)
    if status != (obj.get("status") or {}):
        kube.patch_status(obj, status)
        kube.event(obj, "Warning", Reason.INVALID_SPEC, message)
    log.warning("%s %s: %s", obj["kind"], obj["metadata"]["name"], message)


def _write_own(kube: Kube, obj: dict[str, Any], plan: Plan) -> None:
    metadata = obj["metadata"]
    where = f"{metadata.get('namespace', '')}/{metadata['name']}".lstrip("/")
    # Finalizers first: the patch is guarded by the resourceVersion we read, which a status write
    # would move on.
    if plan.finalizers is not None and plan.finalizers != (metadata.get("finalizers") or []):
        kube.set_finalizers(obj, plan.finalizers)
    if plan.status is not None and plan.status != (obj.get("status") or {}):
        kube.patch_status(obj, plan.status)
        log.info("Updated %s %s status: %s", obj["kind"], where, plan.status.get("status"))
    for event in plan.events:
        kube.event(event.about or obj, event.type, event.reason, event.message)


class Reconciler:
    """Reconciles one kind by its descriptor."""

    def __init__(self, kind: Kind, context: Context, now: Callable[[], str] = utc_now):
        self.kind = kind
        self.context = context
        self.now = now

    def reconcile(self, namespace: str, name: str) -> float | None:
        """Returns seconds after which to look again without an event, or None."""
        kube = self.context.kube
        obj = kube.get(self.kind.api_version, self.kind.name, name, namespace or None)
        if obj is None:
            return None
        serialised = self.kind.serialised
        if serialised is not None and serialised.applies(obj):
            with serialised.lock:
                return self._reconcile(obj)
        return self._reconcile(obj)

    def _reconcile(self, obj: dict[str, Any]) -> float | None:
        kube = self.context.kube
        metadata = obj["metadata"]
        namespace, name = metadata.get("namespace") or "", metadata["name"]
        finalizers = list(obj["metadata"].get("finalizers") or [])
        finalizer, clean_up = self.kind.finalizer, self.kind.clean_up
        if obj["metadata"].get("deletionTimestamp") and clean_up is not None:
            if finalizer in finalizers:
                observed = clean_up.fetch(self.context, obj)
                now = self.now()
                carry_out(kube, obj, clean_up.plan(observed, now), observed, now)
            return None
        if is_paused(obj):
            log.info("Skipped paused %s %s/%s", self.kind.name, namespace, name)
            return None
        needed = self.kind.finalizer_needed
        if finalizer and finalizer not in finalizers and needed is None:
            # Before anything is created that only the clean-up would remove.
            kube.set_finalizers(obj, [*finalizers, finalizer])
        try:
            observed = self.kind.reconcile.fetch(self.context, obj)
        except ValidationError as error:
            _report_unreadable(kube, obj, error, self.now())
            return None  # until the object (or what it references) changes
        now = self.now()
        plan = self.kind.reconcile.plan(observed, now)
        if finalizer and finalizer not in finalizers and needed is not None and needed(observed, plan):
            kube.set_finalizers(obj, [*finalizers, finalizer])
        carry_out(kube, obj, plan, observed, now)
        return plan.requeue_after


def build_reconcilers(context: Context, kinds: tuple[Kind, ...]) -> dict[str, Reconciler]:
    return {kind.name: Reconciler(kind, context) for kind in kinds}

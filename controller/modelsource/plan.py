"""AIMClusterModelSource: a registry sync in, AIMClusterModels, status and events out (pure).

Upstream E.14. A sync lists the registries the filters name (controller.modelsource.fetch does the
I/O); every accepted image gets an AIMClusterModel owned by the source, within maxModels (models
the source already has count). Models are never deleted when their image leaves the registry or
the filters; they go only with the source (garbage collection through the owner reference).

When to sync is decided here too, from the status alone: at once after a spec change
(generation != observedGeneration) or before the first sync, otherwise `syncInterval` after
`lastSyncTime`, and a minute after a sync that failed to list something (a fixed pull Secret or a
registry back up is picked up soon, not an hour later). A reconcile without a sync (the source's
own status write, a model's status change, the periodic resync) only recounts the models. A
rate-limited registry's wait (Retry-After) sets when the reconcile wakes up after that sync; the
status does not keep it, so an unrelated reconcile more than a minute later may ask once more.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import durationpy

from api import labels
from api.conditions import ConditionType, Reason
from api.core import Condition as StoredCondition
from api.core import ConditionStatus
from api.objects import wire
from api.v1alpha1.aimclustermodelsource import AIMClusterModelSource, AIMClusterModelSourceSpec
from api.v1alpha1.common import LifecycleStatus
from controller.catalog.sources import (
    ModelSelection,
    cluster_model_name,
    plan_cluster_model,
    select_models,
)
from controller.modelsource.observe import ListingFailureCategory, ModelSourceObservation, SyncResult
from controller.pipeline.components import Component, overall_state, ready_condition
from controller.pipeline.conditions import FALSE, TRUE, Condition, merge_conditions
from controller.pipeline.plan import Event, Plan, owner_reference

KIND = "AIMClusterModelSource"

DEFAULT_SYNC_INTERVAL = "1h"
MIN_SYNC_INTERVAL_SECONDS = 10.0
"""Shorter intervals are raised to this: a registry is not polled in a tight loop."""
FAILED_SYNC_RETRY_SECONDS = 60.0
"""A sync that could not list everything is retried this soon (or after syncInterval if shorter)."""

_GO_DURATION = re.compile(r"^(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$")
_LISTED_IN_MESSAGES = 5


# --- when to sync -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncInterval:
    seconds: float
    problem: str | None = None
    """Why spec.syncInterval was not used as written (a condition message)."""


def parse_sync_interval(text: str | None) -> SyncInterval:
    """spec.syncInterval as seconds: a Go duration (`1h`, `30m`, `90s`, `1h30m`, `1.5h`).

    durationpy is the Go-duration parser the kubernetes client itself uses; it also accepts units
    Go does not (`d`, `w`, `y`), hence the grammar check first. An unreadable value falls back to
    the default, a too short one is raised to the minimum; both are reported."""
    written = (text or "").strip() or DEFAULT_SYNC_INTERVAL
    default = durationpy.from_str(DEFAULT_SYNC_INTERVAL).total_seconds()
    if not _GO_DURATION.match(written):
        return SyncInterval(
            default,
            f"spec.syncInterval {written!r} is not a duration such as 1h, 30m or 1h30m; "
            f"syncing every {DEFAULT_SYNC_INTERVAL}",
        )
    try:
        seconds = durationpy.from_str(written).total_seconds()
    except (durationpy.DurationError, ValueError):
        return SyncInterval(
            default, f"spec.syncInterval {written!r} is out of range; syncing every {DEFAULT_SYNC_INTERVAL}"
        )
    if seconds < MIN_SYNC_INTERVAL_SECONDS:
        minimum = f"{MIN_SYNC_INTERVAL_SECONDS:g}s"
        return SyncInterval(
            MIN_SYNC_INTERVAL_SECONDS,
            f"spec.syncInterval {written!r} is shorter than {minimum}; syncing every {minimum}",
        )
    return SyncInterval(seconds)


def _parse_time(text: Any) -> dt.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _previous_condition(source: AIMClusterModelSource, condition_type: str) -> StoredCondition | None:
    conditions = source.status.conditions if source.status is not None else None
    return next((c for c in conditions or [] if c.type == condition_type), None)


def _said_false(source: AIMClusterModelSource, condition_type: str) -> bool:
    previous = _previous_condition(source, condition_type)
    return previous is not None and previous.status == ConditionStatus.FALSE


def _last_sync_failed(source: AIMClusterModelSource) -> bool:
    return any(_said_false(source, kind) for kind in (ConditionType.AUTH_VALID, ConditionType.REGISTRY_REACHABLE))


def seconds_until_sync(source: AIMClusterModelSource, now: str) -> float:
    """Seconds until the next sync is due; 0 when it is due now."""
    status = source.status
    if source.metadata.get("deletionTimestamp"):
        return float("inf")
    if source.metadata.get("generation") != (status.observed_generation if status is not None else None):
        return 0.0
    last, current = _parse_time(status.last_sync_time if status is not None else None), _parse_time(now)
    if last is None or current is None:
        return 0.0
    interval = parse_sync_interval(source.spec.sync_interval).seconds
    if _last_sync_failed(source):
        interval = min(interval, FAILED_SYNC_RETRY_SECONDS)
    return max(0.0, (last - current).total_seconds() + interval)


def sync_due(source: AIMClusterModelSource, now: str) -> bool:
    return seconds_until_sync(source, now) <= 0


# --- what to list -------------------------------------------------------------------------------


def pull_secret_names(spec: AIMClusterModelSourceSpec) -> list[str]:
    return [ref.name for ref in spec.image_pull_secrets or [] if ref.name]


# --- what the sync found ------------------------------------------------------------------------


def _listed(names: Iterable[str]) -> str:
    unique = list(dict.fromkeys(names))
    shown = ", ".join(unique[:_LISTED_IN_MESSAGES])
    more = len(unique) - _LISTED_IN_MESSAGES
    return f"{shown} and {more} more" if more > 0 else shown


def _filters_component(sync: SyncResult) -> Component:
    problems = [f.problem for f in sync.filters if f.problem]
    if not problems:
        return Component(
            ConditionType.FILTERS_VALID, LifecycleStatus.READY, Reason.FILTERS_VALID, f"{len(sync.filters)} filter(s)"
        )
    usable = [f for f in sync.filters if not f.problem]
    state = LifecycleStatus.DEGRADED if usable else LifecycleStatus.FAILED
    return Component(ConditionType.FILTERS_VALID, state, Reason.INVALID_FILTERS, "; ".join(problems))


def _interval_component(interval: SyncInterval, written: str) -> Component:
    if interval.problem:
        return Component(
            ConditionType.SYNC_INTERVAL_VALID, LifecycleStatus.DEGRADED, Reason.INVALID_SYNC_INTERVAL, interval.problem
        )
    return Component(
        ConditionType.SYNC_INTERVAL_VALID, LifecycleStatus.READY, Reason.SYNC_INTERVAL_VALID, f"Syncing every {written}"
    )


def _auth_component(sync: SyncResult) -> Component:
    refused = [p.message for p in sync.problems if p.category is ListingFailureCategory.UNAUTHORIZED]
    if refused:
        message = "; ".join(list(dict.fromkeys(refused))[:_LISTED_IN_MESSAGES] + sync.secret_problems)
        return Component(ConditionType.AUTH_VALID, LifecycleStatus.FAILED, Reason.UNAUTHORIZED, message)
    if sync.secret_problems:
        return Component(
            ConditionType.AUTH_VALID,
            LifecycleStatus.DEGRADED,
            Reason.PULL_SECRET_PROBLEM,
            "; ".join(sync.secret_problems),
        )
    if sync.credential_sources:
        used = ", ".join(
            f'Secret "{secret}" for {registry}' for registry, secret in sorted(sync.credential_sources.items())
        )
        return Component(
            ConditionType.AUTH_VALID,
            LifecycleStatus.READY,
            Reason.CREDENTIALS_ACCEPTED,
            f"Credentials accepted: {used}",
        )
    return Component(ConditionType.AUTH_VALID, LifecycleStatus.READY, Reason.ANONYMOUS_ACCESS, "No credentials needed")


_REACHABILITY = (
    (ListingFailureCategory.RATE_LIMITED, Reason.REGISTRY_RATE_LIMITED),
    (ListingFailureCategory.UNREACHABLE, Reason.REGISTRY_UNREACHABLE),
    (ListingFailureCategory.NOT_FOUND, Reason.REPOSITORY_NOT_FOUND),
    (ListingFailureCategory.PROTOCOL, Reason.REGISTRY_PROTOCOL_ERROR),
)


def _reachability_component(sync: SyncResult) -> Component:
    failed = [p for p in sync.problems if p.category is not ListingFailureCategory.UNAUTHORIZED]
    if not failed:
        registries = sorted({f.registry for f in sync.filters if not f.problem})
        message = f"Listed {', '.join(registries)}" if registries else "Nothing to list"
        return Component(ConditionType.REGISTRY_REACHABLE, LifecycleStatus.READY, Reason.REACHABLE, message)
    reason = next(reason for category, reason in _REACHABILITY if any(p.category is category for p in failed))
    messages = list(dict.fromkeys(p.message for p in failed))
    more = len(messages) - _LISTED_IN_MESSAGES
    message = "; ".join(messages[:_LISTED_IN_MESSAGES]) + (f" (and {more} more)" if more > 0 else "")
    return Component(ConditionType.REGISTRY_REACHABLE, LifecycleStatus.DEGRADED, reason, message)


def _discovery_component(accepted: int, models: int, conflicts: list[str]) -> Component:
    held = f"; {len(conflicts)} image(s) left to the models already named so: {_listed(conflicts)}" if conflicts else ""
    if accepted == 0:
        return Component(
            ConditionType.MODELS_DISCOVERED,
            LifecycleStatus.PENDING,
            Reason.NO_MATCHING_IMAGES,
            f"No image matches the filters{held}",
        )
    message = f"{accepted} matching image(s), {models} model(s){held}"
    return Component(ConditionType.MODELS_DISCOVERED, LifecycleStatus.READY, Reason.MODELS_DISCOVERED, message)


def _limit_condition(selection: ModelSelection, max_models: int, models: int) -> Condition:
    if selection.limit_reached:
        left = _listed(image.image for image in selection.skipped)
        message = f"maxModels {max_models} reached: {len(selection.skipped)} matching image(s) have no model ({left})"
        return Condition(ConditionType.MAX_MODELS_LIMIT_REACHED, TRUE, Reason.LIMIT_REACHED, message)
    return Condition(
        ConditionType.MAX_MODELS_LIMIT_REACHED, FALSE, Reason.WITHIN_LIMIT, f"{models} of at most {max_models} model(s)"
    )


# --- the plan -----------------------------------------------------------------------------------


def available_models(models: Iterable[Mapping[str, Any]]) -> int:
    return sum(1 for m in models if (m.get("status") or {}).get("status") == LifecycleStatus.READY)


def _owned(model: dict[str, Any], source: AIMClusterModelSource) -> dict[str, Any]:
    # Not blocking the owner's deletion, as upstream: a foreground deletion of the source need not
    # wait for its models, and the API server then asks for no finalizers permission on sources.
    reference = owner_reference(source) | {"blockOwnerDeletion": False}
    model["metadata"]["ownerReferences"] = [reference]
    return model


def _failure_events(source: AIMClusterModelSource, components: list[Component], limit: Condition) -> list[Event]:
    """A Warning when a problem appears or changes its reason, not on every failed retry."""
    events = []
    for component in components:
        if component.state == LifecycleStatus.READY or component.state == LifecycleStatus.PENDING:
            continue
        before = _previous_condition(source, component.condition)
        if before is None or before.status != ConditionStatus.FALSE or before.reason != component.reason:
            events.append(Event("Warning", component.reason, component.message))
    before = _previous_condition(source, ConditionType.MAX_MODELS_LIMIT_REACHED)
    if limit.status == TRUE and (before is None or before.status != ConditionStatus.TRUE):
        events.append(Event("Warning", ConditionType.MAX_MODELS_LIMIT_REACHED, limit.message))
    return events


def plan_model_source(observed: ModelSourceObservation, now: str) -> Plan:
    source = observed.source
    if source.metadata.get("deletionTimestamp"):
        return Plan()  # the garbage collector removes the models with their owner
    counts = {"discoveredModels": len(observed.models), "availableModels": available_models(observed.models)}
    if observed.sync is None:
        # The status as stored, only the counts changed: nothing else is known without a sync.
        previous: dict[str, Any] = dict(source.stored.get("status") or {})
        return Plan(
            status=previous | counts if _last_sync_time(source) else None,
            requeue_after=max(1.0, seconds_until_sync(source, now)),
        )
    return _plan_sync(observed, observed.sync, now)


def _plan_sync(observed: ModelSourceObservation, sync: SyncResult, now: str) -> Plan:
    source = observed.source
    name = source.name
    max_models = source.spec.max_models
    written_interval = source.spec.sync_interval or DEFAULT_SYNC_INTERVAL
    interval = parse_sync_interval(written_interval)

    # An image whose model name another source (or a person) already uses is left to that model.
    accepted = sorted(set(sync.images))
    conflicts = [image for image in accepted if cluster_model_name(image) in sync.taken_names]
    candidates = [image for image in accepted if image not in set(conflicts)]
    selection = select_models(candidates, [(m.get("spec") or {}).get("image", "") for m in observed.models], max_models)

    plan = Plan()
    pull_secrets = [{"name": secret} for secret in pull_secret_names(source.spec)]
    existing_names = {m["metadata"]["name"] for m in observed.models}
    created: list[str] = []
    for image in (*selection.create, *selection.existing):
        desired = _owned(plan_cluster_model(name, image, pull_secrets), source)
        model_name = desired["metadata"]["name"]
        if image in selection.existing and model_name not in existing_names:
            continue  # a model for this image under another name (e.g. older naming): left alone
        plan.apply.append(desired)
        if model_name not in existing_names:
            created.append(model_name)

    models = len(existing_names | set(created))
    components = [
        _filters_component(sync),
        _interval_component(interval, written_interval),
        _auth_component(sync),
        _reachability_component(sync),
        _discovery_component(len(accepted), models, [cluster_model_name(i) for i in conflicts]),
    ]
    limit = _limit_condition(selection, max_models, models)
    plan.status = _status(source, components, limit, now) | {
        "lastSyncTime": now,
        "discoveredModels": models,
        "availableModels": available_models(observed.models),
        "modelsLimitReached": selection.limit_reached,
    }

    plan.events = _failure_events(source, components, limit)
    if created:
        plan.events.append(
            Event("Normal", Reason.MODELS_CREATED, f"Created {len(created)} AIMClusterModel(s): {_listed(created)}")
        )
    if not _last_sync_time(source) and overall_state(components) == LifecycleStatus.READY:
        plan.events.append(
            Event("Normal", Reason.SYNCED, f"First sync: {len(accepted)} matching image(s), {models} model(s)")
        )

    plan.requeue_after = _next_sync_after(sync, interval)
    return plan


def _next_sync_after(sync: SyncResult, interval: SyncInterval) -> float:
    """syncInterval; a minute (or syncInterval if shorter) after a failed listing; and never
    before a rate-limited registry said to ask again."""
    if not (sync.problems or sync.secret_problems):
        return interval.seconds
    retry = min(interval.seconds, FAILED_SYNC_RETRY_SECONDS)
    waits = [p.retry_after for p in sync.problems if p.retry_after is not None]
    return max([retry, *waits])


def _last_sync_time(source: AIMClusterModelSource) -> str | None:
    return source.status.last_sync_time if source.status is not None else None


def _status(source: AIMClusterModelSource, components: list[Component], limit: Condition, now: str) -> dict[str, Any]:
    conditions = [c.as_condition() for c in components] + [ready_condition(components), limit]
    generation = source.metadata.get("generation")
    previous = wire(source.status.conditions) if source.status is not None else None
    status: dict[str, Any] = {
        "conditions": merge_conditions(previous, conditions, generation, now),
        "status": overall_state(components),
    }
    if generation is not None:
        status["observedGeneration"] = generation
    return status


def is_source_model(model: Mapping[str, Any], source_name: str) -> bool:
    return ((model.get("metadata") or {}).get("labels") or {}).get(labels.MODEL_SOURCE) == source_name

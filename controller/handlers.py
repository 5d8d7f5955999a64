"""kopf wiring (edge layer): watches turn into keys on the work queue; nothing else happens here.

What each event means is data: every kind's descriptor (controller.kinds) lists the watches that
enqueue it, and the pure functions of controller.watches map an event to keys. Here each watched
resource gets one kopf handler that runs all of its watches.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import kopf

from api import labels
from controller.kube.client import kind_of
from controller.kube.store import ObjectStore
from controller.pipeline.workqueue import WorkQueue
from controller.runner import Kind
from controller.settings import ControllerSettings
from controller.watches import SERVICE, Deduplicated, Event, ObjectKey, Resource, ServiceIndex, Watch

log = logging.getLogger(__name__)
THIRD_PARTY_GROUPS = (labels.KSERVE_GROUP, labels.GATEWAY_GROUP, labels.KEDA_GROUP)
"""Watched kinds whose CRDs other projects install, possibly after this controller (crdwatch)."""


def own_events(kind: Kind, index: ServiceIndex) -> Watch:
    """A kind's own events keep the index current and enqueue the object itself."""

    def to_keys(event: Event, _: ServiceIndex) -> list[ObjectKey]:
        key = (kind.name, event.namespace, event.name)
        if kind.name == SERVICE:
            index.update(event.body, deleted=event.deleted)
        else:
            index.track(key, deleted=event.deleted)
        return [] if event.deleted else [key]

    return Watch(kind.resource, to_keys)


def watches_by_resource(kinds: tuple[Kind, ...], index: ServiceIndex) -> dict[Resource, list[Deduplicated]]:
    """Every watch of every kind, grouped by the resource it watches (one kopf handler each)."""
    grouped: dict[Resource, list[Deduplicated]] = defaultdict(list)
    for kind in kinds:
        for watch in (own_events(kind, index), *kind.watches):
            grouped[watch.resource].append(Deduplicated(watch))
    return dict(grouped)


def stored_types(kinds: tuple[Kind, ...]) -> list[tuple[str, str]]:
    """(apiVersion, kind) of every resource watched in full (no label filter): what the
    controller's in-memory store can serve."""
    resources = {watch.resource for kind in kinds for watch in (Watch(kind.resource, _no_keys), *kind.watches)}
    found = []
    for resource in sorted(resources, key=lambda r: (r.group, r.plural)):
        if resource.labels or not resource.stored:
            continue
        api_version = f"{resource.group}/{resource.version}" if resource.group else resource.version
        found.append((api_version, kind_of(api_version, resource.plural)))
    return found


def filtered_types(kinds: tuple[Kind, ...]) -> dict[tuple[str, str], list[tuple[str, str | None]]]:
    """(apiVersion, kind) → label filter of every resource watched through exactly one label filter
    and not in full: the store holds what that watch delivers (Jobs, watched through several
    filters, stay with the API server)."""
    resources = {watch.resource for kind in kinds for watch in (Watch(kind.resource, _no_keys), *kind.watches)}
    full = set(stored_types(kinds))
    filters: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    for resource in resources:
        if resource.labels and resource.stored:
            api_version = f"{resource.group}/{resource.version}" if resource.group else resource.version
            filters[(api_version, kind_of(api_version, resource.plural))].append(resource)
    return {
        key: [(k, v) for k, v in found[0].labels]
        for key, found in sorted(filters.items())
        if len(found) == 1 and key not in full
    }


def _no_keys(event: Event, index: ServiceIndex) -> list[ObjectKey]:
    return []


def register(
    registry: kopf.OperatorRegistry,
    queue: WorkQueue[ObjectKey],
    index: ServiceIndex,
    kinds: tuple[Kind, ...],
    store: ObjectStore | None = None,
) -> None:
    for resource, watches in watches_by_resource(kinds, index).items():
        # A coroutine, run on kopf's event loop: a plain function would be handed to a thread
        # of kopf's executor for each event, and this does too little to be worth the hop.
        async def changed(
            body: kopf.Body,
            type: str | None,
            _watches: list[Deduplicated] = watches,
            _stored: bool = resource.stored,
            **_: Any,
        ) -> None:
            event = Event(body, deleted=type == "DELETED")
            if store is not None and _stored:  # before the keys: a reconcile must see what enqueued it
                store.observe(body, deleted=event.deleted)
            for watch in _watches:
                for key in watch.keys(event, index):
                    queue.add(key)

        kopf.on.event(
            resource.group,
            resource.version,
            resource.plural,
            labels=dict(resource.labels) or None,
            registry=registry,
            id=f"{resource.plural}.{resource.group or 'core'}" + "".join(f"/{k}={v}" for k, v in resource.labels),
        )(changed)


def server_side_selectors(kinds: tuple[Kind, ...]) -> dict[tuple[str, str, str], tuple[str, str]]:
    """(group, version, plural) → (label selector, field selector) the API server applies to the
    watch: a resource's label filter when every watch of it has the same one (the pods, services
    and PVCs the controller makes, not every one in the cluster), and its field selector. Jobs,
    watched through several filters, stay filtered in kopf."""
    found: dict[tuple[str, str, str], set[Resource]] = defaultdict(set)
    for kind in kinds:
        for resource in (kind.resource, *(watch.resource for watch in kind.watches)):
            found[(resource.group, resource.version, resource.plural)].add(resource)
    selectors = {}
    for key, resources in found.items():
        if len({(r.labels, r.fields) for r in resources}) != 1:
            continue
        resource = next(iter(resources))
        if resource.labels or resource.fields:
            label_selector = ",".join(f"{k}={v}" for k, v in resource.labels)
            selectors[key] = (label_selector, resource.fields)
    return selectors


def configure(settings: kopf.OperatorSettings, controller: ControllerSettings, kinds: tuple[Kind, ...] = ()) -> None:
    settings.watching.server_timeout = controller.watch_server_timeout
    settings.watching.client_timeout = controller.watch_client_timeout
    settings.posting.level = logging.WARNING  # kopf's own k8s events only for problems; ours are explicit
    settings.persistence.finalizer = labels.KOPF_FINALIZER
    # kopf keeps a task per object for this long after its last event. Each event takes
    # microseconds here (the store and the queue), so a burst of thousands of objects need not
    # keep thousands of idle tasks for kopf's default 5 s.
    settings.queueing.idle_timeout = controller.watch_idle_seconds
    for key, (label_selector, field_selector) in server_side_selectors(kinds).items():
        # (group, version, plural): kopf matches "" as the core group. (A predicate would not do:
        # kopf never lets one match core events.)
        if label_selector:
            settings.watching.label_selectors[key] = label_selector
        if field_selector:
            settings.watching.field_selectors[key] = field_selector

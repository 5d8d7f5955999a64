"""Artifact storage quotas, eviction and reaping (pure: artifacts, caches, services and limits in,
decisions out).

**Quotas.** An AIMClusterRuntimeConfig may limit the space artifacts allocate (their volume
requests, headroom included): `artifactStorageQuota.clusterLimit` for the cluster and
`defaultNamespaceLimit` per namespace, which a namespace's `aim.eai.amd.com/artifact-storage-quota`
annotation replaces. An artifact is checked once, before its volume is created (an existing volume
is never taken away): when the volume would take its namespace or the cluster over a limit,
evictable artifacts are deleted to make room, or, when deleting them all would not be enough,
nothing is deleted and the artifact waits, Failed, with the numbers in its StorageQuotaExceeded
condition, looked at again every 30 s.

**Evictable**: another artifact that is Ready, Shared, not being deleted, not annotated
`aim.eai.amd.com/eviction-protected: "true"`, has a retention priority (its own
spec.retentionPriority, else the runtime config's artifact.defaultRetentionPriority) and that no
template or profile cache lists (a cache would only download it again; a running service's volume
is always listed by its cache). Lower priorities go first; among equals, the least recently used
(status.lastUsed, else creation), then the oldest.

Unlike upstream: when the namespace's limit is met by evicting in the namespace, the cluster limit is
still checked in the same pass (upstream plans only the namespace then); artifacts are ordered by
last use, not only by age; and evictable artifacts no cache references are reaped after the runtime
config's artifact.reapUnreferencedAfter (upstream never deletes a Shared Ready artifact by itself).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from api import labels
from api.conditions import ConditionType, Reason
from api.quantity import QuantityError, binary_quantity, quantity_bytes, whole_gibibytes
from api.v1alpha1.common import LifecycleStatus
from controller.pipeline.conditions import FALSE, TRUE, Condition

BLOCKED_RECHECK_SECONDS = 30.0
EVICTED_RECHECK_SECONDS = 2.0
"""The evicted artifacts are gone from the controller's view as soon as it deleted them."""
LAST_USED_REFRESH = dt.timedelta(hours=1)
"""status.lastUsed is refreshed at most this often while a service uses the artifact (one write an hour)."""
WITHIN_QUOTA_MESSAGE = "Storage usage is within quota limits"


@dataclass(frozen=True)
class Consumers:
    """What uses the artifacts of one namespace."""

    caches: list[dict[str, Any]] = field(default_factory=list)
    """AIMTemplateCaches and AIMProfileCaches: their status.artifacts list the artifacts they mount."""
    services: list[dict[str, Any]] = field(default_factory=list)
    """AIMServices: a live one uses the caches it names in its status (template) or spec (profile)."""


@dataclass(frozen=True)
class QuotaObservation:
    """Read only for an artifact whose volume does not exist yet, when a quota is configured."""

    quota: Mapping[str, Any]
    """The cluster runtime config's artifactStorageQuota."""
    namespace_annotation: str | None
    """The artifact's namespace's aim.eai.amd.com/artifact-storage-quota, if any."""
    artifacts: list[dict[str, Any]]
    """Every artifact that counts: the namespace's, or the cluster's when a cluster limit is set."""
    caches: list[dict[str, Any]]
    """The template and profile caches of the same scope (what they list is never evicted)."""


@dataclass(frozen=True)
class Limits:
    namespace: int | None
    cluster: int | None
    warning: str = ""


@dataclass(frozen=True)
class QuotaDecision:
    condition: Condition
    """StorageQuotaExceeded."""
    evict: list[dict[str, Any]] = field(default_factory=list)
    blocked: bool = False

    @property
    def fits(self) -> bool:
        return not self.blocked and not self.evict


# --- rules ------------------------------------------------------------------------------------------


def limits(quota: Mapping[str, Any], annotation: str | None, namespace: str) -> Limits:
    """The namespace's annotation replaces defaultNamespaceLimit; a malformed one is ignored with a warning."""
    cluster = _bytes(quota.get("clusterLimit"))
    default = _bytes(quota.get("defaultNamespaceLimit"))
    if annotation is None:
        return Limits(default, cluster)
    try:
        return Limits(quantity_bytes(annotation), cluster)
    except QuantityError:
        warning = f"invalid {labels.ARTIFACT_STORAGE_QUOTA} annotation {annotation!r} on namespace {namespace} ignored"
        return Limits(default, cluster, warning)


def allocated_bytes(artifact: Mapping[str, Any], headroom_percent: int) -> int:
    """The space an artifact's volume takes or will take: its allocatedSize once it has one, else
    its size plus headroom rounded up to whole GiB (as its volume will be requested)."""
    status = artifact.get("status") or {}
    if status.get("allocatedSize"):
        return _bytes(status["allocatedSize"]) or 0
    size = int(status.get("discoveredSizeBytes") or 0) or (_bytes((artifact.get("spec") or {}).get("size")) or 0)
    return with_headroom(size, headroom_percent) if size else 0


def with_headroom(size: int, headroom_percent: int) -> int:
    """The volume request for a size (the same rule as the volume itself)."""
    return quantity_bytes(whole_gibibytes(size, headroom_percent))


def retention_priority(artifact: Mapping[str, Any], default: int | None) -> int | None:
    own = (artifact.get("spec") or {}).get("retentionPriority")
    return int(own) if own is not None else default


def protected(artifact: Mapping[str, Any]) -> bool:
    return (artifact["metadata"].get("annotations") or {}).get(labels.EVICTION_PROTECTED) == "true"


def shared(artifact: Mapping[str, Any]) -> bool:
    """Not owned by a cache (Dedicated artifacts go with their cache)."""
    return not artifact["metadata"].get("ownerReferences")


def referenced(caches: Iterable[Mapping[str, Any]]) -> set[str]:
    """UIDs (and names, for entries without one) of the artifacts the caches list."""
    found: set[str] = set()
    for cache in caches:
        for name, entry in ((cache.get("status") or {}).get("artifacts") or {}).items():
            found.add((entry or {}).get("uid") or f"{cache['metadata'].get('namespace', '')}/{name}")
    return found


def is_referenced(artifact: Mapping[str, Any], refs: set[str]) -> bool:
    metadata = artifact["metadata"]
    return metadata.get("uid") in refs or f"{metadata.get('namespace', '')}/{metadata['name']}" in refs


def in_use(artifact: Mapping[str, Any], consumers: Consumers) -> bool:
    """A live service uses a cache that lists the artifact."""
    live = [s for s in consumers.services if not s["metadata"].get("deletionTimestamp")]
    template_caches = {
        ((s.get("status") or {}).get("cache") or {}).get("templateCacheRef", {}).get("name") for s in live
    }
    profiles = {((s.get("spec") or {}).get("profile") or {}).get("name") for s in live}
    used = [
        c
        for c in consumers.caches
        if (c["kind"] == "AIMTemplateCache" and c["metadata"]["name"] in template_caches)
        or (c["kind"] == "AIMProfileCache" and (c.get("spec") or {}).get("profileName") in profiles)
    ]
    return is_referenced(artifact, referenced(used))


def last_used(artifact: Mapping[str, Any]) -> str:
    return str((artifact.get("status") or {}).get("lastUsed") or artifact["metadata"].get("creationTimestamp") or "")


def evictable(
    candidates: Iterable[dict[str, Any]], artifact: Mapping[str, Any], refs: set[str], default_priority: int | None
) -> list[dict[str, Any]]:
    """Artifacts that may be deleted to make room for `artifact`, in the order they go."""
    uid = artifact["metadata"].get("uid")
    eligible = [
        a
        for a in candidates
        if a["metadata"].get("uid") != uid
        and not a["metadata"].get("deletionTimestamp")
        and not protected(a)
        and retention_priority(a, default_priority) is not None
        and (a.get("status") or {}).get("status") == LifecycleStatus.READY
        and shared(a)
        and not is_referenced(a, refs)
    ]
    return sorted(
        eligible,
        key=lambda a: (
            retention_priority(a, default_priority),
            last_used(a),
            a["metadata"].get("creationTimestamp") or "",
            a["metadata"].get("namespace", ""),
            a["metadata"]["name"],
        ),
    )


def evaluate_quota(
    artifact: Mapping[str, Any],
    needed: int,
    headroom_percent: int,
    observed: QuotaObservation,
    default_priority: int | None,
) -> QuotaDecision | None:
    """None when no limit applies. `needed` is the new volume's request in bytes."""
    namespace = artifact["metadata"]["namespace"]
    found = limits(observed.quota, observed.namespace_annotation, namespace)
    if found.namespace is None and found.cluster is None:
        return None
    uid = artifact["metadata"].get("uid")
    counted = [
        a for a in observed.artifacts if a["metadata"].get("uid") != uid and not a["metadata"].get("deletionTimestamp")
    ]
    refs = referenced(observed.caches)
    chosen: list[dict[str, Any]] = []
    checks = [
        (
            found.namespace,
            [a for a in counted if a["metadata"].get("namespace") == namespace],
            "Namespace",
            Reason.NAMESPACE_QUOTA_EXCEEDED,
        ),
        (found.cluster, counted, "Cluster", Reason.CLUSTER_QUOTA_EXCEEDED),
    ]
    for limit, scope, word, reason in checks:
        if limit is None:
            continue
        used = sum(allocated_bytes(a, headroom_percent) for a in scope)
        freed = sum(allocated_bytes(a, headroom_percent) for a in chosen if a in scope)
        deficit = used - freed + needed - limit
        if deficit <= 0:
            continue
        more = _shortest_prefix(
            [a for a in evictable(scope, artifact, refs, default_priority) if a not in chosen],
            deficit,
            headroom_percent,
        )
        if more is None:
            message = (
                f"{word} quota exceeded: {binary_quantity(used)} used + {binary_quantity(needed)} needed > "
                f"{binary_quantity(limit)} limit; no evictable artifact can make enough room"
            )
            if found.warning:
                message += f" (warning: {found.warning})"
            return QuotaDecision(Condition(ConditionType.STORAGE_QUOTA_EXCEEDED, TRUE, reason, message), blocked=True)
        chosen += more
    if chosen:
        names = ", ".join(_where(a) for a in chosen)
        message = f"Evicting {len(chosen)} artifact(s) to free storage quota: {names}"
        return QuotaDecision(
            Condition(ConditionType.STORAGE_QUOTA_EXCEEDED, TRUE, Reason.EVICTING, message), evict=chosen
        )
    message = WITHIN_QUOTA_MESSAGE + (f" (warning: {found.warning})" if found.warning else "")
    return QuotaDecision(Condition(ConditionType.STORAGE_QUOTA_EXCEEDED, FALSE, Reason.WITHIN_QUOTA, message))


def _shortest_prefix(ordered: list[dict[str, Any]], deficit: int, headroom_percent: int) -> list[dict[str, Any]] | None:
    freed, prefix = 0, []
    for candidate in ordered:
        prefix.append(candidate)
        freed += allocated_bytes(candidate, headroom_percent)
        if freed >= deficit:
            return prefix
    return None


# --- use and reaping ---------------------------------------------------------------------------------


def refreshed_last_used(artifact: Mapping[str, Any], using: bool, now: str) -> str | None:
    """status.lastUsed: now while a service uses the artifact (at most hourly), else as it was."""
    previous = (artifact.get("status") or {}).get("lastUsed")
    if not using:
        return previous
    if previous and parse_time(now) - parse_time(previous) < LAST_USED_REFRESH:
        return str(previous)
    return now


def reap_in(
    artifact: Mapping[str, Any],
    consumers: Consumers,
    default_priority: int | None,
    reap_after: str | None,
    last_used_at: str | None,
    now: str,
) -> float | None:
    """Seconds until an unreferenced evictable artifact is reaped (0: now); None when it is kept."""
    if reap_after is None or not shared(artifact) or protected(artifact):
        return None
    if retention_priority(artifact, default_priority) is None or artifact["metadata"].get("deletionTimestamp"):
        return None
    if is_referenced(artifact, referenced(consumers.caches)):
        return None
    since = max(last_used_at or "", artifact["metadata"].get("creationTimestamp") or "") or now
    due = parse_time(since) + duration(reap_after)
    return max(0.0, (due - parse_time(now)).total_seconds())


_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0}


def duration(text: str) -> dt.timedelta:
    """A Go duration of hours, minutes and seconds (api.v1alpha1.aimruntimeconfig.DURATION_PATTERN)."""
    return dt.timedelta(seconds=sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text)))


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _bytes(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return quantity_bytes(value)
    except QuantityError:
        return None


def _where(artifact: Mapping[str, Any]) -> str:
    return f"{artifact['metadata'].get('namespace', '')}/{artifact['metadata']['name']}"

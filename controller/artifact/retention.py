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
from api.v1alpha1.aimartifact import AIMArtifact
from api.v1alpha1.aimtemplatecache import AIMTemplateCache
from api.v1alpha1.common import LifecycleStatus
from api.v1alpha2.aimprofilecache import AIMProfileCache
from controller.common.caching import AnyCache, ServiceUse
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

    caches: list[AnyCache] = field(default_factory=list)
    """AIMTemplateCaches and AIMProfileCaches: their status.artifacts list the artifacts they mount."""
    services: list[ServiceUse] = field(default_factory=list)
    """AIMServices: a live one uses the caches it names in its status (template) or spec (profile)."""


@dataclass(frozen=True)
class QuotaObservation:
    """Read only for an artifact whose volume does not exist yet, when a quota is configured."""

    quota: Mapping[str, Any]
    """The cluster runtime config's artifactStorageQuota."""
    namespace_annotation: str | None
    """The artifact's namespace's aim.eai.amd.com/artifact-storage-quota, if any."""
    artifacts: list[AIMArtifact]
    """Every artifact that counts: the namespace's, or the cluster's when a cluster limit is set."""
    caches: list[AnyCache]
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
    evict: list[AIMArtifact] = field(default_factory=list)
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


def allocated_bytes(artifact: AIMArtifact, headroom_percent: int) -> int:
    """The space an artifact's volume takes or will take: its allocatedSize once it has one, else
    its size plus headroom rounded up to whole GiB (as its volume will be requested)."""
    status = artifact.status
    if status is not None and status.allocated_size:
        return _bytes(status.allocated_size) or 0
    discovered = status.discovered_size_bytes if status is not None else None
    size = (discovered or 0) or (_bytes(artifact.spec.size) or 0)
    return with_headroom(size, headroom_percent) if size else 0


def with_headroom(size: int, headroom_percent: int) -> int:
    """The volume request for a size (the same rule as the volume itself)."""
    return quantity_bytes(whole_gibibytes(size, headroom_percent))


def retention_priority(artifact: AIMArtifact, default: int | None) -> int | None:
    own = artifact.spec.retention_priority
    return own if own is not None else default


def protected(artifact: AIMArtifact) -> bool:
    return artifact.annotations.get(labels.EVICTION_PROTECTED) == "true"


def shared(artifact: AIMArtifact) -> bool:
    """Not owned by a cache (Dedicated artifacts go with their cache)."""
    return not artifact.metadata.get("ownerReferences")


def deleting(artifact: AIMArtifact) -> bool:
    return bool(artifact.metadata.get("deletionTimestamp"))


def created(artifact: AIMArtifact) -> str:
    return str(artifact.metadata.get("creationTimestamp") or "")


def referenced(caches: Iterable[AnyCache]) -> set[str]:
    """UIDs (and names, for entries without one) of the artifacts the caches list."""
    found: set[str] = set()
    for cache in caches:
        listed = cache.status.artifacts if cache.status is not None else None
        for name, entry in (listed or {}).items():
            found.add(entry.uid or f"{cache.namespace}/{name}")
    return found


def is_referenced(artifact: AIMArtifact, refs: set[str]) -> bool:
    return artifact.uid in refs or f"{artifact.namespace}/{artifact.name}" in refs


def in_use(artifact: AIMArtifact, consumers: Consumers) -> bool:
    """A live service uses a cache that lists the artifact."""
    live = [s for s in consumers.services if not s.deleting]
    template_caches = {s.template_cache for s in live if s.template_cache}
    profiles = {s.profile for s in live if s.profile}
    used = [
        c
        for c in consumers.caches
        if (isinstance(c, AIMTemplateCache) and c.name in template_caches)
        or (isinstance(c, AIMProfileCache) and c.spec.profile_name in profiles)
    ]
    return is_referenced(artifact, referenced(used))


def last_used(artifact: AIMArtifact) -> str:
    used = artifact.status.last_used if artifact.status is not None else None
    return used or created(artifact)


def evictable(
    candidates: Iterable[AIMArtifact], artifact: AIMArtifact, refs: set[str], default_priority: int | None
) -> list[AIMArtifact]:
    """Artifacts that may be deleted to make room for `artifact`, in the order they go."""
    eligible = [
        a
        for a in candidates
        if a.uid != artifact.uid
        and not deleting(a)
        and not protected(a)
        and retention_priority(a, default_priority) is not None
        and a.status is not None
        and a.status.status == LifecycleStatus.READY
        and shared(a)
        and not is_referenced(a, refs)
    ]
    return sorted(
        eligible,
        key=lambda a: (retention_priority(a, default_priority), last_used(a), created(a), a.namespace, a.name),
    )


def evaluate_quota(
    artifact: AIMArtifact,
    needed: int,
    headroom_percent: int,
    observed: QuotaObservation,
    default_priority: int | None,
) -> QuotaDecision | None:
    """None when no limit applies. `needed` is the new volume's request in bytes."""
    namespace = artifact.namespace
    found = limits(observed.quota, observed.namespace_annotation, namespace)
    if found.namespace is None and found.cluster is None:
        return None
    counted = [a for a in observed.artifacts if a.uid != artifact.uid and not deleting(a)]
    refs = referenced(observed.caches)
    chosen: list[AIMArtifact] = []
    checks = [
        (
            found.namespace,
            [a for a in counted if a.namespace == namespace],
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


def _shortest_prefix(ordered: list[AIMArtifact], deficit: int, headroom_percent: int) -> list[AIMArtifact] | None:
    freed, prefix = 0, []
    for candidate in ordered:
        prefix.append(candidate)
        freed += allocated_bytes(candidate, headroom_percent)
        if freed >= deficit:
            return prefix
    return None


# --- use and reaping ---------------------------------------------------------------------------------


def refreshed_last_used(artifact: AIMArtifact, using: bool, now: str) -> str | None:
    """status.lastUsed: now while a service uses the artifact (at most hourly), else as it was."""
    previous = artifact.status.last_used if artifact.status is not None else None
    if not using:
        return previous
    if previous and parse_time(now) - parse_time(previous) < LAST_USED_REFRESH:
        return previous
    return now


def reap_in(
    artifact: AIMArtifact,
    consumers: Consumers,
    default_priority: int | None,
    reap_after: str | None,
    last_used_at: str | None,
    now: str,
) -> float | None:
    """Seconds until an unreferenced evictable artifact is reaped (0: now); None when it is kept."""
    if reap_after is None or not shared(artifact) or protected(artifact):
        return None
    if retention_priority(artifact, default_priority) is None or deleting(artifact):
        return None
    if is_referenced(artifact, referenced(consumers.caches)):
        return None
    since = max(last_used_at or "", created(artifact)) or now
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


def _where(artifact: AIMArtifact) -> str:
    return f"{artifact.namespace}/{artifact.name}"

"""Artifact storage quotas, eviction order, last use and reaping (controller.artifact.retention),
and how the artifact's plan carries them out."""

from __future__ import annotations

from typing import Any

import pytest

from api.naming import rfc1123
from api.quantity import quantity_bytes
from api.stored import read_artifact, read_profile_cache, read_service, read_template_cache
from api.v1alpha1.aimservice import AdapterMode
from controller.artifact.observe import ArtifactObservation
from controller.artifact.plan import plan_artifact
from controller.artifact.retention import (
    Consumers,
    QuotaObservation,
    allocated_bytes,
    duration,
    evaluate_quota,
    evictable,
    in_use,
    limits,
    reap_in,
    refreshed_last_used,
)
from controller.common.caching import AnyCache, ServiceUse, service_use
from controller.common.runtimeconfig import ResolvedRuntimeConfig
from tests.builders import condition

GI = 1024**3
NOW = "2026-12-07T12:00:00Z"


def art(
    name: str,
    namespace: str = "team",
    allocated: str | None = "10Gi",
    state: str = "Ready",
    priority: int | None = None,
    created: str = "2026-12-01T00:00:00Z",
    last_used: str | None = None,
    owned: bool = False,
    protected: bool = False,
    deleting: bool = False,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{name}",
        "creationTimestamp": created,
    }
    if owned:
        metadata["ownerReferences"] = [{"kind": "AIMTemplateCache", "name": "c", "uid": "c-1"}]
    if protected:
        metadata["annotations"] = {"aim.eai.amd.com/eviction-protected": "true"}
    if deleting:
        metadata["deletionTimestamp"] = NOW
    status: dict[str, Any] = {"status": state}
    if allocated:
        status["allocatedSize"] = allocated
    if last_used:
        status["lastUsed"] = last_used
    spec: dict[str, Any] = {"sourceUri": f"hf://org/{name}"}
    if priority is not None:
        spec["retentionPriority"] = priority
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMArtifact",
        "metadata": metadata,
        "spec": spec,
        "status": status,
    }


def cache(name: str, *artifacts: dict[str, Any], kind: str = "AIMTemplateCache", profile: str = "") -> dict[str, Any]:
    listed = {
        a["metadata"]["name"]: {
            "uid": a["metadata"]["uid"],
            "name": a["metadata"]["name"],
            "model": "m",
            "status": "Ready",
        }
        for a in artifacts
    }
    if kind == "AIMTemplateCache":
        spec = {"templateName": "t", "templateScope": "Namespace"}
    else:
        spec = {"profileName": profile or "p", "profileScope": "Namespace"}
    return {
        "kind": kind,
        "metadata": {"name": name, "namespace": "team"},
        "spec": spec,
        "status": {"artifacts": listed},
    }


def service(template_cache: str = "", profile: str = "", deleting: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "svc", "namespace": "team", "uid": "svc-1"}
    if deleting:
        metadata["deletionTimestamp"] = NOW
    status = {"cache": {"templateCacheRef": {"name": template_cache}}} if template_cache else {}
    spec = {"profile": {"name": profile}} if profile else {"model": {"name": "qwen"}}
    return {"kind": "AIMService", "metadata": metadata, "spec": spec, "status": status}


def read_cache(stored: dict[str, Any]) -> AnyCache:
    return read_template_cache(stored) if stored["kind"] == "AIMTemplateCache" else read_profile_cache(stored)


def consumers(caches: list[dict[str, Any]] | None = None, services: list[dict[str, Any]] | None = None) -> Consumers:
    """Consumers of caches and services as the API server sends them, read as the fetch step does."""
    return Consumers([read_cache(c) for c in caches or []], [service_use(s) for s in services or []])


NEW = art("new", allocated=None, state="Pending")


# --- limits and sizes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quota", "annotation", "expected"),
    [
        pytest.param({}, None, (None, None, ""), id="none"),
        pytest.param({"clusterLimit": "1Ti"}, None, (None, 1024 * GI, ""), id="cluster"),
        pytest.param({"defaultNamespaceLimit": "100Gi"}, None, (100 * GI, None, ""), id="namespace-default"),
        pytest.param({"defaultNamespaceLimit": "100Gi"}, "50Gi", (50 * GI, None, ""), id="annotation-wins"),
        pytest.param({}, "50Gi", (50 * GI, None, ""), id="annotation-without-default"),
        pytest.param({"defaultNamespaceLimit": "100Gi"}, "lots", (100 * GI, None, "invalid"), id="bad-annotation"),
    ],
)
def test_limits(quota: dict[str, Any], annotation: str | None, expected: tuple[Any, Any, str]) -> None:
    found = limits(quota, annotation, "team")
    assert (found.namespace, found.cluster) == expected[:2]
    assert found.warning.startswith(expected[2]) if expected[2] else found.warning == ""


@pytest.mark.parametrize(
    ("artifact", "expected"),
    [
        pytest.param(art("a", allocated="11Gi"), 11 * GI, id="allocated"),
        pytest.param(
            {**art("a", allocated=None), "status": {"discoveredSizeBytes": 10 * GI}}, 11 * GI, id="discovered"
        ),
        pytest.param(
            {**art("a", allocated=None), "spec": {"sourceUri": "hf://org/a", "size": "20Gi"}}, 22 * GI, id="spec-size"
        ),
        pytest.param(art("a", allocated=None), 0, id="unknown"),
    ],
)
def test_allocated_bytes(artifact: dict[str, Any], expected: int) -> None:
    assert allocated_bytes(read_artifact(artifact), 10) == expected


# --- eviction order ------------------------------------------------------------------------------------


def test_evictable_excludes_and_orders() -> None:
    candidates = [
        art("self-new"),
        art("no-priority"),
        art("protected", priority=1, protected=True),
        art("downloading", priority=1, state="Progressing"),
        art("dedicated", priority=1, owned=True),
        art("deleting", priority=1, deleting=True),
        art("cached", priority=1),
        art("high", priority=9),
        art("low-recent", priority=1, last_used="2026-12-06T00:00:00Z"),
        art("low-old", priority=1, last_used="2026-12-02T00:00:00Z"),
        art("low-never-used-older", priority=1, created="2026-11-01T00:00:00Z"),
        art("default-priority"),
    ]
    refs = {"uid-cached"}
    typed, new = [read_artifact(a) for a in candidates], read_artifact(art("self-new"))
    order = [a.name for a in evictable(typed, new, refs, default_priority=None)]
    assert order == ["low-never-used-older", "low-old", "low-recent", "high"]
    with_default = [a.name for a in evictable(typed, new, refs, default_priority=5)]
    assert with_default == ["low-never-used-older", "low-old", "low-recent", "default-priority", "no-priority", "high"]


def observation(
    quota: dict[str, Any],
    artifacts: list[dict[str, Any]],
    annotation: str | None = None,
    caches: list[dict[str, Any]] | None = None,
) -> QuotaObservation:
    return QuotaObservation(
        quota, annotation, [read_artifact(a) for a in artifacts], [read_cache(c) for c in caches or []]
    )


@pytest.mark.parametrize(
    ("quota", "annotation", "artifacts", "needed", "reason", "evicted", "message"),
    [
        pytest.param({}, None, [], 10, None, [], "", id="no-quota"),
        pytest.param(
            {"defaultNamespaceLimit": "100Gi"},
            None,
            [art("a", allocated="50Gi")],
            50,
            "WithinQuota",
            [],
            "within",
            id="exactly-at-the-limit",
        ),
        pytest.param(
            {"defaultNamespaceLimit": "100Gi"},
            None,
            [art("a", allocated="90Gi")],
            20,
            "NamespaceQuotaExceeded",
            [],
            "Namespace quota exceeded: 90Gi used + 20Gi needed > 100Gi limit",
            id="blocked-nothing-evictable",
        ),
        pytest.param(
            {"defaultNamespaceLimit": "100Gi"},
            None,
            [art("a", allocated="60Gi", priority=1), art("b", allocated="30Gi", priority=1)],
            120,
            "NamespaceQuotaExceeded",
            [],
            "Namespace quota exceeded: 90Gi used + 120Gi needed > 100Gi limit",
            id="blocked-evicting-all-would-not-do",
        ),
        pytest.param(
            {"defaultNamespaceLimit": "100Gi"},
            None,
            [
                art("keep", allocated="40Gi", priority=5),
                art("first", allocated="20Gi", priority=1),
                art("second", allocated="20Gi", priority=2),
            ],
            60,
            "Evicting",
            ["first", "second"],
            "Evicting 2 artifact(s) to free storage quota: team/first, team/second",
            id="shortest-prefix",
        ),
        pytest.param(
            {"defaultNamespaceLimit": "1Ti"},
            "100Gi",
            [art("a", allocated="90Gi", priority=0)],
            20,
            "Evicting",
            ["a"],
            "Evicting 1",
            id="annotation-limit",
        ),
        pytest.param(
            {"clusterLimit": "100Gi"},
            None,
            [art("elsewhere", namespace="other", allocated="90Gi", priority=1)],
            20,
            "Evicting",
            ["elsewhere"],
            "other/elsewhere",
            id="cluster-evicts-in-other-namespaces",
        ),
        pytest.param(
            {"clusterLimit": "100Gi", "defaultNamespaceLimit": "50Gi"},
            None,
            [art("mine", allocated="40Gi", priority=1), art("theirs", namespace="other", allocated="50Gi", priority=1)],
            20,
            "Evicting",
            ["mine"],
            "",
            id="namespace-eviction-also-makes-room-in-the-cluster",
        ),
        pytest.param(
            {"clusterLimit": "100Gi", "defaultNamespaceLimit": "50Gi"},
            None,
            [art("mine", allocated="40Gi", priority=1), art("theirs", namespace="other", allocated="90Gi", priority=1)],
            20,
            "Evicting",
            ["mine", "theirs"],
            "",
            id="then-the-cluster-limit-in-the-same-pass",
        ),
    ],
)
def test_evaluate_quota(
    quota: dict[str, Any],
    annotation: str | None,
    artifacts: list[dict[str, Any]],
    needed: int,
    reason: str | None,
    evicted: list[str],
    message: str,
) -> None:
    decision = evaluate_quota(
        read_artifact(NEW), needed * GI, 10, observation(quota, artifacts, annotation), default_priority=None
    )
    if reason is None:
        assert decision is None
        return
    assert decision is not None
    assert decision.condition.reason == reason
    assert decision.condition.status == ("False" if reason == "WithinQuota" else "True")
    assert [a.name for a in decision.evict] == evicted
    assert message.lower() in decision.condition.message.lower()


def test_a_cache_listed_artifact_is_never_evicted() -> None:
    listed = art("listed", allocated="90Gi", priority=0)
    decision = evaluate_quota(
        read_artifact(NEW),
        20 * GI,
        10,
        observation({"defaultNamespaceLimit": "100Gi"}, [listed], caches=[cache("c", listed)]),
        None,
    )
    assert decision is not None
    assert decision.blocked


# --- use and reaping -------------------------------------------------------------------------------------

USED = art("used", priority=1)


@pytest.mark.parametrize(
    ("users", "expected"),
    [
        pytest.param(consumers([cache("tc", USED)], [service(template_cache="tc")]), True, id="template-cache"),
        pytest.param(
            consumers([cache("pc", USED, kind="AIMProfileCache", profile="p")], [service(profile="p")]),
            True,
            id="profile-cache",
        ),
        pytest.param(consumers([cache("tc", USED)], []), False, id="cache-without-service"),
        pytest.param(
            consumers([cache("tc", USED)], [service(template_cache="tc", deleting=True)]), False, id="deleted-service"
        ),
        pytest.param(consumers([cache("tc")], [service(template_cache="tc")]), False, id="cache-lists-other"),
    ],
)
def test_in_use(users: Consumers, expected: bool) -> None:
    assert in_use(read_artifact(USED), users) is expected


@pytest.mark.parametrize(
    ("previous", "using", "expected"),
    [
        pytest.param(None, True, NOW, id="first-use"),
        pytest.param("2026-12-07T11:30:00Z", True, "2026-12-07T11:30:00Z", id="fresh-enough"),
        pytest.param("2026-12-07T10:59:59Z", True, NOW, id="hourly-refresh"),
        pytest.param("2026-12-01T00:00:00Z", False, "2026-12-01T00:00:00Z", id="unused-kept"),
        pytest.param(None, False, None, id="never-used"),
    ],
)
def test_last_used(previous: str | None, using: bool, expected: str | None) -> None:
    assert refreshed_last_used(read_artifact(art("a", last_used=previous)), using, NOW) == expected


@pytest.mark.parametrize(
    ("artifact", "users", "default", "after", "expected"),
    [
        pytest.param(art("a", priority=1), Consumers(), None, None, None, id="not-configured"),
        pytest.param(art("a"), Consumers(), None, "24h", None, id="no-priority-never-reaped"),
        pytest.param(art("a"), Consumers(), 3, "24h", 0.0, id="default-priority-due"),
        pytest.param(art("a", priority=1, protected=True), Consumers(), None, "24h", None, id="protected"),
        pytest.param(art("a", priority=1, owned=True), Consumers(), None, "24h", None, id="dedicated"),
        pytest.param(art("a", priority=1), consumers([cache("c", art("a"))]), None, "24h", None, id="referenced"),
        pytest.param(
            art("a", priority=1, last_used="2026-12-07T06:00:00Z"), Consumers(), None, "24h", 18 * 3600.0, id="not-yet"
        ),
        pytest.param(
            art("a", priority=1, created="2026-12-07T11:00:00Z"), Consumers(), None, "1h30m", 1800.0, id="from-creation"
        ),
    ],
)
def test_reap_in(
    artifact: dict[str, Any], users: Consumers, default: int | None, after: str | None, expected: float | None
) -> None:
    last = (artifact.get("status") or {}).get("lastUsed")
    assert reap_in(read_artifact(artifact), users, default, after, last, NOW) == expected


@pytest.mark.parametrize(("text", "seconds"), [("168h", 604800), ("1h30m", 5400), ("90s", 90), ("0.5h", 1800)])
def test_duration(text: str, seconds: int) -> None:
    assert duration(text).total_seconds() == seconds


# --- through the plan ------------------------------------------------------------------------------------


def config(quota: dict[str, Any] | None = None, **artifact_defaults: Any) -> ResolvedRuntimeConfig:
    spec: dict[str, Any] = {}
    if quota is not None:
        spec["artifactStorageQuota"] = quota
    if artifact_defaults:
        spec["artifact"] = artifact_defaults
    return ResolvedRuntimeConfig("default", "Cluster" if spec else "", spec)


def planned(
    artifact: dict[str, Any],
    runtime_config: ResolvedRuntimeConfig,
    quota: QuotaObservation | None = None,
    users: Consumers | None = None,
    pvc: dict[str, Any] | None = None,
) -> Any:
    observed = ArtifactObservation(
        artifact=read_artifact(artifact),
        runtime_config=runtime_config,
        downloader_image="img",
        quota=quota,
        consumers=users or Consumers(),
        pvc=pvc,
    )
    return plan_artifact(observed, NOW)


def sized(name: str, size: str = "20Gi") -> dict[str, Any]:
    artifact = art(name, allocated=None, state="Pending")
    artifact["spec"]["size"] = size
    return artifact


def test_blocked_artifact_fails_without_a_volume_and_looks_again() -> None:
    quota = {"defaultNamespaceLimit": "100Gi"}
    plan = planned(sized("new"), config(quota), observation(quota, [art("a", allocated="90Gi")]))
    assert [o["kind"] for o in plan.apply] == ["RoleBinding"]
    assert plan.status["status"] == "Failed"
    exceeded = condition(plan.status, "StorageQuotaExceeded")
    assert (exceeded["status"], exceeded["reason"]) == ("True", "NamespaceQuotaExceeded")
    assert "90Gi used + 22Gi needed > 100Gi limit" in exceeded["message"]
    assert condition(plan.status, "Ready")["reason"] == "NamespaceQuotaExceeded"
    assert plan.requeue_after == 30
    assert [e.reason for e in plan.events] == ["NamespaceQuotaExceeded"]


def test_evicting_deletes_others_and_says_so_on_them() -> None:
    quota = {"defaultNamespaceLimit": "100Gi"}
    old = art("old", allocated="90Gi", priority=1)
    plan = planned(sized("new"), config(quota), observation(quota, [old]))
    assert [(d.kind, d.name) for d in plan.delete] == [("AIMArtifact", "old")]
    (event,) = plan.events
    assert (event.reason, event.about) == ("Evicted", old)
    assert event.message == "Evicted to free storage quota for artifact team/new"
    assert [o["kind"] for o in plan.apply] == ["RoleBinding"], "the volume waits for the next pass"
    assert condition(plan.status, "StorageQuotaExceeded")["reason"] == "Evicting"
    assert plan.status["status"] == "Progressing"


def test_within_quota_creates_the_volume() -> None:
    quota = {"clusterLimit": "1Ti"}
    plan = planned(sized("new"), config(quota), observation(quota, [art("a", allocated="90Gi")]))
    assert "PersistentVolumeClaim" in [o["kind"] for o in plan.apply]
    assert condition(plan.status, "StorageQuotaExceeded")["reason"] == "WithinQuota"
    assert quantity_bytes(plan.status["allocatedSize"]) == 22 * GI


def test_without_quota_no_quota_condition() -> None:
    plan = planned(sized("new"), config())
    assert "PersistentVolumeClaim" in [o["kind"] for o in plan.apply]
    assert not [c for c in plan.status["conditions"] if c["type"].startswith("StorageQuota")]


def test_reaped_artifact_deletes_itself_and_writes_no_status() -> None:
    plan = planned(art("gone", priority=1), config(reapUnreferencedAfter="24h"))
    assert [(d.kind, d.name) for d in plan.delete] == [("AIMArtifact", "gone")]
    assert plan.status is None
    assert [e.reason for e in plan.events] == ["Reaped"]


def test_used_artifact_records_last_use_and_looks_again_hourly() -> None:
    used = art("used", priority=1)
    used["spec"]["size"] = "10Gi"
    pvc = {"kind": "PersistentVolumeClaim", "metadata": {"name": "x"}, "status": {"phase": "Bound"}}
    plan = planned(used, config(), users=consumers([cache("tc", used)], [service(template_cache="tc")]), pvc=pvc)
    assert plan.status["lastUsed"] == NOW


SERVICES = [
    pytest.param(service(), id="model"),
    pytest.param(service(template_cache="tc"), id="template-cache"),
    pytest.param(service(profile="p", deleting=True), id="profile-deleting"),
    pytest.param(
        service() | {"spec": {"model": {"name": "qwen"}, "adapters": [{"kind": "AIMArtifact", "name": "a"}]}},
        id="adapters-declared",
    ),
    pytest.param(service() | {"spec": {"model": {"name": "qwen"}, "adapterMode": "dynamic"}}, id="adapters-dynamic"),
    pytest.param(service() | {"status": {"adapters": [{"name": "a", "state": "Deleting"}]}}, id="adapters-on-disk"),
]


@pytest.mark.parametrize("stored", SERVICES)
def test_a_services_use_reads_what_its_api_model_reads(stored: dict[str, Any]) -> None:
    """service_use reads a few fields of the stored service by their wire names (cheaper than the
    whole model): they are the ones the model reads, so a renamed field fails here."""
    typed = read_service(stored)
    status = typed.status
    cache_ref = status.cache.template_cache_ref if status and status.cache else None
    assert service_use(stored) == ServiceUse(
        uid=typed.uid,
        deleting=bool(typed.metadata.get("deletionTimestamp")),
        template_cache=cache_ref.name if cache_ref else None,
        profile=typed.spec.profile.name if typed.spec.profile else None,
        adapters=bool(typed.spec.adapters)
        or typed.spec.adapter_mode == AdapterMode.DYNAMIC
        or bool(status and status.adapters),
        label=rfc1123(typed.name),
    )

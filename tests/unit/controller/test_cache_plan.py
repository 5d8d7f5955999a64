"""plan_template_cache and its parts: a cache, its template and the namespace's artifacts in;
artifacts to create or delete, finalizers and status out (no API server)."""

from __future__ import annotations

from typing import Any

import pytest

from api.conditions import Reason
from api.labels import CACHE_FINALIZER as FINALIZER
from api.labels import TEMPLATE_CACHE as CACHE_LABEL
from api.stored import read_artifact, read_template, read_template_cache
from controller.cache.plan import TemplateCacheObservation, plan_template_cache
from controller.common.caching import CacheObservation, artifact_name, best_artifact
from controller.pipeline.plan import ObjectRef, Plan
from tests.builders import condition, conditions, status_of

NOW = "2026-11-23T12:00:00Z"
V1 = "aim.eai.amd.com/v1alpha1"
URI = "hf://Qwen/Qwen3-32B"
OTHER_URI = "s3://models/qwen3-0.6b"
SOURCES = [
    {"modelId": "Qwen/Qwen3-32B", "sourceUri": URI, "size": "64Gi"},
    {"modelId": "Qwen/Qwen3-0.6B", "sourceUri": OTHER_URI, "env": [{"name": "AWS_REGION", "value": "eu"}]},
]


def cache(
    mode: str = "Shared",
    deleting: bool = False,
    finalizers: list[str] | None = None,
    status: dict[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "qwen-cache", "namespace": "team", "uid": "c-1", "generation": 1}
    if finalizers is not None:
        metadata["finalizers"] = finalizers
    if deleting:
        metadata["deletionTimestamp"] = NOW
    obj: dict[str, Any] = {
        "apiVersion": V1,
        "kind": "AIMTemplateCache",
        "metadata": metadata,
        "spec": {"templateName": "qwen-mi300x", "templateScope": "Namespace", "mode": mode} | spec,
    }
    if status is not None:
        obj["status"] = status
    return obj


def template(state: str = "Ready", sources: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """`state` "": a status without status.status (the template's controller has not set it)."""
    return {
        "apiVersion": V1,
        "kind": "AIMServiceTemplate",
        "metadata": {"name": "qwen-mi300x", "namespace": "team", "uid": "t-1"},
        "spec": {"modelName": "qwen"},
        "status": ({"status": state} if state else {}) | {"modelSources": SOURCES if sources is None else sources},
    }


def artifact(
    name: str,
    source_uri: str = URI,
    state: str | None = "Ready",
    owner_uid: str | None = None,
    storage_class: str | None = None,
    labels: dict[str, str] | None = None,
    **status: Any,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": "team", "uid": f"uid-{name}", "labels": labels or {}}
    if owner_uid:
        metadata["ownerReferences"] = [{"kind": "AIMTemplateCache", "name": "some-cache", "uid": owner_uid}]
    spec: dict[str, Any] = {"sourceUri": source_uri}
    if storage_class:
        spec["storageClassName"] = storage_class
    obj: dict[str, Any] = {"apiVersion": V1, "kind": "AIMArtifact", "metadata": metadata, "spec": spec}
    if state is not None:
        ready = status.pop("ready", None)
        obj["status"] = {"status": state} | status
        if ready is not None:
            stamp = {"lastTransitionTime": NOW}
            obj["status"]["conditions"] = [{"type": "Ready", "status": "False"} | stamp | ready]
    return obj


def plan_for(
    c: dict[str, Any] | None = None,
    tpl: dict[str, Any] | None = None,
    artifacts: list[dict[str, Any]] | None = None,
    missing_template: bool = False,
    namespace_terminating: bool = False,
) -> Plan:
    """The plan for the objects as the API server sends them, read as the fetch step does."""
    observed: TemplateCacheObservation = CacheObservation(
        read_template_cache(c or cache()),
        None if missing_template else read_template(tpl or template()),
        [read_artifact(a) for a in artifacts or []],
        namespace_terminating,
    )
    return plan_template_cache(observed, NOW)


# --- artifact names -------------------------------------------------------------------------------

ENV = [{"name": "HF_HUB_OFFLINE", "value": "0"}]


def test_artifact_name_is_stable_and_readable() -> None:
    name = artifact_name(URI, ENV, "fast")
    assert name == artifact_name(URI, [dict(e) for e in ENV], "fast")
    assert name.startswith("hf---qwen-qwen3-32b-"), "the source URI, sanitised, then a hash"
    assert len(name) <= 63


@pytest.mark.parametrize(
    ("other", "why"),
    [
        pytest.param(
            artifact_name(URI, ENV, "fast", dedicated_for="qwen-cache"), "dedicated", id="dedicated-vs-shared"
        ),
        pytest.param(artifact_name(URI, [{"name": "HF_HUB_OFFLINE", "value": "1"}], "fast"), "env", id="env-value"),
        pytest.param(artifact_name(URI, [], "fast"), "env", id="no-env"),
        pytest.param(artifact_name(URI, ENV, "slow"), "storage", id="storage-class"),
        pytest.param(artifact_name(OTHER_URI, ENV, "fast"), "source", id="source"),
    ],
)
def test_artifact_name_differs(other: str, why: str) -> None:
    assert other != artifact_name(URI, ENV, "fast"), why


def test_dedicated_names_differ_per_cache() -> None:
    assert artifact_name(URI, [], "", dedicated_for="a") != artifact_name(URI, [], "", dedicated_for="b")


def test_long_source_uri_still_fits() -> None:
    name = artifact_name("s3://bucket/" + "very.long.path/" * 20 + "model", [], "")
    assert len(name) <= 63
    assert "." not in name


# --- which artifact serves a source ---------------------------------------------------------------

OWN = "c-1"
BEST_CASES = [
    pytest.param(cache(), [artifact("a")], "a", id="shared-uses-unowned"),
    pytest.param(cache(), [artifact("owned", owner_uid=OWN)], None, id="shared-ignores-own-dedicated"),
    pytest.param(cache(), [artifact("owned", owner_uid="other")], None, id="shared-ignores-others-dedicated"),
    pytest.param(cache("Dedicated"), [artifact("a")], None, id="dedicated-ignores-shared"),
    pytest.param(cache("Dedicated"), [artifact("b", owner_uid="other")], None, id="dedicated-ignores-others"),
    pytest.param(
        cache("Dedicated"),
        [artifact("a"), artifact("b", owner_uid="other"), artifact("mine", state="Pending", owner_uid=OWN)],
        "mine",
        id="dedicated-only-own",
    ),
    pytest.param(cache(), [artifact("a", source_uri=OTHER_URI)], None, id="other-source"),
    pytest.param(cache(), [artifact("a", state=None)], None, id="empty-status-ignored"),
    pytest.param(
        cache(storageClassName="fast"), [artifact("a", storage_class="slow")], None, id="storage-class-must-match"
    ),
    pytest.param(
        cache(storageClassName="fast"),
        [artifact("a"), artifact("b", storage_class="fast")],
        "b",
        id="storage-class-unset-on-artifact-does-not-match",
    ),
    pytest.param(cache(), [artifact("a", storage_class="slow")], "a", id="cache-without-class-takes-any"),
    pytest.param(
        cache(),
        [artifact("a", state="Failed"), artifact("b", state="Ready"), artifact("c", state="Progressing")],
        "b",
        id="ready-beats-progressing-and-failed",
    ),
    pytest.param(
        cache(),
        [artifact("a", state="Failed"), artifact("b", state="Pending"), artifact("c", state="Degraded")],
        "b",
        id="pending-beats-degraded-and-failed",
    ),
    pytest.param(cache(), [artifact("b"), artifact("a")], "b", id="tie-broken-by-name"),
    pytest.param(cache(), [], None, id="none"),
]


@pytest.mark.parametrize(("c", "artifacts", "expected"), BEST_CASES)
def test_best_artifact(c: dict[str, Any], artifacts: list[dict[str, Any]], expected: str | None) -> None:
    found = best_artifact([read_artifact(a) for a in artifacts], read_template_cache(c), URI)
    assert (found.name if found else None) == expected


# --- plan_template_cache --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("finalizers", "expected"),
    [
        pytest.param(None, [FINALIZER], id="added"),
        pytest.param(["other/finalizer"], ["other/finalizer", FINALIZER], id="added-after-others"),
        pytest.param([FINALIZER], None, id="already-there"),
    ],
)
def test_finalizer(finalizers: list[str] | None, expected: list[str] | None) -> None:
    assert plan_for(cache(finalizers=finalizers)).finalizers == expected


def test_missing_template_fails() -> None:
    plan = plan_for(missing_template=True)
    status = status_of(plan)
    assert status["status"] == "Failed"
    assert conditions(status)["ServiceTemplateReady"] == ("False", "ReferenceNotFound")
    assert condition(status, "Ready")["message"] == "ServiceTemplateReady: Namespace template qwen-mi300x not found"
    assert "ArtifactsReady" not in conditions(status)
    assert "artifacts" not in status
    assert plan.apply == []


@pytest.mark.parametrize(
    ("template_state", "state", "reason"),
    [
        pytest.param("Progressing", "Pending", "TemplateNotReady", id="progressing-template"),
        pytest.param("", "Pending", "TemplateNotReady", id="template-without-status"),
        pytest.param("Failed", "Failed", "TemplateNotReady", id="failed-template"),
        pytest.param("NotAvailable", "NotAvailable", "TemplateNotReady", id="not-available-template"),
        pytest.param("Degraded", "Degraded", "TemplateNotReady", id="degraded-template"),
    ],
)
def test_template_not_ready_plans_nothing(template_state: str, state: str, reason: str) -> None:
    plan = plan_for(tpl=template(template_state))
    status = status_of(plan)
    assert status["status"] == state
    assert conditions(status)["ServiceTemplateReady"] == ("False", reason)
    assert status["resolvedTemplateKind"] == "AIMServiceTemplate"
    assert plan.apply == []


def test_template_without_sources_has_no_caches() -> None:
    status = status_of(plan_for(tpl=template(sources=[])))
    assert status["status"] == "Failed"
    assert conditions(status)["ArtifactsReady"] == ("False", Reason.NO_CACHES)


def test_one_artifact_per_missing_source() -> None:
    c = cache(
        env=[{"name": "HF_HUB_OFFLINE", "value": "0"}],
        storageClassName="fast",
        runtimeConfigName="cfg",
        downloadImage="registry.local/aim-engine:1",
        imagePullSecrets=[{"name": "pull"}],
    )
    plan = plan_for(c)
    status = status_of(plan)
    assert status["status"] == "Progressing"
    assert conditions(status)["ArtifactsReady"] == ("False", Reason.CREATING_CACHES)
    assert "artifacts" not in status, "none exists yet"
    first, second = plan.apply
    assert first["kind"] == second["kind"] == "AIMArtifact"
    assert first["metadata"]["namespace"] == "team"
    assert "ownerReferences" not in first["metadata"], "shared artifacts outlive the cache"
    assert first["metadata"]["name"] == artifact_name(URI, [{"name": "HF_HUB_OFFLINE", "value": "0"}], "fast")
    assert first["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "aim-engine",
        "template-created": "true",
        "aim.eai.amd.com/template.name": "qwen-mi300x",
        "aim.eai.amd.com/template.scope": "Namespace",
        "aim.eai.amd.com/template.index": "0",
        CACHE_LABEL: "qwen-cache",
    }
    assert second["metadata"]["labels"]["aim.eai.amd.com/template.index"] == "1"
    assert first["spec"] == {
        "sourceUri": URI,
        "modelId": "Qwen/Qwen3-32B",
        "storageClassName": "fast",
        "size": "64Gi",
        "env": [{"name": "HF_HUB_OFFLINE", "value": "0"}],
        "runtimeConfigName": "cfg",
        "modelDownloadImage": "registry.local/aim-engine:1",
        "imagePullSecrets": [{"name": "pull"}],
    }
    assert second["spec"]["env"] == [
        {"name": "HF_HUB_OFFLINE", "value": "0"},
        {"name": "AWS_REGION", "value": "eu"},
    ], "the cache's env, then the source's"
    assert "size" not in second["spec"]


def test_a_cluster_templates_cache_labels_its_artifacts_with_the_cluster_scope() -> None:
    """Upstream's aimtemplatecache/happy-path-cluster: a cache of a Ready cluster template."""
    cluster_template = template()
    cluster_template["kind"] = "AIMClusterServiceTemplate"
    del cluster_template["metadata"]["namespace"]
    c = cache(templateScope="Cluster", env=[{"name": "HF_HUB_OFFLINE", "value": "0"}])
    first, second = plan_for(c, tpl=cluster_template).apply
    assert first["metadata"]["namespace"] == "team", "artifacts live beside the cache"
    assert first["metadata"]["labels"]["aim.eai.amd.com/template.scope"] == "Cluster"
    assert first["metadata"]["labels"]["aim.eai.amd.com/template.name"] == "qwen-mi300x"
    assert first["metadata"]["labels"][CACHE_LABEL] == "qwen-cache"
    assert [a["metadata"]["labels"]["aim.eai.amd.com/template.index"] for a in (first, second)] == ["0", "1"]
    assert (first["spec"]["sourceUri"], first["spec"]["size"]) == (URI, "64Gi")
    assert first["spec"]["env"] == [{"name": "HF_HUB_OFFLINE", "value": "0"}]


def test_dedicated_artifacts_are_owned_by_the_cache() -> None:
    (first, _) = plan_for(cache("Dedicated")).apply
    assert first["metadata"]["ownerReferences"] == [
        {
            "apiVersion": V1,
            "kind": "AIMTemplateCache",
            "name": "qwen-cache",
            "uid": "c-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert first["metadata"]["name"] == artifact_name(URI, [], "", dedicated_for="qwen-cache")


def test_existing_sources_are_reused_and_only_missing_ones_created() -> None:
    plan = plan_for(artifacts=[artifact("shared-qwen")])
    (created,) = plan.apply
    assert created["spec"]["sourceUri"] == OTHER_URI
    status = status_of(plan)
    assert conditions(status)["ArtifactsReady"] == ("False", Reason.CREATING_CACHES)
    assert list(status["artifacts"]) == ["shared-qwen"]


def test_all_ready_and_the_artifacts_map() -> None:
    artifacts = [
        artifact("a", persistentVolumeClaim="a-cache-1234"),
        artifact("b", source_uri=OTHER_URI),
        artifact("unrelated", source_uri="hf://org/other"),
    ]
    plan = plan_for(artifacts=artifacts)
    status = status_of(plan)
    assert plan.apply == []
    assert status["status"] == "Ready"
    assert conditions(status)["ArtifactsReady"] == ("True", Reason.ALL_CACHES_READY)
    assert condition(status, "ArtifactsReady")["message"] == "2 artifact(s) ready"
    assert status["artifacts"] == {
        "a": {
            "uid": "uid-a",
            "name": "a",
            "model": "Qwen/Qwen3-32B",
            "status": "Ready",
            "persistentVolumeClaim": "a-cache-1234",
        },
        "b": {"uid": "uid-b", "name": "b", "model": "Qwen/Qwen3-0.6B", "status": "Ready"},
    }
    assert status["resolvedTemplateKind"] == "AIMServiceTemplate"


@pytest.mark.parametrize(
    ("other", "state", "reason", "message_has"),
    [
        pytest.param(
            artifact("b", OTHER_URI, "Progressing", ready={"reason": "Downloading", "message": "42 %"}),
            "Progressing",
            "Downloading",
            "b 42 %",
            id="downloading-reason-from-the-artifact",
        ),
        pytest.param(
            artifact("b", OTHER_URI, "Pending"),
            "Progressing",
            Reason.CACHES_NOT_READY,
            "b",
            id="pending-is-progressing",
        ),
        pytest.param(
            artifact("b", OTHER_URI, "Failed", ready={"reason": "AuthError", "message": "401"}),
            "Failed",
            "AuthError",
            "One or more caches are not ready: b 401",
            id="failed-with-the-downloaders-reason",
        ),
        pytest.param(
            artifact("b", OTHER_URI, "Degraded"), "Degraded", Reason.CACHES_NOT_READY, "b", id="degraded-without-reason"
        ),
    ],
)
def test_artifact_not_ready(other: dict[str, Any], state: str, reason: str, message_has: str) -> None:
    status = status_of(plan_for(artifacts=[artifact("a"), other]))
    assert status["status"] == state
    ready = condition(status, "ArtifactsReady")
    assert (ready["status"], ready["reason"]) == ("False", reason)
    assert message_has in ready["message"]
    assert status["artifacts"]["b"]["status"] == other["status"]["status"]


def test_just_created_artifact_counts_as_pending() -> None:
    """The artifact exists but its controller has not written a status yet."""
    name = artifact_name(OTHER_URI, [{"name": "AWS_REGION", "value": "eu"}], "")
    plan = plan_for(artifacts=[artifact("a"), artifact(name, OTHER_URI, state=None)])
    status = status_of(plan)
    assert [a["metadata"]["name"] for a in plan.apply] == [name], "applied again until it is usable"
    assert status["status"] == "Progressing"
    assert status["artifacts"][name]["status"] == "Pending"


# --- deletion -------------------------------------------------------------------------------------

LABELLED = {CACHE_LABEL: "qwen-cache"}
DELETION_ARTIFACTS = [
    artifact("downloading", state="Progressing", labels=LABELLED),
    artifact("failed", state="Failed", labels=LABELLED),
    artifact("ready", labels=LABELLED),
    artifact("no-status", state=None, labels=LABELLED),
    artifact("not-ours", state="Failed", labels={CACHE_LABEL: "other-cache"}),
    artifact("unlabelled", state="Failed"),
]


def test_deletion_removes_unready_artifacts_it_created() -> None:
    c = cache(deleting=True, finalizers=["other/finalizer", FINALIZER])
    plan = plan_for(c, artifacts=DELETION_ARTIFACTS)
    assert plan.finalizers == ["other/finalizer"]
    assert plan.delete == [
        ObjectRef(V1, "AIMArtifact", "downloading", "team"),
        ObjectRef(V1, "AIMArtifact", "failed", "team"),
        ObjectRef(V1, "AIMArtifact", "no-status", "team"),
    ]
    assert plan.status is None
    assert plan.apply == []


def test_deletion_in_a_terminating_namespace_only_drops_the_finalizer() -> None:
    c = cache(deleting=True, finalizers=[FINALIZER])
    plan = plan_for(c, artifacts=DELETION_ARTIFACTS, namespace_terminating=True)
    assert plan.finalizers == []
    assert plan.delete == []
    assert plan.status is None


def test_deletion_without_template() -> None:
    plan = plan_for(cache(deleting=True, finalizers=[FINALIZER]), missing_template=True, artifacts=DELETION_ARTIFACTS)
    assert plan.finalizers == []
    assert len(plan.delete) == 3

"""What a deleted AIMService takes with it: its caches that never became Ready, unless another
live service uses them; nothing while its namespace is being deleted."""

from __future__ import annotations

from typing import Any

import pytest

from api.labels import SERVICE_FINALIZER as FINALIZER
from controller.service.cleanup import CleanupObservation, plan_service_cleanup

NS = "team"
NOW = "2026-11-23T12:00:00Z"
OURS = {"app.kubernetes.io/managed-by": "aim-engine"}


def service(
    name: str,
    deleting: bool = False,
    cache: str | None = None,
    profile: str | None = None,
    finalizers: tuple[str, ...] = (FINALIZER,),
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": NS, "finalizers": list(finalizers)}
    if deleting:
        metadata["deletionTimestamp"] = "2026-11-23T00:00:00Z"
    status = {"cache": {"templateCacheRef": {"name": cache, "kind": "AIMTemplateCache"}}} if cache else {}
    spec = {"profile": {"name": profile}} if profile else {"model": {"name": "m"}}
    return {"kind": "AIMService", "metadata": metadata, "spec": spec, "status": status}


def template_cache(name: str, state: str, creator: str | None = "gone", managed: bool = True) -> dict[str, Any]:
    labels = dict(OURS) if managed else {}
    if creator:
        labels["aim.eai.amd.com/service"] = creator
    return {
        "kind": "AIMTemplateCache",
        "metadata": {"name": name, "labels": labels},
        "spec": {"templateName": "t", "templateScope": "Namespace"},
        "status": {"status": state},
    }


def profile_cache(name: str, profile: str, state: str, creator: str | None = "gone") -> dict[str, Any]:
    labels = dict(OURS)
    if creator:
        labels["aim.eai.amd.com/service"] = creator
    return {
        "kind": "AIMProfileCache",
        "metadata": {"name": name, "labels": labels},
        "spec": {"profileName": profile, "profileScope": "Namespace"},
        "status": {"status": state},
    }


GONE = service("gone", deleting=True, cache="tc-shared")


@pytest.mark.parametrize(
    ("template_caches", "profile_caches", "others", "deleted"),
    [
        pytest.param([template_cache("tc-shared", "Ready")], [], [], [], id="ready-cache-is-kept-for-reuse"),
        pytest.param([template_cache("tc-shared", "Failed")], [], [], ["tc-shared"], id="failed-cache-goes"),
        pytest.param([template_cache("tc-shared", "Progressing")], [], [], ["tc-shared"], id="unfinished-cache-goes"),
        pytest.param(
            [template_cache("tc-shared", "Failed")],
            [],
            [service("other", cache="tc-shared")],
            [],
            id="kept-while-another-service-uses-it",
        ),
        pytest.param(
            [template_cache("tc-shared", "Failed")],
            [],
            [service("other", deleting=True, cache="tc-shared")],
            ["tc-shared"],
            id="a-service-being-deleted-does-not-count",
        ),
        pytest.param(
            [template_cache("tc-shared", "Failed", creator="first")],
            [],
            [],
            ["tc-shared"],
            id="a-reused-cache-labelled-by-its-creator-counts-as-used",
        ),
        pytest.param(
            [template_cache("tc-other", "Failed", creator="first")],
            [],
            [],
            [],
            id="another-services-cache-is-not-touched",
        ),
        pytest.param(
            [template_cache("tc-shared", "Failed", managed=False)],
            [],
            [],
            [],
            id="a-cache-the-user-made-is-never-deleted",
        ),
        pytest.param([], [profile_cache("pc", "p", "Failed")], [], ["pc"], id="profile-cache-created-by-it"),
        pytest.param(
            [],
            [profile_cache("pc", "p", "Failed")],
            [service("other", profile="p")],
            [],
            id="profile-cache-kept-while-another-service-deploys-the-profile",
        ),
        pytest.param([], [profile_cache("pc", "p", "Ready")], [], [], id="ready-profile-cache-kept"),
    ],
)
def test_cleanup(
    template_caches: list[dict[str, Any]],
    profile_caches: list[dict[str, Any]],
    others: list[dict[str, Any]],
    deleted: list[str],
) -> None:
    observed = CleanupObservation(GONE, False, template_caches, profile_caches, [GONE, *others])
    plan = plan_service_cleanup(observed, NOW)
    assert [ref.name for ref in plan.delete] == deleted
    assert all(ref.namespace == NS for ref in plan.delete)
    assert plan.finalizers == []


def test_a_profile_service_counts_its_profile_as_used() -> None:
    gone = service("gone", deleting=True, profile="p")
    observed = CleanupObservation(gone, False, [], [profile_cache("pc", "p", "Failed", creator="first")], [gone])
    plan = plan_service_cleanup(observed, NOW)
    assert [(ref.kind, ref.api_version, ref.name) for ref in plan.delete] == [
        ("AIMProfileCache", "aim.eai.amd.com/v1alpha2", "pc")
    ]


def test_a_terminating_namespace_only_releases_the_service() -> None:
    gone = service("gone", deleting=True, cache="tc", finalizers=("other/finalizer", FINALIZER))
    plan = plan_service_cleanup(CleanupObservation(gone, True, [template_cache("tc", "Failed")], [], [gone]), NOW)
    assert plan.delete == []
    assert plan.finalizers == ["other/finalizer"]

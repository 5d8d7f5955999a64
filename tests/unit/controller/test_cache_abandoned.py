"""A Shared cache that no service made or uses any more and that never became Ready deletes itself
(controller.common.caching.abandoned): a table of caches and their namespace's services, then what
the template cache's plan does with the verdict."""

from __future__ import annotations

from typing import Any

import pytest

from api.conditions import Reason
from api.labels import CACHE_FINALIZER, MANAGED_BY, MANAGED_BY_VALUE, SERVICE
from api.stored import read_profile_cache, read_template, read_template_cache
from controller.cache.plan import TemplateCacheObservation, plan_template_cache
from controller.common.caching import CacheObservation, ServiceUse, abandoned, may_be_abandoned, service_use
from controller.pipeline.plan import ObjectRef
from tests.unit.controller.test_cache_plan import NOW, template

NS = "team"


def cache(
    kind: str = "AIMTemplateCache",
    state: str | None = "Progressing",
    creator: str | None = "first",
    managed: bool = True,
    owned: bool = False,
    deleting: bool = False,
    finalizers: tuple[str, ...] = (CACHE_FINALIZER,),
) -> dict[str, Any]:
    labels = {MANAGED_BY: MANAGED_BY_VALUE} if managed else {}
    if creator:
        labels[SERVICE] = creator
    metadata: dict[str, Any] = {
        "name": "qwen-cache",
        "namespace": NS,
        "uid": "c-1",
        "labels": labels,
        "finalizers": list(finalizers),
    }
    if owned:
        metadata["ownerReferences"] = [{"kind": "AIMService", "name": "first", "uid": "s-1", "apiVersion": "x"}]
    if deleting:
        metadata["deletionTimestamp"] = NOW
    if kind == "AIMTemplateCache":
        api_version, spec = "aim.eai.amd.com/v1alpha1", {"templateName": "qwen-mi300x", "templateScope": "Namespace"}
    else:
        api_version, spec = "aim.eai.amd.com/v1alpha2", {"profileName": "p", "profileScope": "Namespace"}
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}
    if state is not None:
        obj["status"] = {"status": state}
    return obj


def service(name: str, uses: str | None = None, profile: str | None = None, deleting: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": NS, "uid": f"uid-{name}"}
    if deleting:
        metadata["deletionTimestamp"] = NOW
    spec: dict[str, Any] = {"profile": {"name": profile}} if profile else {"model": {"name": "qwen"}}
    status = {"cache": {"templateCacheRef": {"name": uses}}} if uses else {}
    return {"kind": "AIMService", "metadata": metadata, "spec": spec, "status": status}


def read(obj: dict[str, Any]) -> Any:
    return read_template_cache(obj) if obj["kind"] == "AIMTemplateCache" else read_profile_cache(obj)


@pytest.mark.parametrize(
    ("stored", "services", "expected"),
    [
        pytest.param(cache(), [service("first")], False, id="its-creator-lives"),
        pytest.param(cache(), [], True, id="nobody-left"),
        pytest.param(cache(), [service("first", deleting=True)], True, id="its-creator-is-being-deleted"),
        pytest.param(cache(), [service("later", uses="qwen-cache")], False, id="another-service-uses-it"),
        pytest.param(
            cache(),
            [service("later", uses="qwen-cache", deleting=True)],
            True,
            id="a-user-being-deleted-does-not-count",
        ),
        pytest.param(cache(), [service("later", uses="another-cache")], True, id="a-service-using-another-cache"),
        pytest.param(cache(state="Failed"), [], True, id="failed"),
        pytest.param(cache(state=None), [], True, id="no-status-yet"),
        pytest.param(cache(state="Ready"), [], False, id="ready-caches-stay-for-reuse"),
        pytest.param(cache(owned=True), [], False, id="owned-goes-with-its-owner"),
        pytest.param(cache(managed=False), [], False, id="a-users-own-cache"),
        pytest.param(cache(creator=None), [], False, id="not-made-by-a-service"),
        pytest.param(cache(deleting=True), [], False, id="already-being-deleted"),
        pytest.param(cache("AIMProfileCache"), [service("later", profile="p")], False, id="profile-deployed"),
        pytest.param(cache("AIMProfileCache"), [service("later", profile="q")], True, id="another-profile"),
        pytest.param(cache("AIMProfileCache"), [service("first")], False, id="profile-cache-creator-lives"),
        pytest.param(cache("AIMProfileCache", state="Ready"), [], False, id="ready-profile-cache-stays"),
    ],
)
def test_abandoned(stored: dict[str, Any], services: list[dict[str, Any]], expected: bool) -> None:
    assert abandoned(read(stored), [service_use(s) for s in services]) is expected


def test_the_service_label_is_compared_as_the_cache_carries_it() -> None:
    """A service's name may hold dots; the label on its caches is the name made RFC 1123."""
    use = service_use(service("chat.v1"))
    assert use.label == "chat-v1"
    assert not abandoned(read_template_cache(cache(creator="chat-v1")), [use])


def plan(stored: dict[str, Any], services: list[ServiceUse] | None) -> Any:
    observed: TemplateCacheObservation = CacheObservation(
        read_template_cache(stored), read_template(template()), [], False, services
    )
    return plan_template_cache(observed, NOW)


def test_an_abandoned_cache_deletes_itself_and_says_so() -> None:
    planned = plan(cache(), [])
    assert planned.delete == [ObjectRef("aim.eai.amd.com/v1alpha1", "AIMTemplateCache", "qwen-cache", NS)]
    assert planned.status is None
    assert planned.apply == []
    assert [(e.type, e.reason) for e in planned.events] == [("Normal", Reason.CACHE_ABANDONED)]


def test_without_its_finalizer_it_first_takes_it_so_its_artifacts_go_too() -> None:
    planned = plan(cache(finalizers=()), [])
    assert planned.delete == []
    assert planned.finalizers == [CACHE_FINALIZER]


@pytest.mark.parametrize("services", [None, [service_use(service("first"))]], ids=["not-read", "in-use"])
def test_a_cache_in_use_or_not_checked_is_reconciled_as_usual(services: list[ServiceUse] | None) -> None:
    planned = plan(cache(), services)
    assert planned.delete == []
    assert planned.status is not None
    assert {a["kind"] for a in planned.apply} == {"AIMArtifact"}


@pytest.mark.parametrize(
    ("stored", "read_services"),
    [
        pytest.param(cache(), True, id="a-services-cache-in-work"),
        pytest.param(cache(state="Ready"), False, id="ready"),
        pytest.param(cache(owned=True), False, id="owned"),
        pytest.param(cache(creator=None), False, id="not-a-services"),
    ],
)
def test_the_services_are_read_only_while_it_could_be_abandoned(stored: dict[str, Any], read_services: bool) -> None:
    assert may_be_abandoned(read_template_cache(stored)) is read_services

"""The controller's in-memory view of watched kinds: events and re-lists in any order leave it
holding what the API server holds, and reads cannot change it."""

from __future__ import annotations

from typing import Any

import pytest

from controller.handlers import filtered_types, stored_types
from controller.kinds import KINDS
from controller.kube.store import ObjectStore, parse_selector

V2 = "aim.eai.amd.com/v1alpha2"
MODEL = (V2, "AIMModel")


def model(name: str, revision: int, namespace: str = "team", **labels: str) -> dict[str, Any]:
    metadata = {"name": name, "namespace": namespace, "resourceVersion": str(revision), "labels": labels}
    return {"apiVersion": V2, "kind": "AIMModel", "metadata": metadata, "spec": {"revision": revision}}


def listed_store(*items: dict[str, Any], at: int = 100) -> ObjectStore:
    store = ObjectStore([MODEL])
    store.replace_all(*MODEL, list(items), str(at))
    return store


def held(store: ObjectStore, name: str) -> int | None:
    found = store.get(*MODEL, name, "team")
    return None if found is None else int(found["metadata"]["resourceVersion"])


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([("a", 5, False)], 5),
        ([("a", 5, False), ("a", 7, False)], 7),
        ([("a", 7, False), ("a", 5, False)], 7),  # kopf re-listing an older copy after a newer event
        ([("a", 5, False), ("a", 6, True)], None),
        ([("a", 6, True), ("a", 5, False)], None),  # a late copy does not bring a deleted object back
        ([("a", 6, True), ("a", 9, False)], 9),  # created again under the same name
    ],
    ids=["added", "modified", "older-after-newer", "deleted", "older-after-delete", "recreated"],
)
def test_events_in_any_order(events: list[tuple[str, int, bool]], expected: int | None) -> None:
    store = listed_store()
    for name, revision, deleted in events:
        store.observe(model(name, revision), deleted=deleted)
    assert held(store, "a") == expected


@pytest.mark.parametrize(
    ("before", "listed", "at", "expected"),
    [
        ([("a", 5, False)], [], 100, None),  # deleted while no watch ran: the re-list drops it
        ([("a", 150, False)], [], 100, 150),  # created after the list was taken: kept
        ([("a", 5, False)], [("a", 50)], 100, 50),
        ([("a", 150, False)], [("a", 50)], 100, 150),  # the list is older than the event
        ([("a", 150, True)], [("a", 50)], 100, None),  # deleted after the list was taken
        ([("a", 60, True)], [("a", 120)], 130, 120),  # recreated before the list
    ],
    ids=["ghost", "newer-than-list", "refreshed", "event-newer", "deleted-after-list", "recreated"],
)
def test_a_relist_reconciles_with_what_events_said(
    before: list[tuple[str, int, bool]], listed: list[tuple[str, int]], at: int, expected: int | None
) -> None:
    store = listed_store()
    for name, revision, deleted in before:
        store.observe(model(name, revision), deleted=deleted)
    removed = store.replace_all(*MODEL, [model(n, r) for n, r in listed], str(at))
    assert held(store, "a") == expected
    assert removed == ([("team", "a")] if before == [("a", 5, False)] and not listed else [])


def test_a_kind_is_served_only_once_listed() -> None:
    store = ObjectStore([MODEL])
    store.observe(model("a", 5))
    assert not store.serves(*MODEL)  # an event alone does not say what else exists
    store.replace_all(*MODEL, [], "1")
    assert store.serves(*MODEL)
    assert not store.serves(V2, "AIMService")


@pytest.mark.parametrize(
    ("selector", "namespace", "names"),
    [
        (None, None, ["a", "b", "c"]),
        (None, "team", ["a", "b"]),
        ("app=x", None, ["a", "c"]),
        ("app==x,tier", "team", ["a"]),
        ("tier", None, ["a", "b"]),
        ("app=y", None, []),
    ],
)
def test_list_by_namespace_and_labels(selector: str | None, namespace: str | None, names: list[str]) -> None:
    store = listed_store(
        model("a", 1, app="x", tier="1"),
        model("b", 2, tier="2"),
        model("c", 3, namespace="other", app="x"),
    )
    found = store.list(*MODEL, namespace, selector)
    assert found is not None
    assert sorted(o["metadata"]["name"] for o in found) == names


def names(found: list[dict[str, Any]] | None) -> list[tuple[str, str]]:
    assert found is not None
    return [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in found]


def test_lists_come_in_the_api_servers_order_whatever_order_events_came_in() -> None:
    store = listed_store()
    for name, namespace in [("c", "team"), ("a", "zoo"), ("b", "team"), ("a", "team")]:
        store.observe(model(name, 5, namespace=namespace, app="x"))
    expected = [("team", "a"), ("team", "b"), ("team", "c"), ("zoo", "a")]
    assert names(store.list(*MODEL)) == expected
    assert names(store.list(*MODEL, None, "app=x")) == expected
    assert names(store.list(*MODEL, "team", "app")) == expected[:3]


@pytest.mark.parametrize(
    ("events", "selector", "expected"),
    [
        # (name, revision, deleted, labels) in order; what a list by `selector` in "team" finds after
        ([("a", 1, False, {"app": "x"}), ("a", 2, False, {"app": "y"})], "app=x", []),
        ([("a", 1, False, {"app": "x"}), ("a", 2, False, {"app": "y"})], "app=y", ["a"]),
        ([("a", 1, False, {"app": "x"}), ("a", 2, False, {})], "app", []),
        ([("a", 1, False, {"app": "x"}), ("a", 2, True, {"app": "x"})], "app=x", []),
        ([("a", 1, False, {"app": "x"}), ("a", 2, True, {"app": "x"}), ("a", 3, False, {"app": "x"})], "app=x", ["a"]),
        ([("a", 1, False, {"app": "x"}), ("b", 2, False, {"app": "x", "tier": "1"})], "app=x,tier=1", ["b"]),
        ([("a", 2, False, {"app": "x"}), ("a", 1, False, {"app": "y"})], "app=y", []),  # older copy ignored
    ],
    ids=["relabelled-away", "relabelled-to", "label-removed", "deleted", "recreated", "two-terms", "older-copy"],
)
def test_the_list_indexes_follow_every_event(
    events: list[tuple[str, int, bool, dict[str, str]]], selector: str, expected: list[str]
) -> None:
    store = listed_store()
    for name, revision, deleted, labels in events:
        store.observe(model(name, revision, **labels), deleted=deleted)
    assert [name for _, name in names(store.list(*MODEL, "team", selector))] == expected


def test_indexes_keep_no_empty_entry_once_objects_are_gone() -> None:
    """Namespaces and label values come and go (a test namespace, a service's name as a label);
    the indexes must not grow with every one ever seen."""
    store = listed_store()
    for index in range(50):
        store.observe(model(f"m{index}", index + 1, namespace=f"ns{index}", service=f"s{index}"))
    store.replace_all(*MODEL, [model("m0", 100, namespace="ns0", service="s0")], "200")
    objects = store._kinds[MODEL]  # the index's size is what is under test
    assert set(objects.by_namespace) == {"ns0"}
    assert set(objects.by_label) == {("service", "s0")}
    store.observe(model("m0", 201, namespace="ns0", service="s0"), deleted=True)
    assert (objects.by_namespace, objects.by_label, objects.items) == ({}, {}, {})


def test_a_reading_list_applies_the_reader_to_each_object_it_would_list() -> None:
    """What a reader keeps of many objects (an artifact keeps five fields of each service) is all
    that stays alive: each object is read as it is unpickled, and the rest is dropped at once."""
    store = listed_store(model("a", 1, app="x"), model("b", 2), model("c", 3, namespace="other", app="x"))
    seen: list[int] = []

    def revision(obj: dict[str, Any]) -> int:
        seen.append(len(seen))
        return int(obj["spec"]["revision"])

    assert sorted(store.list_read(*MODEL, revision, None, "app=x") or []) == [1, 3]
    assert sorted(store.list_read(*MODEL, revision, "team") or []) == [1, 2]
    assert store.list_read(*MODEL, revision, None, "app notin (x)") is None
    assert len(seen) == 4  # each listed object read once; none for a selector left to the server


@pytest.mark.parametrize("selector", ["app!=x", "!app", "app in (x,y)", "app notin (x)"])
def test_selectors_the_store_does_not_evaluate_go_to_the_server(selector: str) -> None:
    assert parse_selector(selector) is None
    assert listed_store(model("a", 1)).list(*MODEL, None, selector) is None


def test_readers_get_copies() -> None:
    store = listed_store(model("a", 1))
    store.get(*MODEL, "a", "team")["spec"]["revision"] = 99  # type: ignore[index]
    listed = store.list(*MODEL)
    assert listed is not None
    listed[0]["metadata"]["labels"]["new"] = "x"
    again = store.get(*MODEL, "a", "team")
    assert again is not None
    assert again["spec"]["revision"] == 1
    assert again["metadata"]["labels"] == {}


def test_cluster_scoped_objects_have_no_namespace() -> None:
    kind = (V2, "AIMClusterModel")
    store = ObjectStore([kind])
    cluster_model = {"apiVersion": V2, "kind": "AIMClusterModel", "metadata": {"name": "m", "resourceVersion": "3"}}
    store.replace_all(*kind, [cluster_model], "3")
    assert store.get(*kind, "m") is not None
    assert store.get(*kind, "m", None) is not None


def test_the_store_holds_every_kind_watched_in_full_and_no_label_filtered_one() -> None:
    kinds = {kind for _, kind in stored_types(KINDS)}
    assert {"AIMService", "AIMModel", "AIMClusterModel", "AIMServiceTemplate", "AIMTemplateCache", "Node"} <= kinds
    assert not kinds & {"Job", "PersistentVolumeClaim", "InferenceService", "HTTPRoute"}  # watched by label only
    assert ("aim.eai.amd.com/v1alpha1", "AIMServiceTemplate") in stored_types(KINDS)


def test_managed_fields_are_not_kept_and_the_caller_s_object_is_not_changed() -> None:
    listed = model("listed", 5)
    listed["metadata"]["managedFields"] = [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]
    watched = model("watched", 6)
    watched["metadata"]["managedFields"] = [{"manager": "aim-engine"}]
    store = listed_store(listed)
    store.observe(watched)
    for name in ("listed", "watched"):
        found = store.get(*MODEL, name, "team")
        assert found is not None
        assert "managedFields" not in found["metadata"]
        assert found["metadata"]["resourceVersion"] in ("5", "6")
    assert "managedFields" in listed["metadata"]
    assert "managedFields" in watched["metadata"]


def test_label_filtered_kinds_are_held_in_part_and_their_filter_is_known() -> None:
    filtered = filtered_types(KINDS)
    managed = [("app.kubernetes.io/managed-by", "aim-engine")]
    assert filtered[("serving.kserve.io/v1beta1", "InferenceService")] == managed
    assert filtered[("gateway.networking.k8s.io/v1", "HTTPRoute")] == managed
    assert filtered[("v1", "Pod")] == managed
    assert not {kind for _, kind in filtered} & {"Job", "AIMService"}, "several filters, or watched in full"


ISVC = ("serving.kserve.io/v1beta1", "InferenceService")
MANAGED = "app.kubernetes.io/managed-by=aim-engine"


def isvc(name: str, revision: int, **labels: str) -> dict[str, Any]:
    metadata = {"name": name, "namespace": "team", "resourceVersion": str(revision), "labels": labels}
    return {"apiVersion": ISVC[0], "kind": ISVC[1], "metadata": metadata}


@pytest.mark.parametrize(
    ("selector", "covered"),
    [
        pytest.param(MANAGED, True, id="the-filter-itself"),
        pytest.param(f"{MANAGED},aim.eai.amd.com/service=chat", True, id="the-filter-and-more"),
        pytest.param("aim.eai.amd.com/service=chat", False, id="without-the-filter"),
        pytest.param("app.kubernetes.io/managed-by=someone-else", False, id="another-value"),
        pytest.param(None, False, id="everything"),
        pytest.param(f"{MANAGED},tier!=gold", False, id="not-evaluated"),
    ],
)
def test_a_label_filtered_kind_serves_only_lists_that_require_its_filter(selector: str | None, covered: bool) -> None:
    store = ObjectStore([MODEL], {ISVC: [("app.kubernetes.io/managed-by", "aim-engine")]})
    assert not store.covers(*ISVC, MANAGED), "not before its first list"
    assert store.selector_of(*ISVC) == MANAGED
    store.replace_all(*ISVC, [isvc("chat-1", 5, **{"app.kubernetes.io/managed-by": "aim-engine"})], "10")
    assert store.covers(*ISVC, selector) is covered
    assert not store.serves(*ISVC), "a get by name could miss an object without the labels"
    assert store.selector_of(*MODEL) is None
    store.replace_all(*MODEL, [], "10")
    assert store.covers(*MODEL, None)
    assert store.covers(*MODEL, "any=label")

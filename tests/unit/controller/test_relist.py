"""The store's full re-list (at start and periodically): every kind listed into the store, the
kinds at the same time (a fresh API server makes each custom resource's first list wait a second),
and what the lists no longer hold reported as gone."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from controller.__main__ import relist
from controller.kube.store import ObjectStore

KINDS = [("aim.eai.amd.com/v1alpha2", "AIMModel"), ("aim.eai.amd.com/v1alpha1", "AIMArtifact"), ("v1", "Node")]


def obj(api_version: str, kind: str, name: str, revision: int) -> dict[str, Any]:
    metadata = {"name": name, "namespace": "team", "resourceVersion": str(revision)}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


class ListingKube:
    """Answers each kind's list with `items`; the first `together` lists wait for each other, so a
    relist that lists one kind after another never gets past the first."""

    def __init__(self, items: dict[tuple[str, str], list[dict[str, Any]]], together: int):
        self.items = items
        self.barrier = threading.Barrier(together, timeout=10)
        self.listed: list[tuple[str, str, str | None]] = []
        self.lock = threading.Lock()

    def list_from_server(
        self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> tuple[list[dict[str, Any]], str]:
        with self.lock:
            self.listed.append((api_version, kind, label_selector))
            first = len(self.listed) <= self.barrier.parties
        if first:
            self.barrier.wait()
        return self.items.get((api_version, kind), []), "100"


def test_every_kind_is_listed_at_once_and_what_is_gone_is_reported() -> None:
    store = ObjectStore(KINDS[:2], filtered={KINDS[2]: [("managed", "yes")]})
    store.observe(obj(*KINDS[0], "old", 5))
    store.observe(obj(*KINDS[0], "kept", 6))
    kube = ListingKube({KINDS[0]: [obj(*KINDS[0], "kept", 6)], KINDS[1]: [obj(*KINDS[1], "new", 7)]}, together=3)

    gone = relist(kube, store)  # type: ignore[arg-type]  # a stand-in with the one method relist calls

    assert gone == [("AIMModel", "team", "old")]
    assert sorted(kube.listed) == sorted([(*KINDS[0], None), (*KINDS[1], None), (*KINDS[2], "managed=yes")])
    assert [o["metadata"]["name"] for o in store.list(*KINDS[1]) or []] == ["new"]
    assert store.serves(*KINDS[0])
    assert store.serves(*KINDS[1])


def test_a_failing_list_fails_the_relist() -> None:
    """The controller must not start (nor a periodic relist pretend) on a store it could not fill."""

    class Failing(ListingKube):
        def list_from_server(self, api_version: str, kind: str, *args: Any, **kwargs: Any) -> Any:
            if kind == "AIMArtifact":
                raise RuntimeError("500 from the API server")
            return [], "100"

    with pytest.raises(RuntimeError, match="500"):
        relist(Failing({}, together=1), ObjectStore(KINDS[:2]))  # type: ignore[arg-type]

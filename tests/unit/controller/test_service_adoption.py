"""A service keeps the InferenceService and HTTPRoute it owns, whatever they are named (upstream
AIM Engine's names, or this project's before it matched upstream): adopted under their names, with
any duplicates deleted once the service's own is applied."""

from __future__ import annotations

from typing import Any

import pytest

from api.naming import derived_name, http_route_name, inference_service_name
from controller.common.lookup import Found
from controller.pipeline.plan import ObjectRef
from controller.service.common import adopt_owned
from controller.service.plan import plan_service
from tests.unit.controller.test_service_plan import NOW, observe, service

ROUTED = {"routing": {"enabled": True, "gatewayRef": {"name": "inference", "namespace": "gateways"}}}


def child(kind: str, name: str, created: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    api = "serving.kserve.io/v1beta1" if kind == "InferenceService" else "gateway.networking.k8s.io/v1"
    metadata = {"name": name, "namespace": "team", "creationTimestamp": created, "ownerReferences": [{"uid": "u-1"}]}
    return {"apiVersion": api, "kind": kind, "metadata": metadata}


@pytest.mark.parametrize(
    ("owned", "kept", "stale"),
    [
        pytest.param([], None, [], id="none"),
        pytest.param([child("InferenceService", "x")], "x", [], id="one-under-another-name-is-adopted"),
        pytest.param(
            [child("InferenceService", "old", "2026-01-01T00:00:00Z"), child("InferenceService", "want")],
            "want",
            ["old"],
            id="ours-wins",
        ),
        pytest.param(
            [
                child("InferenceService", "b", "2026-02-01T00:00:00Z"),
                child("InferenceService", "a", "2026-03-01T00:00:00Z"),
            ],
            "b",
            ["a"],
            id="else-the-oldest",
        ),
    ],
)
def test_adopt_owned(owned: list[dict[str, Any]], kept: str | None, stale: list[str]) -> None:
    chosen, rest = adopt_owned(owned, "want")
    assert (chosen or {}).get("metadata", {}).get("name") == kept
    assert [o["metadata"]["name"] for o in rest] == stale


def test_an_inference_service_and_route_named_by_upstream_are_adopted_not_duplicated() -> None:
    upstream_isvc = derived_name(["chat"], hash_inputs=["team"])  # upstream 0.2's name: namespace hash only
    assert upstream_isvc != inference_service_name("chat", "team")
    observed = observe(
        service(**ROUTED),
        inference_service=child("InferenceService", upstream_isvc),
        http_route=child("HTTPRoute", "chat-route-upstream"),
    )
    plan = plan_service(observed, NOW)
    isvc = next(o for o in plan.apply if o["kind"] == "InferenceService")
    route = next(o for o in plan.apply if o["kind"] == "HTTPRoute")
    assert isvc["metadata"]["name"] == upstream_isvc
    assert route["metadata"]["name"] == "chat-route-upstream"
    assert route["spec"]["rules"][0]["backendRefs"][0]["name"] == f"{upstream_isvc}-predictor"
    assert plan.delete == []


def test_duplicates_are_deleted_once_the_kept_one_is_applied() -> None:
    duplicate = child("InferenceService", "chat-old")
    observed = observe(service(), inference_service=child("InferenceService", "chat-kept"), stale=[duplicate])
    plan = plan_service(observed, NOW)
    assert plan.delete == [ObjectRef("serving.kserve.io/v1beta1", "InferenceService", "chat-old", "team")]
    blocked = observe(service(), model=Found(None), stale=[duplicate])
    assert plan_service(blocked, NOW).delete == []  # nothing replaces it yet: it keeps serving


@pytest.mark.parametrize(
    ("name", "upstream"),
    [
        pytest.param("chat", True, id="whole-name-kept-upstream-hash"),
        pytest.param("c" * 60, False, id="shortened-service-name-joins-the-hash"),
    ],
)
def test_http_route_names_are_upstream_s_where_unique(name: str, upstream: bool) -> None:
    route = http_route_name(name, "team")
    assert (route == derived_name([name], hash_inputs=["team"])) is upstream
    assert len(route) <= 63


def test_two_long_service_names_sharing_a_prefix_get_distinct_routes() -> None:
    assert http_route_name("a" * 60 + "x", "team") != http_route_name("a" * 60 + "y", "team")

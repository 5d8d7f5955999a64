"""A rate-limited registry listing (429, GitHub's exhausted limit) on an AIMClusterModelSource:
its category, the RegistryReachable reason and message, and when the next sync is asked for."""

from __future__ import annotations

from typing import Any

import pytest

from api.stored import read_model_source
from controller.catalog.sources import plan_filters
from controller.modelsource.fetch import failure_category
from controller.modelsource.observe import ListingFailureCategory, ListingProblem, ModelSourceObservation, SyncResult
from controller.modelsource.plan import FAILED_SYNC_RETRY_SECONDS, plan_model_source
from controller.registry import RegistryRateLimitedError, RegistryUnreachableError

NOW = "2026-11-23T12:00:00Z"
LIMITED = "repositories of docker.io/org: hub.docker.com answered HTTP 429: rate limited, retry in 300 s"
DOWN = "tags of docker.io/org/aim-x: cannot connect to registry docker.io"


def source(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": "hub", "uid": "s-1", "generation": 1},
        "spec": {"registry": "docker.io", "filters": [{"image": "org/aim-*"}], **spec},
    }


def plan_with(problems: list[ListingProblem], **spec: Any) -> Any:
    src = read_model_source(source(**spec))
    sync = SyncResult(filters=plan_filters(src.spec), problems=problems)
    return plan_model_source(ModelSourceObservation(src, [], sync), NOW)


def limited(retry_after: float) -> ListingProblem:
    return ListingProblem(ListingFailureCategory.RATE_LIMITED, "docker.io", LIMITED, 0, None, retry_after)


def unreachable() -> ListingProblem:
    return ListingProblem(ListingFailureCategory.UNREACHABLE, "docker.io", DOWN, 0, "org/aim-x")


def test_a_rate_limit_is_its_own_category() -> None:
    error = RegistryRateLimitedError(LIMITED, registry="docker.io", status=429, retry_after=300.0)
    assert isinstance(error, RegistryUnreachableError)  # image reads keep treating it as temporary
    assert failure_category(error) is ListingFailureCategory.RATE_LIMITED
    assert failure_category(RegistryUnreachableError(DOWN, registry="docker.io")) is ListingFailureCategory.UNREACHABLE


@pytest.mark.parametrize(
    ("problems", "interval", "requeue"),
    [
        ([limited(300.0)], "1h", 300.0),
        ([limited(5.0)], "1h", FAILED_SYNC_RETRY_SECONDS),
        ([limited(300.0)], "30s", 300.0),
        ([unreachable(), limited(900.0)], "1h", 900.0),
        ([unreachable()], "1h", FAILED_SYNC_RETRY_SECONDS),
    ],
    ids=[
        "waits-as-asked",
        "at-least-the-failed-sync-retry",
        "longer-than-a-short-interval",
        "the-longest-wait-wins",
        "unreachable-alone-retries-in-a-minute",
    ],
)
def test_next_sync_honours_the_wait(problems: list[ListingProblem], interval: str, requeue: float) -> None:
    assert plan_with(problems, syncInterval=interval).requeue_after == requeue


@pytest.mark.parametrize(
    "problems", [[limited(300.0)], [unreachable(), limited(300.0)]], ids=["alone", "reported-before-unreachable"]
)
def test_registry_reachable_names_the_rate_limit(problems: list[ListingProblem]) -> None:
    plan = plan_with(problems)
    reachable = next(c for c in plan.status["conditions"] if c["type"] == "RegistryReachable")
    assert (plan.status["status"], reachable["status"], reachable["reason"]) == (
        "Degraded",
        "False",
        "RegistryRateLimited",
    )
    assert "rate limited, retry in 300 s" in reachable["message"]
    assert ("Warning", "RegistryRateLimited") in {(e.type, e.reason) for e in plan.events}

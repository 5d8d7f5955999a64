"""plan_model_source and its scheduling: a registry sync (as data) in; AIMClusterModels, status,
events and the next sync out (no API server, no registry)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from pydantic import ValidationError

from api.stored import read_model_source
from controller.catalog.sources import FilterPlan, RegistryImage, cluster_model_name, plan_filters
from controller.kube.client import Kube
from controller.modelsource import fetch
from controller.modelsource.observe import (
    ListingFailureCategory,
    ListingProblem,
    ModelSourceObservation,
    SyncResult,
)
from controller.modelsource.plan import (
    FAILED_SYNC_RETRY_SECONDS,
    parse_sync_interval,
    plan_model_source,
    seconds_until_sync,
)
from controller.registry.client import RegistryClient
from controller.registry.sources import SourceListing
from tests.builders import conditions

NOW = "2026-11-23T12:00:00Z"
REGISTRY = "registry.example.com"
HOUR = 3600.0


def source(status: dict[str, Any] | None = None, generation: int = 2, **spec: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModelSource",
        "metadata": {"name": "catalog", "uid": "s-1", "generation": generation},
        "spec": {"registry": REGISTRY, "filters": [{"image": "org/aim-*"}], **spec},
    }
    if status is not None:
        obj["status"] = status
    return obj


def image(repository: str, tag: str) -> RegistryImage:
    return RegistryImage(REGISTRY, repository, tag)


def model(img: RegistryImage, state: str | None = None, name: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "aim.eai.amd.com/v1alpha2",
        "kind": "AIMClusterModel",
        "metadata": {"name": name or cluster_model_name(img), "labels": {"aim.eai.amd.com/model-source": "catalog"}},
        "spec": {"image": img.image},
    }
    if state:
        obj["status"] = {"status": state}
    return obj


def synced(src: dict[str, Any], **result: Any) -> SyncResult:
    return SyncResult(filters=plan_filters(read_model_source(src).spec), **result)


def observe(
    src: dict[str, Any], models: list[dict[str, Any]] | None = None, sync: SyncResult | None = None
) -> ModelSourceObservation:
    """The observation of `src` (as the API server sends it, read as the fetch step does)."""
    return ModelSourceObservation(read_model_source(src), models or [], sync)


def plan_sync(src: dict[str, Any], models: list[dict[str, Any]] | None = None, **result: Any) -> Any:
    return plan_model_source(observe(src, models, synced(src, **result)), NOW)


def message(status: dict[str, Any], kind: str) -> str:
    return str(next(c["message"] for c in status["conditions"] if c["type"] == kind))


def problem(category: ListingFailureCategory, text: str, registry: str = REGISTRY) -> ListingProblem:
    return ListingProblem(category, registry, text, filter_index=0)


# --- spec.syncInterval ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "seconds", "problem_has"),
    [
        pytest.param("1h", HOUR, None, id="hour"),
        pytest.param("30m", 1800.0, None, id="minutes"),
        pytest.param("90s", 90.0, None, id="seconds"),
        pytest.param("1h30m", 5400.0, None, id="compound"),
        pytest.param("1.5h", 5400.0, None, id="fraction"),
        pytest.param("2h0m0s", 7200.0, None, id="go-string-form"),
        pytest.param(None, HOUR, None, id="unset-is-1h"),
        pytest.param("", HOUR, None, id="empty-is-1h"),
        pytest.param("10s", 10.0, None, id="minimum"),
        pytest.param("5s", 10.0, "shorter than 10s", id="too-short-raised"),
        pytest.param("500ms", 10.0, "shorter than 10s", id="milliseconds-raised"),
        pytest.param("0s", 10.0, "shorter than 10s", id="zero-raised"),
        pytest.param("0", 10.0, "shorter than 10s", id="bare-zero"),
        pytest.param("1d", HOUR, "not a duration", id="days-are-not-go"),
        pytest.param("hourly", HOUR, "not a duration", id="word"),
        pytest.param("-1h", HOUR, "not a duration", id="negative"),
        pytest.param("1h 30m", HOUR, "not a duration", id="space"),
    ],
)
def test_sync_interval(written: str | None, seconds: float, problem_has: str | None) -> None:
    interval = parse_sync_interval(written)
    assert interval.seconds == seconds
    if problem_has is None:
        assert interval.problem is None
    else:
        assert interval.problem is not None
        assert problem_has in interval.problem
        assert "spec.syncInterval" in interval.problem


# --- when the next sync is due --------------------------------------------------------------------

SYNCED_AT = "2026-11-23T11:30:00Z"  # 30 minutes before NOW


def stored_condition(kind: str, status: str, reason: str = "Test") -> dict[str, Any]:
    return {"type": kind, "status": status, "reason": reason, "lastTransitionTime": SYNCED_AT}


HEALTHY = [stored_condition("RegistryReachable", "True"), stored_condition("AuthValid", "True")]


@pytest.mark.parametrize(
    ("src", "seconds"),
    [
        pytest.param(source(), 0.0, id="never-synced"),
        pytest.param(source({"observedGeneration": 2}), 0.0, id="no-last-sync-time"),
        pytest.param(
            source({"observedGeneration": 2, "lastSyncTime": SYNCED_AT, "conditions": HEALTHY}),
            1800.0,
            id="half-an-hour-left",
        ),
        pytest.param(
            source({"observedGeneration": 1, "lastSyncTime": SYNCED_AT, "conditions": HEALTHY}), 0.0, id="spec-changed"
        ),
        pytest.param(
            source({"observedGeneration": 2, "lastSyncTime": SYNCED_AT}, syncInterval="20m"), 0.0, id="interval-passed"
        ),
        pytest.param(
            source({"observedGeneration": 2, "lastSyncTime": SYNCED_AT}, syncInterval="45m"),
            900.0,
            id="custom-interval",
        ),
        pytest.param(
            source(
                {
                    "observedGeneration": 2,
                    "lastSyncTime": "2026-11-23T11:59:30Z",
                    "conditions": [stored_condition("AuthValid", "False")],
                }
            ),
            FAILED_SYNC_RETRY_SECONDS - 30,
            id="failed-sync-retried-after-a-minute",
        ),
        pytest.param(
            source(
                {
                    "observedGeneration": 2,
                    "lastSyncTime": "2026-11-23T11:59:30Z",
                    "conditions": [stored_condition("RegistryReachable", "False")],
                },
                syncInterval="20s",
            ),
            0.0,
            id="short-interval-wins-over-retry",
        ),
        pytest.param(
            source({"observedGeneration": 2, "lastSyncTime": "not a time"}), 0.0, id="unreadable-last-sync-time"
        ),
    ],
)
def test_seconds_until_sync(src: dict[str, Any], seconds: float) -> None:
    assert seconds_until_sync(read_model_source(src), NOW) == seconds


def test_a_source_being_deleted_never_syncs() -> None:
    src = source()
    src["metadata"]["deletionTimestamp"] = NOW
    assert seconds_until_sync(read_model_source(src), NOW) == float("inf")
    assert plan_model_source(observe(src), NOW).status is None


# --- a sync ---------------------------------------------------------------------------------------

LLAMA_09 = image("org/aim-llama", "0.9.0")
LLAMA_10 = image("org/aim-llama", "1.0.0")
QWEN_09 = image("org/aim-qwen", "0.9.1")


def test_first_sync_creates_owned_models_and_reports_ready() -> None:
    src = source(imagePullSecrets=[{"name": "pull"}])
    plan = plan_sync(src, images=[LLAMA_09, QWEN_09, LLAMA_09], credential_sources={REGISTRY: "pull"})

    assert [m["metadata"]["name"] for m in plan.apply] == [cluster_model_name(LLAMA_09), cluster_model_name(QWEN_09)]
    created = plan.apply[0]
    assert created["spec"] == {"image": f"{REGISTRY}/org/aim-llama:0.9.0", "imagePullSecrets": [{"name": "pull"}]}
    assert created["metadata"]["labels"] == {
        "aim.eai.amd.com/model-source": "catalog",
        "aim.eai.amd.com/origin": "auto-generated",
        "aim.eai.amd.com/cluster-model-source.name": "catalog",
    }
    assert created["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModelSource",
            "name": "catalog",
            "uid": "s-1",
            "controller": True,
            "blockOwnerDeletion": False,
        }
    ]
    status = plan.status
    assert status["status"] == "Ready"
    assert status["lastSyncTime"] == NOW
    assert status["observedGeneration"] == 2
    assert (status["discoveredModels"], status["availableModels"], status["modelsLimitReached"]) == (2, 0, False)
    assert conditions(status) == {
        "AuthValid": ("True", "CredentialsAccepted"),
        "FiltersValid": ("True", "FiltersValid"),
        "MaxModelsLimitReached": ("False", "WithinLimit"),
        "ModelsDiscovered": ("True", "ModelsDiscovered"),
        "Ready": ("True", "AllComponentsReady"),
        "RegistryReachable": ("True", "Reachable"),
        "SyncIntervalValid": ("True", "SyncIntervalValid"),
    }
    assert message(status, "AuthValid") == f'Credentials accepted: Secret "pull" for {REGISTRY}'
    assert [(e.type, e.reason) for e in plan.events] == [("Normal", "ModelsCreated"), ("Normal", "Synced")]
    assert plan.requeue_after == HOUR


def test_existing_models_are_kept_counted_and_reapplied_and_never_deleted() -> None:
    gone = image("org/aim-old", "0.1.0")  # no longer in the registry
    models = [model(LLAMA_09, "Ready"), model(gone, "Ready")]
    previous = {"observedGeneration": 2, "lastSyncTime": SYNCED_AT, "conditions": HEALTHY}
    plan = plan_sync(source(previous), models, images=[LLAMA_09, QWEN_09])

    assert [m["metadata"]["name"] for m in plan.apply] == [cluster_model_name(QWEN_09), cluster_model_name(LLAMA_09)]
    assert plan.delete == []
    assert (plan.status["discoveredModels"], plan.status["availableModels"]) == (3, 2)
    assert [e.reason for e in plan.events] == ["ModelsCreated"]  # not the first sync


def test_a_model_for_the_image_under_another_name_is_left_alone() -> None:
    plan = plan_sync(source(), [model(LLAMA_09, name="hand-made")], images=[LLAMA_09])
    assert plan.apply == []
    assert plan.status["discoveredModels"] == 1


@pytest.mark.parametrize(
    ("max_models", "existing", "created", "limited"),
    [
        pytest.param(10, [], [LLAMA_10, LLAMA_09, QWEN_09], False, id="room-for-all"),
        pytest.param(3, [], [LLAMA_10, LLAMA_09, QWEN_09], False, id="exactly-enough"),
        pytest.param(2, [], [LLAMA_10, LLAMA_09], True, id="newest-first-per-repository"),
        pytest.param(2, [QWEN_09], [LLAMA_10], True, id="existing-models-count"),
        pytest.param(1, [QWEN_09, image("org/aim-gone", "1.0")], [], True, id="already-over-the-limit"),
    ],
)
def test_max_models(
    max_models: int, existing: list[RegistryImage], created: list[RegistryImage], limited: bool
) -> None:
    plan = plan_sync(source(maxModels=max_models), [model(i) for i in existing], images=[LLAMA_09, LLAMA_10, QWEN_09])
    existing_names = {cluster_model_name(i) for i in existing}
    new = [m["metadata"]["name"] for m in plan.apply if m["metadata"]["name"] not in existing_names]
    assert new == [cluster_model_name(i) for i in created]
    assert plan.status["modelsLimitReached"] is limited
    assert conditions(plan.status)["MaxModelsLimitReached"] == (
        ("True", "LimitReached") if limited else ("False", "WithinLimit")
    )
    assert plan.status["status"] == "Ready"  # a cap is not a failure
    assert ("MaxModelsLimitReached" in [e.reason for e in plan.events]) is limited


def test_the_limit_warning_is_not_repeated() -> None:
    previous = {
        "observedGeneration": 2,
        "lastSyncTime": SYNCED_AT,
        "conditions": [*HEALTHY, stored_condition("MaxModelsLimitReached", "True", "LimitReached")],
    }
    plan = plan_sync(source(previous, maxModels=1), [model(QWEN_09)], images=[LLAMA_09, QWEN_09])
    assert plan.status["modelsLimitReached"] is True
    assert plan.events == []


def test_a_model_name_held_by_another_source_is_not_taken_over() -> None:
    plan = plan_sync(source(), images=[LLAMA_09, QWEN_09], taken_names={cluster_model_name(LLAMA_09): "other"})
    assert [m["metadata"]["name"] for m in plan.apply] == [cluster_model_name(QWEN_09)]
    assert plan.status["status"] == "Ready"
    assert cluster_model_name(LLAMA_09) in message(plan.status, "ModelsDiscovered")


# --- failures -------------------------------------------------------------------------------------

REFUSED = f"catalog of {REGISTRY}: registry {REGISTRY} refused the credentials of user 'bot' (HTTP 401)"
DOWN = f"catalog of {REGISTRY}: registry {REGISTRY} did not answer in time"


@pytest.mark.parametrize(
    ("result", "state", "condition", "reason", "in_message"),
    [
        pytest.param(
            {"problems": [problem(ListingFailureCategory.UNAUTHORIZED, REFUSED)]},
            "Failed",
            "AuthValid",
            "Unauthorized",
            "refused the credentials of user 'bot'",
            id="unauthorized-is-failed",
        ),
        pytest.param(
            {
                "problems": [problem(ListingFailureCategory.UNAUTHORIZED, REFUSED)],
                "secret_problems": ['pull Secret "pull" not found in namespace aim-system'],
            },
            "Failed",
            "AuthValid",
            "Unauthorized",
            'pull Secret "pull" not found',
            id="unauthorized-names-the-missing-secret",
        ),
        pytest.param(
            {"secret_problems": ['pull Secret "pull" not found in namespace aim-system'], "images": [LLAMA_09]},
            "Degraded",
            "AuthValid",
            "PullSecretProblem",
            'pull Secret "pull" not found',
            id="missing-secret-but-anonymous-works",
        ),
        pytest.param(
            {"problems": [problem(ListingFailureCategory.UNREACHABLE, DOWN)]},
            "Degraded",
            "RegistryReachable",
            "RegistryUnreachable",
            f"registry {REGISTRY} did not answer",
            id="unreachable-is-degraded",
        ),
        pytest.param(
            {"problems": [problem(ListingFailureCategory.NOT_FOUND, "tags of org/x: not found")], "images": [QWEN_09]},
            "Degraded",
            "RegistryReachable",
            "RepositoryNotFound",
            "tags of org/x",
            id="missing-repository-is-degraded",
        ),
        pytest.param(
            {"problems": [problem(ListingFailureCategory.PROTOCOL, "registry docker.io does not serve this API")]},
            "Degraded",
            "RegistryReachable",
            "RegistryProtocolError",
            "does not serve this API",
            id="no-catalog-api",
        ),
    ],
)
def test_listing_failures(result: dict[str, Any], state: str, condition: str, reason: str, in_message: str) -> None:
    plan = plan_sync(source(), **result)
    assert plan.status["status"] == state
    assert conditions(plan.status)[condition] == ("False", reason)
    assert in_message in message(plan.status, condition)
    assert conditions(plan.status)["Ready"] == ("False", reason)
    assert plan.status["lastSyncTime"] == NOW
    assert ("Warning", reason) in [(e.type, e.reason) for e in plan.events]
    assert "Synced" not in [e.reason for e in plan.events]
    assert plan.requeue_after == FAILED_SYNC_RETRY_SECONDS


def test_what_was_listed_is_created_even_when_another_listing_failed() -> None:
    plan = plan_sync(source(), images=[QWEN_09], problems=[problem(ListingFailureCategory.UNREACHABLE, DOWN)])
    assert [m["metadata"]["name"] for m in plan.apply] == [cluster_model_name(QWEN_09)]
    assert plan.status["status"] == "Degraded"


def test_a_repeated_failure_is_not_warned_about_again() -> None:
    previous = {
        "observedGeneration": 2,
        "lastSyncTime": SYNCED_AT,
        "conditions": [stored_condition("AuthValid", "False", "Unauthorized")],
    }
    plan = plan_sync(source(previous), problems=[problem(ListingFailureCategory.UNAUTHORIZED, REFUSED)])
    assert plan.events == []


@pytest.mark.parametrize(
    ("spec", "state", "in_message"),
    [
        pytest.param(
            {"filters": [{"image": "org/aim-*", "versions": [">=banana"]}]},
            "Failed",
            "spec.filters[0]: version constraint",
            id="only-filter-unusable",
        ),
        pytest.param(
            {"filters": [{"image": "org/aim-*"}, {"image": "org/m@sha256:" + "a" * 64}]},
            "Degraded",
            "spec.filters[1].image",
            id="one-of-two-unusable",
        ),
    ],
)
def test_unusable_filters(spec: dict[str, Any], state: str, in_message: str) -> None:
    plan = plan_sync(source(**spec), images=[QWEN_09] if state == "Degraded" else [])
    assert plan.status["status"] == state
    assert conditions(plan.status)["FiltersValid"] == ("False", "InvalidFilters")
    assert in_message in message(plan.status, "FiltersValid")


def test_an_invalid_interval_is_reported_and_the_fallback_used() -> None:
    plan = plan_sync(source(syncInterval="0s"), images=[QWEN_09])
    assert plan.status["status"] == "Degraded"
    assert conditions(plan.status)["SyncIntervalValid"] == ("False", "InvalidSyncInterval")
    assert "spec.syncInterval '0s'" in message(plan.status, "SyncIntervalValid")
    assert plan.requeue_after == 10.0


def test_no_matching_image_is_pending() -> None:
    plan = plan_sync(source())
    assert plan.status["status"] == "Pending"
    assert conditions(plan.status)["ModelsDiscovered"] == ("False", "NoMatchingImages")
    assert plan.apply == []
    assert plan.events == []


# --- a reconcile without a sync -------------------------------------------------------------------


def test_without_a_sync_only_the_model_counts_change() -> None:
    previous = {
        "observedGeneration": 2,
        "status": "Ready",
        "lastSyncTime": SYNCED_AT,
        "discoveredModels": 1,
        "availableModels": 0,
        "modelsLimitReached": False,
        "conditions": HEALTHY,
    }
    models = [model(LLAMA_09, "Ready"), model(QWEN_09, "Pending")]
    plan = plan_model_source(observe(source(previous), models), NOW)
    assert plan.status == previous | {"discoveredModels": 2, "availableModels": 1}
    assert plan.apply == []
    assert plan.events == []
    assert plan.requeue_after == 1800.0


def test_the_credentials_never_reach_the_status_or_events() -> None:
    # Only Secret names come in (SyncResult has no field for credentials); messages hold names.
    plan = plan_sync(
        source(imagePullSecrets=[{"name": "pull"}]), images=[QWEN_09], credential_sources={REGISTRY: "pull"}
    )
    text = repr(plan.status) + repr(plan.events)
    assert "pull" in text
    assert "password" not in text.lower()


# --- the fetch step -------------------------------------------------------------------------------


class StoreKube:
    """get and list over a few stored objects (the label selector is the source's)."""

    def __init__(self, *objects: dict[str, Any]):
        self.objects = list(objects)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        return next((o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name), None)

    def list(self, api_version: str, kind: str, namespace: str | None = None, **_: Any) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]


def fetched(
    src: dict[str, Any], monkeypatch: pytest.MonkeyPatch, listed: list[list[FilterPlan]], *objects: dict[str, Any]
) -> ModelSourceObservation:
    """fetch_model_source with the registry listing replaced: `listed` gets the filter plans it is
    asked to list."""

    def listing(client: Any, plans: list[FilterPlan], credentials_for: Any) -> SourceListing:
        listed.append(list(plans))
        return SourceListing(images=[QWEN_09])

    monkeypatch.setattr(fetch, "list_source_images", listing)
    kube = cast(Kube, StoreKube(*objects))
    return fetch.fetch_model_source(kube, src, cast(RegistryClient, None), "aim-system", clock=lambda: NOW)


def test_filters_are_planned_by_the_catalog_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    spec: dict[str, Any] = {"filters": [{"image": "org/aim-*", "exclude": ["org/aim-old"]}], "versions": [">=1"]}
    listed: list[list[FilterPlan]] = []
    observed = fetched(source(**spec), monkeypatch, listed)
    assert listed == [plan_filters({"registry": REGISTRY, **spec})]
    assert observed.sync is not None
    assert (observed.sync.filters, observed.sync.images) == (listed[0], [QWEN_09])


def test_a_spec_the_api_model_refuses_is_not_synced(monkeypatch: pytest.MonkeyPatch) -> None:
    """No filter at all: the fetch step refuses the object (the reconciler says so on its status,
    ConfigValid=False InvalidSpec) before any registry is asked."""
    listed: list[list[FilterPlan]] = []
    with pytest.raises(ValidationError, match=r"spec\.filters"):
        fetched(source(filters=[]), monkeypatch, listed)
    assert listed == []

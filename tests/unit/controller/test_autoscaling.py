"""The autoscaling planner (controller/service/autoscaling.py): bounds, triggers, the ScaledObject,
HPAReady and status.runtime, as tables."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from api.stored import read_service
from api.v1alpha2.aimservice import AIMService, AIMServiceSpec
from controller.service.autoscaling import (
    ScalingObservation,
    metric_triggers,
    plan_scaled_object,
    replica_bounds,
    runtime_status,
    scaled_to_zero,
    scaling_component,
)

RUNNING = {"type": "PodMetric", "podmetric": {"metric": {"metricNames": ["vllm:num_requests_running"]}}}


def metric(backend: str = "opentelemetry", target: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "type": "PodMetric",
        "podmetric": {
            "metric": {"backend": backend, **fields},
            "target": target or {"type": "Value", "value": "2"},
        },
    }


def service(**spec: Any) -> AIMService:
    """An AIMService as the API server sends it, read as the fetch step reads it."""
    return read_service(
        {
            "apiVersion": "aim.eai.amd.com/v1alpha2",
            "kind": "AIMService",
            "metadata": {"name": "chat", "namespace": "team", "uid": "u-1"},
            "spec": {"model": {"name": "m"}, **spec},
        }
    )


def typed(spec: dict[str, Any]) -> AIMServiceSpec:
    return AIMServiceSpec.model_validate(spec)


def hpa(desired: int = 1, **conditions: tuple[str, str]) -> dict[str, Any]:
    return {
        "status": {
            "desiredReplicas": desired,
            "conditions": [
                {"type": t, "status": s, "reason": r, "message": f"{t} says {r}"} for t, (s, r) in conditions.items()
            ],
        }
    }


def scaled(active: str) -> dict[str, Any]:
    return {"status": {"conditions": [{"type": "Active", "status": active}]}}


@pytest.mark.parametrize(
    ("spec", "bounds"),
    [
        pytest.param({"maxReplicas": 4}, (1, 4), id="min-defaults-to-1"),
        pytest.param({"minReplicas": 2}, (2, 2), id="max-defaults-to-min"),
        pytest.param({"minReplicas": 0}, (0, 1), id="max-never-below-1"),
        pytest.param({"autoScaling": {"cooldownPeriod": 5}}, (1, 1), id="neither"),
        pytest.param({"minReplicas": 0, "maxReplicas": 3}, (0, 3), id="to-zero"),
    ],
)
def test_replica_bounds(spec: dict[str, Any], bounds: tuple[int, int]) -> None:
    assert replica_bounds(typed(spec)) == bounds


@pytest.mark.parametrize(
    ("metrics", "expected"),
    [
        pytest.param(
            [metric(metricNames=["vllm:num_requests_running"], operationOverTime="avg")],
            [
                {
                    "type": "external",
                    "metadata": {
                        "scalerAddress": "keda-otel-scaler.keda.svc:4318",
                        "metricQuery": 'sum(vllm:num_requests_running{namespace="team",deployment="isvc-predictor"})',
                        "targetValue": "2",
                        "operationOverTime": "avg",
                    },
                }
            ],
            id="otel-bare-name-scoped-to-the-predictor",
        ),
        pytest.param(
            [
                metric(
                    query='sum(x{a="b"})', serverAddress="otel:1", target={"type": "AverageValue", "averageValue": "5"}
                )
            ],
            [
                {
                    "type": "external",
                    "metadata": {"scalerAddress": "otel:1", "metricQuery": 'sum(x{a="b"})', "targetValue": "5"},
                }
            ],
            id="otel-query-as-given",
        ),
        pytest.param(
            [metric("metrics-api", metricNames=["vllm:num_requests_running"])],
            [
                {
                    "type": "metrics-api",
                    "metricType": "Value",
                    "metadata": {
                        "url": "http://isvc-predictor.team.svc:8000/metrics",
                        "format": "prometheus",
                        "valueLocation": "vllm:num_requests_running",
                        "targetValue": "2",
                        "aggregateFromKubeServiceEndpoints": "true",
                        "aggregationType": "sum",
                    },
                }
            ],
            id="metrics-api-sums-the-predictors-pods",
        ),
        pytest.param(
            [
                metric(
                    "metrics-api",
                    query='vllm:num_requests_waiting{model_name="m"}',
                    serverAddress="http://elsewhere/metrics",
                    target={"type": "AverageValue", "averageValue": "3"},
                )
            ],
            [
                {
                    "type": "metrics-api",
                    "metricType": "AverageValue",
                    "metadata": {
                        "url": "http://elsewhere/metrics",
                        "format": "prometheus",
                        "valueLocation": 'vllm:num_requests_waiting{model_name="m"}',
                        "targetValue": "3",
                    },
                }
            ],
            id="metrics-api-url-as-given-read-as-is",
        ),
        pytest.param([{"type": "PodMetric"}], [], id="no-podmetric-no-trigger"),
    ],
)
def test_metric_triggers(metrics: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert metric_triggers(typed({"autoScaling": {"metrics": metrics}}), "team", "isvc-predictor") == expected


def test_a_metric_without_a_target_is_refused_before_it_could_make_a_trigger() -> None:
    """The schema requires podmetric.target (the API server refuses such a service; a stored one
    fails the fetch step), so no trigger is ever planned without one."""
    with pytest.raises(ValidationError, match="target"):
        typed({"autoScaling": {"metrics": [RUNNING]}})


def test_the_scaled_object_is_named_like_the_predictor_owned_and_labelled() -> None:
    svc = service(
        minReplicas=0,
        maxReplicas=3,
        autoScaling={"metrics": [metric("metrics-api", metricNames=["m"])], "pollingInterval": 5, "cooldownPeriod": 30},
    )
    scaled_object = plan_scaled_object(svc, "chat-abc")
    assert scaled_object is not None
    assert scaled_object["metadata"]["name"] == "chat-abc-predictor"
    assert scaled_object["metadata"]["labels"] == {
        "app.kubernetes.io/component": "autoscaling",
        "app.kubernetes.io/managed-by": "aim-engine",
        "aim.eai.amd.com/service": "chat",
        "aim.eai.amd.com/service.name": "chat",
    }
    assert scaled_object["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    spec = scaled_object["spec"]
    assert spec["scaleTargetRef"] == {"name": "chat-abc-predictor"}
    assert (spec["minReplicaCount"], spec["maxReplicaCount"], spec["pollingInterval"], spec["cooldownPeriod"]) == (
        0,
        3,
        5,
        30,
    )


def test_no_trigger_no_scaled_object() -> None:
    assert plan_scaled_object(service(minReplicas=1, maxReplicas=2), "chat-abc") is None


IDLE = ScalingObservation(True, scaled("False"), hpa(1, ScalingActive=("False", "ScalingDisabled")))


@pytest.mark.parametrize(
    ("spec", "planned", "observed", "expected"),
    [
        pytest.param(
            {"minReplicas": 1}, True, ScalingObservation(False), ("Degraded", "KEDANotInstalled"), id="no-keda"
        ),
        pytest.param(
            {"minReplicas": 1},
            False,
            ScalingObservation(True),
            ("Degraded", "AutoscalingRequiresMetrics"),
            id="no-trigger",
        ),
        pytest.param(
            {"minReplicas": 1}, True, ScalingObservation(True, {}), ("Starting", "HPANotFound"), id="no-hpa-yet"
        ),
        pytest.param(
            {"minReplicas": 1},
            True,
            ScalingObservation(True, {}, hpa(AbleToScale=("False", "FailedGetScale"))),
            ("Starting", "ScaleTargetNotReady"),
            id="no-target",
        ),
        pytest.param(
            {"minReplicas": 1},
            True,
            ScalingObservation(
                True, {}, hpa(AbleToScale=("True", "x"), ScalingActive=("False", "FailedGetExternalMetric"))
            ),
            ("Degraded", "MetricsFailed"),
            id="metrics-fail",
        ),
        pytest.param(
            {"minReplicas": 1},
            True,
            ScalingObservation(True, {}, hpa(AbleToScale=("True", "x"))),
            ("Running", "WaitingForMetrics"),
            id="first-metrics",
        ),
        pytest.param(
            {"minReplicas": 1},
            True,
            ScalingObservation(True, {}, hpa(AbleToScale=("True", "x"), ScalingActive=("True", "ValidMetricFound"))),
            ("Running", "HPAOperational"),
            id="operational",
        ),
        pytest.param({"minReplicas": 0}, True, IDLE, ("Running", "ScaledToZero"), id="idle-at-zero"),
        pytest.param(
            {"minReplicas": 1}, True, IDLE, ("Degraded", "MetricsFailed"), id="disabled-above-zero-is-not-idle"
        ),
    ],
)
def test_hpa_ready(
    spec: dict[str, Any], planned: bool, observed: ScalingObservation, expected: tuple[str, str]
) -> None:
    component = scaling_component(typed(spec), planned, observed)
    assert component.condition == "HPAReady"
    assert (component.state, component.reason) == expected


@pytest.mark.parametrize(
    ("spec", "running", "observed", "expected"),
    [
        pytest.param({"replicas": 2}, 2, None, (2, 2, 2, 2, "2"), id="fixed"),
        pytest.param(
            {"minReplicas": 1, "maxReplicas": 4},
            1,
            ScalingObservation(True, {}, None),
            (1, 4, 1, 1, "1/1 (1-4)"),
            id="no-hpa",
        ),
        pytest.param(
            {"minReplicas": 1, "maxReplicas": 4},
            2,
            ScalingObservation(True, {}, hpa(3)),
            (1, 4, 2, 3, "2/3 (1-4)"),
            id="scaling-up",
        ),
        pytest.param(
            {"minReplicas": 1, "maxReplicas": 4},
            None,
            ScalingObservation(True, {}, hpa(3)),
            (1, 4, 3, 3, "3/3 (1-4)"),
            id="pods-not-read",
        ),
        pytest.param({"minReplicas": 0, "maxReplicas": 2}, 0, IDLE, (0, 2, 0, 0, "0/0 (0-2)"), id="idle"),
        pytest.param(
            {"minReplicas": 2, "maxReplicas": 2},
            2,
            ScalingObservation(True, {}, hpa(2)),
            (2, 2, 2, 2, "2"),
            id="equal-bounds",
        ),
    ],
)
def test_runtime_status(
    spec: dict[str, Any], running: int | None, observed: ScalingObservation | None, expected: tuple[Any, ...]
) -> None:
    runtime = runtime_status(typed(spec), running, observed)
    keys = ("minReplicas", "maxReplicas", "currentReplicas", "desiredReplicas", "replicas")
    assert tuple(runtime[k] for k in keys) == expected


@pytest.mark.parametrize(
    ("spec", "observed", "idle"),
    [
        pytest.param({"minReplicas": 0}, IDLE, True, id="hpa-disabled-at-zero"),
        pytest.param(
            {"minReplicas": 0}, ScalingObservation(True, scaled("False"), hpa(1)), False, id="inactive-in-cooldown"
        ),
        pytest.param({"minReplicas": 0}, ScalingObservation(True, scaled("True")), False, id="active"),
        pytest.param({"minReplicas": 0}, ScalingObservation(True, None), False, id="no-scaled-object"),
        pytest.param({"minReplicas": 1}, ScalingObservation(True, scaled("False")), False, id="never-below-one"),
    ],
)
def test_scaled_to_zero(spec: dict[str, Any], observed: ScalingObservation, idle: bool) -> None:
    assert scaled_to_zero(typed(spec), observed) is idle


@pytest.mark.parametrize(
    ("spec", "activator", "types"),
    [
        pytest.param(
            {"minReplicas": 0, "maxReplicas": 2}, "http://act:8080", ["metrics-api"], id="zero-activation-only"
        ),
        pytest.param(
            {"minReplicas": 0, "autoScaling": {"metrics": [metric()]}},
            "http://act:8080/",
            ["metrics-api", "external"],
            id="activation-first",
        ),
        pytest.param(
            {"minReplicas": 1, "autoScaling": {"metrics": [metric()]}},
            "http://act:8080",
            ["external"],
            id="not-from-zero",
        ),
        pytest.param({"minReplicas": 0, "maxReplicas": 2}, "", None, id="zero-without-activator"),
    ],
)
def test_scale_from_zero_reads_the_activator(spec: dict[str, Any], activator: str, types: list[str] | None) -> None:
    scaled_object = plan_scaled_object(service(**spec), "chat-abc", None, activator)
    if types is None:
        assert scaled_object is None
        return
    assert scaled_object is not None
    triggers = scaled_object["spec"]["triggers"]
    assert [t["type"] for t in triggers] == types
    if spec.get("minReplicas") == 0:
        assert triggers[0]["metadata"] == {
            "url": "http://act:8080/-/activation/team/chat",
            "format": "json",
            "valueLocation": "value",
            "targetValue": "1000000000",
            "activationTargetValue": "0",
        }

"""Autoscaling of an AIMService's predictor through KEDA (pure: the service and what KEDA and the
HPA it made report in; the ScaledObject, the `HPAReady` component and `status.runtime` out).

As upstream since 0.2.5: with minReplicas, maxReplicas or autoScaling set, the InferenceService
is stamped `autoscalerClass: external` (KServe makes no autoscaler of its own) and the service
owns a KEDA ScaledObject named like the predictor Deployment it scales, one trigger per metric.
KEDA makes the HPA (`keda-hpa-<scaled object>`) that scales between the bounds, and scales to
zero and back itself when minReplicas is 0.

Metrics come from one of two backends. `opentelemetry` is upstream's: an `external` trigger asks
keda-otel-scaler, which an OpenTelemetry collector feeds. `metrics-api` is this project's: KEDA's
metrics-api scaler reads the metric straight from the predictor's Prometheus endpoints (vLLM's
`/metrics`), so autoscaling needs KEDA and nothing else. KEDA reads every ready pod behind the
predictor Service and sums (`aggregateFromKubeServiceEndpoints`): a `Value` target compares the
sum, an `AverageValue` target the sum per replica.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api import labels
from api.conditions import ConditionType, Reason
from api.naming import keda_hpa_name, predictor_name, rfc1123
from api.v1alpha1.aimservice import MetricsBackend, ServiceStatusValue
from controller.pipeline.components import Component
from controller.pipeline.objects import child_labels
from controller.pipeline.plan import owner_reference

DEFAULT_OTEL_SCALER_ADDRESS = "keda-otel-scaler.keda.svc:4318"
"""Upstream's default address of keda-otel-scaler (its env AIM_KEDA_OTEL_SCALER_ADDRESS)."""
SCALED_OBJECT = "ScaledObject"
HPA_API = f"{labels.AUTOSCALING_GROUP}/v2"
HPA = "HorizontalPodAutoscaler"
SCALED_OBJECT_CRD = "scaledobjects.keda.sh"
METRICS_PATH = "/metrics"
PREDICTOR_PORT = 80
"""The predictor Service's port (KServe's raw deployment) in front of the model server."""
SERVING_PORT = 8000
"""The model server's port in the predictor pods (the inference container's `http` port)."""


def autoscaling(spec: dict[str, Any]) -> bool:
    """Bounds or metrics set: KEDA scales the predictor (otherwise spec.replicas, fixed)."""
    return any(spec.get(k) is not None for k in ("autoScaling", "minReplicas", "maxReplicas"))


def replica_bounds(spec: dict[str, Any]) -> tuple[int, int]:
    """(min, max) as upstream resolves them: min defaults to 1; max to maxReplicas, else to
    minReplicas but never below 1."""
    minimum = spec.get("minReplicas")
    lower = 1 if minimum is None else int(minimum)
    maximum = spec.get("maxReplicas")
    upper = int(maximum) if maximum is not None else max(lower, 1)
    return lower, upper


def _target_value(target: dict[str, Any]) -> str:
    for key in ("value", "averageValue", "averageUtilization"):
        if target.get(key) is not None:
            return str(target[key])
    return "0"


def _otel_query(metric: dict[str, Any], namespace: str, predictor: str) -> str:
    query = str(metric.get("query") or (metric.get("metricNames") or [""])[0])
    if "{" not in query:  # a bare name: this service's predictor only, summed over its pods
        query = f'sum({query}{{namespace="{namespace}",deployment="{predictor}"}})'
    return query


def metric_triggers(spec: dict[str, Any], namespace: str, predictor: str) -> list[dict[str, Any]]:
    """One KEDA trigger per PodMetric that names its metric and target (others cannot be asked)."""
    triggers = []
    for entry in (spec.get("autoScaling") or {}).get("metrics") or []:
        pod_metric = entry.get("podmetric") or {}
        metric, target = pod_metric.get("metric"), pod_metric.get("target")
        if entry.get("type") != "PodMetric" or not metric or not target:
            continue
        if metric.get("backend") == MetricsBackend.METRICS_API:
            given = metric.get("serverAddress")
            details: dict[str, str] = {
                # `.svc` and the pod's DNS search list: any cluster domain. The port is the model
                # server's: KEDA matches it against the Service's endpoints, which it reads one by one.
                "url": given or f"http://{predictor}.{namespace}.svc:{SERVING_PORT}{METRICS_PATH}",
                "format": "prometheus",
                "valueLocation": str(metric.get("query") or (metric.get("metricNames") or [""])[0]),
                "targetValue": _target_value(target),
            }
            if not given:  # the sum over the predictor's ready pods, not one pod's value
                details |= {"aggregateFromKubeServiceEndpoints": "true", "aggregationType": "sum"}
            metric_type = "AverageValue" if target.get("type") == "AverageValue" else "Value"
            triggers.append({"type": "metrics-api", "metricType": metric_type, "metadata": details})
            continue
        metadata = {
            "scalerAddress": metric.get("serverAddress") or DEFAULT_OTEL_SCALER_ADDRESS,
            "metricQuery": _otel_query(metric, namespace, predictor),
            "targetValue": _target_value(target),
        }
        if metric.get("operationOverTime"):
            metadata["operationOverTime"] = metric["operationOverTime"]
        triggers.append({"type": "external", "metadata": metadata})
    return triggers


SCALE_FROM_ZERO_POLLING_SECONDS = 5
ACTIVATION_TARGET = "1000000000"
"""The activation trigger's target: a ceiling no demand reaches, so it wakes the predictor (its
activation threshold is 0) without weighing in on scaling from 1 to N (upstream's value)."""


def activation_trigger(activator_url: str, namespace: str, service_name: str) -> dict[str, Any]:
    """Scale from zero: KEDA reads the requests aim-activator holds or forwards for the service
    (`{"value": N}`); any at all activates the predictor."""
    return {
        "type": "metrics-api",
        "name": "activation",
        "metadata": {
            "url": f"{activator_url.rstrip('/')}/-/activation/{namespace}/{service_name}",
            "format": "json",
            "valueLocation": "value",
            "targetValue": ACTIVATION_TARGET,
            "activationTargetValue": "0",
        },
    }


def plan_scaled_object(
    service: dict[str, Any], inference_service_name: str, config: dict[str, Any] | None = None, activator_url: str = ""
) -> dict[str, Any] | None:
    """The service's ScaledObject; None when no trigger resolves (KEDA refuses one without). With
    minReplicas 0 and an activator, the activation trigger comes first (so 0 → 1 works even with
    no metric, as upstream's gateway trigger). Its
    labels are every child's (controller.pipeline.objects.child_labels); KEDA copies them to the
    HPA it makes, which is how the HPA's changes find the service."""
    spec = service.get("spec") or {}
    metadata = service["metadata"]
    name = predictor_name(inference_service_name)
    lower, upper = replica_bounds(spec)
    triggers = metric_triggers(spec, metadata["namespace"], name)
    if lower == 0 and activator_url:  # first, as upstream puts its activation trigger
        triggers.insert(0, activation_trigger(activator_url, metadata["namespace"], metadata["name"]))
    if not triggers:
        return None
    scaled: dict[str, Any] = {
        "scaleTargetRef": {"name": name},
        "minReplicaCount": lower,
        "maxReplicaCount": upper,
        "triggers": triggers,
    }
    settings = spec.get("autoScaling") or {}
    for field, key in (("pollingInterval", "pollingInterval"), ("cooldownPeriod", "cooldownPeriod")):
        if settings.get(field) is not None:
            scaled[key] = settings[field]
    if lower == 0:  # waking from zero waits for a poll: upstream polls every 5 s then, not KEDA's 30
        scaled.setdefault("pollingInterval", SCALE_FROM_ZERO_POLLING_SECONDS)
    return {
        "apiVersion": labels.SCALED_OBJECT_API,
        "kind": SCALED_OBJECT,
        "metadata": {
            "name": name,
            "namespace": metadata["namespace"],
            "labels": child_labels(
                service,
                {
                    labels.COMPONENT: labels.COMPONENT_AUTOSCALING,
                    labels.MANAGED_BY: labels.MANAGED_BY_VALUE,
                    labels.SERVICE: rfc1123(metadata["name"]),
                },
                config,
            ),
            "ownerReferences": [owner_reference(service)],
        },
        "spec": scaled,
    }


@dataclass(frozen=True)
class ScalingObservation:
    """What KEDA and its HPA report for one service (fetched only for autoscaled services)."""

    keda_installed: bool
    scaled_object: dict[str, Any] | None = None
    hpa: dict[str, Any] | None = None


def hpa_name(inference_service_name: str) -> str:
    return keda_hpa_name(predictor_name(inference_service_name))


def _condition(obj: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    return next((c for c in ((obj or {}).get("status") or {}).get("conditions") or [] if c.get("type") == kind), {})


def scaled_to_zero(spec: dict[str, Any], observed: ScalingObservation) -> bool:
    """KEDA has idled the predictor: minReplicas 0 and the HPA disabled because its target has no
    replicas. (The ScaledObject turns not Active as soon as the triggers go quiet, while the pods
    still run out the cooldown: that is not zero yet.)"""
    if replica_bounds(spec)[0] != 0 or observed.scaled_object is None:
        return False
    return _condition(observed.hpa, "ScalingActive").get("reason") == "ScalingDisabled"


def scaling_component(spec: dict[str, Any], planned: bool, observed: ScalingObservation) -> Component:
    """HPAReady, as upstream reports it (its reasons), plus this project's KEDANotInstalled."""
    condition = ConditionType.HPA_READY
    if not observed.keda_installed:
        return Component(
            condition,
            ServiceStatusValue.DEGRADED,
            Reason.KEDA_NOT_INSTALLED,
            "autoscaling needs KEDA: the ScaledObject kind (keda.sh) is not served; the predictor runs at minReplicas",
        )
    if not planned:
        return Component(
            condition,
            ServiceStatusValue.DEGRADED,
            Reason.AUTOSCALING_REQUIRES_METRICS,
            "Autoscaling is configured (minReplicas/maxReplicas/autoScaling) but no scaling trigger resolves,"
            " so no KEDA ScaledObject is created: set spec.autoScaling.metrics",
        )
    if scaled_to_zero(spec, observed):
        return Component(condition, ServiceStatusValue.RUNNING, Reason.SCALED_TO_ZERO, "scaled to zero while idle")
    if observed.hpa is None:
        return Component(
            condition,
            ServiceStatusValue.STARTING,
            Reason.HPA_NOT_FOUND,
            "Waiting for KEDA to create HorizontalPodAutoscaler",
        )
    able = _condition(observed.hpa, "AbleToScale")
    if able.get("status") == "False":
        return Component(
            condition,
            ServiceStatusValue.STARTING,
            Reason.SCALE_TARGET_NOT_READY,
            able.get("message") or "HPA cannot scale",
        )
    active = _condition(observed.hpa, "ScalingActive")
    if active.get("status") == "False":
        message = f"HPA cannot get metrics: {active.get('message') or active.get('reason')}"
        return Component(condition, ServiceStatusValue.DEGRADED, Reason.METRICS_FAILED, message)
    if not active:
        return Component(
            condition, ServiceStatusValue.RUNNING, Reason.WAITING_FOR_METRICS, "HPA is waiting for its first metrics"
        )
    return Component(condition, ServiceStatusValue.RUNNING, Reason.HPA_OPERATIONAL, "HPA is operational")


def runtime_status(
    spec: dict[str, Any], running: int | None, observed: ScalingObservation | None = None
) -> dict[str, Any]:
    """status.runtime. currentReplicas: the predictor pods that run (`running`; the desired count
    when the pods were not read). Autoscaled: desiredReplicas from the HPA (0 when scaled to zero),
    the bounds from the spec; the display "current/desired (min-max)", or just the count when the
    bounds are equal (upstream's format)."""
    if not autoscaling(spec):
        replicas = spec.get("replicas", 1)
        current = replicas if running is None else running
        return {
            "minReplicas": replicas,
            "maxReplicas": replicas,
            "currentReplicas": current,
            "desiredReplicas": replicas,
            "replicas": str(current),
        }
    lower, upper = replica_bounds(spec)
    desired = lower
    if observed is not None and scaled_to_zero(spec, observed):
        desired = 0
    elif observed is not None and observed.hpa is not None:
        desired = int(((observed.hpa.get("status") or {}).get("desiredReplicas")) or 0) or lower
    current = desired if running is None else running
    return {
        "minReplicas": lower,
        "maxReplicas": upper,
        "currentReplicas": current,
        "desiredReplicas": desired,
        "replicas": str(current) if lower == upper else f"{current}/{desired} ({lower}-{upper})",
    }

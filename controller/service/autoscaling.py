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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api import labels
from api.conditions import ConditionType, Reason
from api.naming import keda_hpa_name, predictor_name, rfc1123
from api.v1alpha1.aimservice import MetricsBackend, MetricSource, MetricTarget, ServiceStatusValue
from api.v1alpha2.aimservice import AIMService, AIMServiceSpec
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


def autoscaling(spec: AIMServiceSpec) -> bool:
    """Bounds or metrics set: KEDA scales the predictor (otherwise spec.replicas, fixed)."""
    return any(v is not None for v in (spec.auto_scaling, spec.min_replicas, spec.max_replicas))


def replica_bounds(spec: AIMServiceSpec) -> tuple[int, int]:
    """(min, max) as upstream resolves them: min defaults to 1; max to maxReplicas, else to
    minReplicas but never below 1."""
    lower = 1 if spec.min_replicas is None else spec.min_replicas
    upper = spec.max_replicas if spec.max_replicas is not None else max(lower, 1)
    return lower, upper


def _target_value(target: MetricTarget) -> str:
    for value in (target.value, target.average_value, target.average_utilization):
        if value is not None:
            return str(value)
    return "0"


def _metric_name(metric: MetricSource) -> str:
    """The query, else the first metric name."""
    return str(metric.query or (metric.metric_names or [""])[0])


def _otel_query(metric: MetricSource, namespace: str, predictor: str) -> str:
    query = _metric_name(metric)
    if "{" not in query:  # a bare name: this service's predictor only, summed over its pods
        query = f'sum({query}{{namespace="{namespace}",deployment="{predictor}"}})'
    return query


def metric_triggers(spec: AIMServiceSpec, namespace: str, predictor: str) -> list[dict[str, Any]]:
    """One KEDA trigger per PodMetric (its schema requires the metric and its target)."""
    triggers = []
    for entry in (spec.auto_scaling.metrics if spec.auto_scaling is not None else None) or []:
        if entry.type != "PodMetric" or entry.podmetric is None:
            continue
        metric, target = entry.podmetric.metric, entry.podmetric.target
        if metric.backend == MetricsBackend.METRICS_API:
            given = metric.server_address
            details: dict[str, str] = {
                # `.svc` and the pod's DNS search list: any cluster domain. The port is the model
                # server's: KEDA matches it against the Service's endpoints, which it reads one by one.
                "url": given or f"http://{predictor}.{namespace}.svc:{SERVING_PORT}{METRICS_PATH}",
                "format": "prometheus",
                "valueLocation": _metric_name(metric),
                "targetValue": _target_value(target),
            }
            if not given:  # the sum over the predictor's ready pods, not one pod's value
                details |= {"aggregateFromKubeServiceEndpoints": "true", "aggregationType": "sum"}
            metric_type = "AverageValue" if target.type == "AverageValue" else "Value"
            triggers.append({"type": "metrics-api", "metricType": metric_type, "metadata": details})
            continue
        metadata = {
            "scalerAddress": metric.server_address or DEFAULT_OTEL_SCALER_ADDRESS,
            "metricQuery": _otel_query(metric, namespace, predictor),
            "targetValue": _target_value(target),
        }
        if metric.operation_over_time:
            metadata["operationOverTime"] = metric.operation_over_time
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
    service: AIMService,
    inference_service_name: str,
    config: Mapping[str, Any] | None = None,
    activator_url: str = "",
) -> dict[str, Any] | None:
    """The service's ScaledObject; None when no trigger resolves (KEDA refuses one without). With
    minReplicas 0 and an activator, the activation trigger comes first (so 0 → 1 works even with
    no metric, as upstream's gateway trigger). Its
    labels are every child's (controller.pipeline.objects.child_labels); KEDA copies them to the
    HPA it makes, which is how the HPA's changes find the service. `config`: the runtime config's
    spec (its label propagation)."""
    spec = service.spec
    name = predictor_name(inference_service_name)
    lower, upper = replica_bounds(spec)
    triggers = metric_triggers(spec, service.namespace, name)
    if lower == 0 and activator_url:  # first, as upstream puts its activation trigger
        triggers.insert(0, activation_trigger(activator_url, service.namespace, service.name))
    if not triggers:
        return None
    scaled: dict[str, Any] = {
        "scaleTargetRef": {"name": name},
        "minReplicaCount": lower,
        "maxReplicaCount": upper,
        "triggers": triggers,
    }
    settings = spec.auto_scaling
    if settings is not None and settings.polling_interval is not None:
        scaled["pollingInterval"] = settings.polling_interval
    if settings is not None and settings.cooldown_period is not None:
        scaled["cooldownPeriod"] = settings.cooldown_period
    if lower == 0:  # waking from zero waits for a poll: upstream polls every 5 s then, not KEDA's 30
        scaled.setdefault("pollingInterval", SCALE_FROM_ZERO_POLLING_SECONDS)
    return {
        "apiVersion": labels.SCALED_OBJECT_API,
        "kind": SCALED_OBJECT,
        "metadata": {
            "name": name,
            "namespace": service.namespace,
            "labels": child_labels(
                service,
                {
                    labels.COMPONENT: labels.COMPONENT_AUTOSCALING,
                    labels.MANAGED_BY: labels.MANAGED_BY_VALUE,
                    labels.SERVICE: rfc1123(service.name),
                },
                config,
            ),
            "ownerReferences": [owner_reference(service)],
        },
        "spec": scaled,
    }


@dataclass(frozen=True)
class ScalingObservation:
    """What KEDA and its HPA report for one service (fetched only for autoscaled services): third-party
    objects, as the API server sent them."""

    keda_installed: bool
    scaled_object: dict[str, Any] | None = None
    hpa: dict[str, Any] | None = None


def hpa_name(inference_service_name: str) -> str:
    return keda_hpa_name(predictor_name(inference_service_name))


def _condition(obj: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    return next((c for c in ((obj or {}).get("status") or {}).get("conditions") or [] if c.get("type") == kind), {})


def scaled_to_zero(spec: AIMServiceSpec, observed: ScalingObservation) -> bool:
    """KEDA has idled the predictor: minReplicas 0 and the HPA disabled because its target has no
    replicas. (The ScaledObject turns not Active as soon as the triggers go quiet, while the pods
    still run out the cooldown: that is not zero yet.)"""
    if replica_bounds(spec)[0] != 0 or observed.scaled_object is None:
        return False
    return _condition(observed.hpa, "ScalingActive").get("reason") == "ScalingDisabled"


def scaling_component(spec: AIMServiceSpec, planned: bool, observed: ScalingObservation) -> Component:
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
    spec: AIMServiceSpec, running: int | None, observed: ScalingObservation | None = None
) -> dict[str, Any]:
    """status.runtime. currentReplicas: the predictor pods that run (`running`; the desired count
    when the pods were not read). Autoscaled: desiredReplicas from the HPA (0 when scaled to zero),
    the bounds from the spec; the display "current/desired (min-max)", or just the count when the
    bounds are equal (upstream's format)."""
    if not autoscaling(spec):
        replicas = spec.replicas
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

"""AIMService v1alpha1: an inference endpoint for a model, deployed from a template.

Served and deprecated; v1alpha2 is the storage version. Everything here converts to v1alpha2
without loss (docs/api-versions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, JsonValue

from api.core import Conditions, EnvList, LocalObjectReference, ResourceRequirements
from api.objects import ObjectRoot
from api.schema import CEL, CRDModel, Immutable, ListMap, PreserveUnknownFields, SchemaDefault
from api.v1alpha1.aimkvcache import ServiceKVCache
from api.v1alpha1.common import (
    HardwareRequirements,
    Metric,
    ModelSource,
    Precision,
    ResolvedReference,
    RoutingConfig,
    StorageConfig,
)

# The product documents show inline custom models without baseImage; upstream requires it.
DEFAULT_BASE_IMAGE = "amdenterpriseai/aim-base:latest"

DEPRECATION_WARNING = (
    "aim.eai.amd.com/v1alpha1 AIMService is deprecated; use aim.eai.amd.com/v1alpha2 (spec.profile) "
    "instead. The v1alpha1 model/template fields may be removed in a future release."
)


class ServiceCachingMode(StrEnum):
    """Dedicated or Shared; Always and Auto are legacy spellings of Shared, Never of Dedicated."""

    DEDICATED = "Dedicated"
    SHARED = "Shared"
    AUTO = "Auto"
    ALWAYS = "Always"
    NEVER = "Never"


class ServiceStatusValue(StrEnum):
    PENDING = "Pending"
    STARTING = "Starting"
    RUNNING = "Running"
    DEGRADED = "Degraded"
    FAILED = "Failed"


class AdapterMode(StrEnum):
    """static: the adapters are fixed at creation and mounted only when there are some; dynamic:
    the list may change at any time and the (possibly empty) subtree is always mounted."""

    STATIC = "static"
    DYNAMIC = "dynamic"


def adapters_enabled(spec: Mapping[str, Any]) -> bool:
    """A service serves adapters when it declares some or is in dynamic mode (mounted even at zero)."""
    return bool(spec.get("adapters")) or spec.get("adapterMode") == AdapterMode.DYNAMIC


class AdapterState(StrEnum):
    """Where an adapter of a service is on disk (Loaded/LoadRejected are reserved, as upstream)."""

    PENDING = "Pending"
    DOWNLOADING = "Downloading"
    DOWNLOADED = "Downloaded"
    DELETING = "Deleting"
    FAILED = "Failed"
    LOADED = "Loaded"
    LOAD_REJECTED = "LoadRejected"


class AdapterReference(CRDModel):
    """A LoRA adapter the service serves: an AIMArtifact of type adapter in its namespace."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                CEL("!has(self.sourceUri) || has(self.modelId)", "modelId is required when sourceUri is set").as_rule(),
                CEL(
                    "has(self.sourceUri) || (!has(self.modelId) && !has(self.rank))",
                    "modelId and rank are only allowed together with sourceUri",
                ).as_rule(),
            ]
        }
    )

    name: Annotated[str, Field(min_length=1, max_length=253)]
    """The AIMArtifact (type adapter) in the service's namespace."""
    kind: Annotated[str, Field(pattern="^AIMArtifact$")]
    """AIMArtifact."""
    source_uri: str | None = None
    """Reserved (upstream's inline sources); not acted on."""
    model_id: str | None = None
    """Reserved; not acted on."""
    rank: Annotated[int | None, Field(ge=1)] = None
    """Reserved; not acted on."""


class CustomModel(CRDModel):
    """A model built inline from weights, served by a generic base image."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                CEL("size(self.modelSources) >= 1", "at least one model source must be specified").as_rule()
            ]
        }
    )

    base_image: Annotated[str, SchemaDefault(DEFAULT_BASE_IMAGE), Field(min_length=1)] = DEFAULT_BASE_IMAGE
    """Image of the generic AIM base container."""
    model_sources: Annotated[list[ModelSource], Field(min_length=1, max_length=1)]
    """Where the weights come from (exactly one source)."""
    hardware: HardwareRequirements
    """Hardware per replica (no discovery runs for custom models)."""


class ServiceModel(CRDModel):
    """Which model to serve: exactly one of name, image or custom."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                CEL(
                    "(has(self.name) ? 1 : 0) + (has(self.image) ? 1 : 0) + (has(self.custom) ? 1 : 0) == 1",
                    "exactly one of name, image, or custom must be specified",
                ).as_rule()
            ]
        }
    )

    name: Annotated[str | None, Field(min_length=1)] = None
    """An AIMModel in the service's namespace, else an AIMClusterModel."""
    image: Annotated[str | None, Field(min_length=1)] = None
    """A container image; an AIMModel is found or created for it."""
    custom: CustomModel | None = None
    """An inline custom model; a namespaced AIMModel is created (and shared by identical services)."""


class TemplateSelection(CRDModel):
    name: Annotated[str | None, Field(min_length=1)] = None
    """An AIMServiceTemplate in the namespace, else an AIMClusterServiceTemplate; auto-selected when unset."""
    allow_unoptimized: bool | None = None
    """Let auto-selection pick preview and unoptimized templates (custom models need this)."""


class ProfileReference(CRDModel):
    name: Annotated[str, Field(min_length=1)]
    """An AIMProfile in the namespace, else an AIMClusterProfile."""


class ProfileOverrides(CRDModel):
    engine_args: Annotated[dict[str, Any] | None, PreserveUnknownFields()] = None
    """Engine arguments deep-merged over the profile's."""
    container_env: EnvList | None = None
    """Container environment merged over the profile's."""


class ServiceCaching(CRDModel):
    mode: Annotated[ServiceCachingMode, SchemaDefault("Shared")] = ServiceCachingMode.SHARED
    """Shared (default): reuse an unowned cache per template and namespace. Dedicated: a cache owned
    by this service and deleted with it. Always/Auto (legacy) mean Shared, Never means Dedicated."""
    env: EnvList | None = None
    """Environment for cache downloads (credentials)."""


class MetricsBackend(StrEnum):
    OPENTELEMETRY = "opentelemetry"
    """Upstream's: KEDA's external trigger asks keda-otel-scaler (fed by an OpenTelemetry collector)."""
    METRICS_API = "metrics-api"
    """This project's addition: KEDA's metrics-api scaler reads the metric straight from the
    predictor Service's Prometheus endpoint (`/metrics` of the model server); nothing else to run."""


class MetricSource(CRDModel):
    backend: Annotated[MetricsBackend, SchemaDefault("opentelemetry")] = MetricsBackend.OPENTELEMETRY
    """Metrics backend: opentelemetry (upstream's, through keda-otel-scaler) or metrics-api (the
    predictor's own /metrics, read by KEDA directly)."""
    server_address: str | None = None
    """opentelemetry: the scaler's address (default keda-otel-scaler.keda.svc:4318). metrics-api:
    the URL to read (default the predictor Service's /metrics)."""
    metric_names: list[str] | None = None
    """Metrics to read (the first is used when query is unset)."""
    query: str | None = None
    """opentelemetry: the scaler's query. metrics-api: a metric selector, e.g.
    vllm:num_requests_running{model_name="m"}."""
    operation_over_time: str | None = None
    """Aggregation over time, e.g. avg (opentelemetry)."""


class MetricTarget(CRDModel):
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                CEL("self.type != 'Value' || has(self.value)", "target type Value requires target.value").as_rule(),
                CEL(
                    "self.type != 'AverageValue' || has(self.averageValue)",
                    "target type AverageValue requires target.averageValue",
                ).as_rule(),
                CEL(
                    "self.type != 'Utilization' || has(self.averageUtilization)",
                    "target type Utilization requires target.averageUtilization",
                ).as_rule(),
            ]
        }
    )

    type: Annotated[str, Field(pattern="^(Value|AverageValue|Utilization)$")]
    """Value, AverageValue or Utilization."""
    value: str | None = None
    """Target value."""
    average_value: str | None = None
    """Target average value."""
    average_utilization: int | None = None
    """Target average utilisation in percent."""


class PodMetric(CRDModel):
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                CEL(
                    "has(self.metric.query) || (has(self.metric.metricNames) && size(self.metric.metricNames) > 0)",
                    "podmetric.metric must set query or metricNames so the scaler has something to query",
                ).as_rule(),
            ]
        }
    )

    metric: MetricSource
    """The metric."""
    target: MetricTarget
    """Its target."""


class AutoscalingMetric(CRDModel):
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                CEL(
                    "self.type != 'PodMetric' || has(self.podmetric)",
                    "metrics entry of type PodMetric must set podmetric",
                ).as_rule(),
            ]
        }
    )

    type: Annotated[str, Field(pattern="^PodMetric$")]
    """Metric type (PodMetric)."""
    podmetric: PodMetric | None = None
    """A per-pod metric."""


class Autoscaling(CRDModel):
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                CEL(
                    "has(self.metrics) || has(self.pollingInterval) || has(self.cooldownPeriod)",
                    "spec.autoScaling must not be empty: set at least one of metrics, pollingInterval, or"
                    " cooldownPeriod, or omit the autoScaling block to use default scaling",
                ).as_rule(),
            ]
        }
    )

    metrics: Annotated[list[AutoscalingMetric] | None, Field(max_length=8)] = None
    """Metrics that drive scaling between minReplicas and maxReplicas (one KEDA trigger each)."""
    polling_interval: Annotated[int | None, Field(ge=1)] = None
    """Seconds between KEDA's checks of the triggers (KEDA's default 30; 5 with minReplicas 0)."""
    cooldown_period: Annotated[int | None, Field(ge=0)] = None
    """Seconds after the last active trigger before scaling to zero (KEDA's default 300)."""


class ServiceOverrides(CRDModel):
    metric: Annotated[Metric | None, Immutable("metric is immutable")] = None
    """Optimisation target to require of the template."""
    precision: Annotated[Precision | None, Immutable("precision is immutable")] = None
    """Precision to require of the template."""
    hardware: Annotated[HardwareRequirements | None, Immutable("hardware is immutable")] = None
    """Hardware to require of the template."""


class ServiceRouting(RoutingConfig):
    """HTTPRoute for this service; unset fields come from the runtime config."""


SERVICE_SPEC_RULES: list[JsonValue] = [
    CEL(
        "!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas",
        "spec.minReplicas must not exceed spec.maxReplicas",
    ).as_rule(),
    CEL(
        "!has(self.profileOverrides) || has(self.profile)",
        "spec.profileOverrides requires spec.profile to be set",
    ).as_rule(),
    CEL(
        "!(has(self.profile) && has(self.template))", "spec.profile and spec.template are mutually exclusive"
    ).as_rule(),
    CEL("has(self.model) || has(self.profile)", "one of spec.model or spec.profile must be specified").as_rule(),
    CEL(
        "self.adapterMode == 'dynamic' || (has(self.adapters) == has(oldSelf.adapters)"
        " && (!has(self.adapters) || self.adapters == oldSelf.adapters))",
        "spec.adapters is immutable unless spec.adapterMode is dynamic",
    ).as_rule(),
    # Upstream's guide says Dedicated caching is not supported with adapters but nothing refuses it;
    # here the API server does (a Dedicated cache's model has no adapter disk to stage into).
    CEL(
        "(self.adapterMode != 'dynamic' && (!has(self.adapters) || size(self.adapters) == 0))"
        " || !has(self.caching) || !(self.caching.mode in ['Dedicated', 'Never'])",
        "LoRA adapters (spec.adapters, spec.adapterMode: dynamic) need Shared caching, not spec.caching.mode Dedicated",
    ).as_rule(),
]


class AIMServiceSpec(CRDModel):
    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": SERVICE_SPEC_RULES})

    model: Annotated[ServiceModel | None, Immutable("model selection is immutable after creation")] = None
    """The model to serve."""
    template: Annotated[TemplateSelection | None, Immutable("template selection is immutable after creation")] = None
    """Template selection; auto-selected by GPU availability and optimisation level when unset."""
    profile: ProfileReference | None = None
    """Deploy from a profile instead of a model and template (see v1alpha2)."""
    profile_overrides: ProfileOverrides | None = None
    """Adjustments to the profile (requires profile)."""
    caching: Annotated[ServiceCaching | None, Immutable("caching mode is immutable after creation")] = None
    """Model cache ownership."""
    cache_model: bool | None = None
    """Deprecated and ignored: use caching.mode."""
    replicas: Annotated[int, SchemaDefault(1), Field(ge=0)] = 1
    """Fixed number of replicas (when no autoscaling bounds are set)."""
    min_replicas: Annotated[int | None, Field(ge=0)] = None
    """Lower autoscaling bound (0: KEDA scales the predictor to zero when idle)."""
    max_replicas: Annotated[int | None, Field(ge=1)] = None
    """Upper autoscaling bound."""
    auto_scaling: Autoscaling | None = None
    """Custom autoscaling metrics."""
    runtime_config_name: str | None = None
    """AIMRuntimeConfig / AIMClusterRuntimeConfig to use; `default` when unset."""
    storage: StorageConfig | None = None
    """Cache volume settings for this service."""
    routing: ServiceRouting | None = None
    """HTTPRoute settings for this service."""
    env: EnvList | None = None
    """Environment for the inference container (highest precedence)."""
    kv_cache: ServiceKVCache | None = None
    """A KV cache (AIMKVCache) the engine offloads to through LMCache; created when it does not exist."""
    # Unique (kind, name) pairs by list-map keys: the API server checks them at no CEL cost (the
    # CEL rule upstream spells it with is over the CRD budget with this schema).
    adapters: Annotated[list[AdapterReference] | None, Field(max_length=64), ListMap(("kind", "name"))] = None
    """LoRA adapters to serve, staged into this service's subtree of the model's adapter disk
    and mounted read-only at /adapters (docs/lora-adapters.md). Entries are unique by (kind, name)."""
    adapter_mode: Annotated[
        AdapterMode, SchemaDefault("static"), Immutable("spec.adapterMode is immutable after creation")
    ] = AdapterMode.STATIC
    """static (default): spec.adapters is fixed at creation. dynamic: it may change; the subtree is
    mounted even with no adapters, so edits never restart the pods."""
    resources: ResourceRequirements | None = None
    """Resources per replica (over template and model defaults)."""
    overrides: ServiceOverrides | None = None
    """Runtime parameter overrides; a namespace template is created when they differ from the base."""
    image_pull_secrets: list[LocalObjectReference] | None = None
    """Pull secrets for the inference pods."""
    service_account_name: str | None = None
    """Service account for the inference pods."""
    priority_class_name: str | None = None
    """Priority class for the inference pods."""


class ServiceRuntimeStatus(CRDModel):
    current_replicas: int = 0
    """Replicas running now."""
    desired_replicas: int = 0
    """Replicas wanted now."""
    min_replicas: int = 0
    """Lower bound (fixed replicas: the count)."""
    max_replicas: int = 0
    """Upper bound (fixed replicas: the count)."""
    replicas: str | None = None
    """Display: "N" for fixed replicas, "current/desired (min-max)" with autoscaling."""


class ServiceCacheStatus(CRDModel):
    template_cache_ref: ResolvedReference | None = None
    """The AIMTemplateCache serving this service."""
    retry_attempts: int | None = None
    """Cache retries so far."""


class ServiceAdapterStatus(CRDModel):
    name: str
    """The adapter artifact."""
    adapter_path: str | None = None
    """Its directory under /adapters."""
    model_id: str | None = None
    """The adapter's model id."""
    state: AdapterState | None = None
    """Pending, Downloading, Downloaded, Deleting or Failed."""
    last_error: str | None = None
    """Why it is not staged (AdapterArtifactNotFound, the staging Job's failure)."""


class ServiceRoutingStatus(CRDModel):
    path: str | None = None
    """The rendered route path."""


class AIMServiceStatus(CRDModel):
    observed_generation: Annotated[int | None, Field(ge=0)] = None
    """The metadata.generation the controller last acted on."""
    conditions: Conditions | None = None
    """Ready, RuntimeConfigReady, ModelReady, TemplateReady or ProfileReady, CacheReady,
    InferenceServiceReady, HTTPRouteReady, ... (docs/conditions.md)."""
    status: Annotated[ServiceStatusValue, SchemaDefault("Pending")] = ServiceStatusValue.PENDING
    """Pending, Starting, Running, Degraded or Failed."""
    resolved_runtime_config: ResolvedReference | None = None
    """The runtime config used (Merged when namespace and cluster configs both applied)."""
    resolved_model: ResolvedReference | None = None
    """The model served."""
    resolved_template: ResolvedReference | None = None
    """The template deployed."""
    resolved_profile: ResolvedReference | None = None
    """The profile deployed (profile-based services)."""
    resolved_kv_cache: Annotated[ResolvedReference | None, Field(alias="resolvedKVCache")] = None
    """The AIMKVCache the service uses (spec.kvCache)."""
    routing: ServiceRoutingStatus | None = None
    """Routing state."""
    cache: ServiceCacheStatus | None = None
    """Cache state."""
    runtime: ServiceRuntimeStatus | None = None
    """Replica counts."""
    adapters: Annotated[list[ServiceAdapterStatus] | None, ListMap()] = None
    """Each declared adapter's state on disk (and removed ones while they are pruned)."""
    adapter_subtree_sync_key: str | None = None
    """The adapter set last synced into the service's subtree (a hash of the names)."""
    adapter_disk_persistent_volume_claim: str | None = None
    """The adapter disk the service's subtree is on (kept when the parent stops naming it)."""


class AIMService(ObjectRoot):
    """An inference endpoint: a KServe InferenceService for a model, with an optional Gateway API
    HTTPRoute and model cache. KServe names it {name}-{namespace}, which must fit 63 characters; the
    admission webhook checks this because CEL cannot see the namespace."""

    spec: AIMServiceSpec
    """Desired state."""
    status: AIMServiceStatus | None = None
    """Observed state."""

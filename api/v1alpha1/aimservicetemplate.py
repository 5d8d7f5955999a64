"""AIMServiceTemplate (namespaced) and AIMClusterServiceTemplate (cluster): a runtime profile for a
model (metric, precision, hardware) and the cache of what discovery found for it."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field

from api.core import Conditions, EnvList, LocalObjectReference, ResourceRequirements
from api.objects import ObjectRoot
from api.schema import CEL, CRDModel, Immutable, PreserveUnknownFields, SchemaDefault
from api.v1alpha1.aimmodel import CustomProfile
from api.v1alpha1.common import (
    HardwareRequirements,
    LifecycleStatus,
    Metric,
    ModelSource,
    Precision,
    ProfileType,
    ResolvedReference,
)

TEMPLATE_CUSTOM_PROFILE_RULE = CEL(
    "!has(self.customProfile) || (has(self.aimId) && has(self.modelId) && has(self.hardware) && "
    "has(self.metric) && has(self.precision))",
    "when customProfile is set, aimId, modelId, hardware, metric, and precision are required",
)


class TemplateCaching(CRDModel):
    enabled: Annotated[bool, SchemaDefault(False)] = False
    """Pre-warm this template's model sources with an AIMTemplateCache."""
    env: EnvList | None = None
    """Environment for the downloads (credentials)."""


class AIMServiceTemplateSpecCommon(CRDModel):
    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": [TEMPLATE_CUSTOM_PROFILE_RULE.as_rule()]})

    model_name: Annotated[str, Field(min_length=1), Immutable("model name is immutable")]
    """The AIMModel (namespace first) or AIMClusterModel this template configures."""
    metric: Annotated[Metric | None, Immutable("metric is immutable")] = None
    """Optimisation target."""
    precision: Annotated[Precision | None, Immutable("precision is immutable")] = None
    """Numeric precision."""
    hardware: Annotated[HardwareRequirements | None, Immutable("hardware is immutable")] = None
    """Hardware per replica."""
    runtime_config_name: str | None = None
    """Runtime config to use; `default` when unset."""
    image_pull_secrets: list[LocalObjectReference] | None = None
    """Pull secrets for discovery and inference."""
    service_account_name: str | None = None
    """Service account for discovery and inference."""
    resources: ResourceRequirements | None = None
    """Template-level resources (service values win)."""
    model_sources: list[ModelSource] | None = None
    """Model artifacts; when set, discovery is skipped."""
    profile_id: str | None = None
    """Runtime profile (AIM_PROFILE_ID)."""
    type: ProfileType | None = None
    """Optimisation level, overriding what discovery reports."""
    env: EnvList | None = None
    """Environment for the inference container."""
    aim_id: str | None = None
    """AIM product family; required with customProfile."""
    model_id: str | None = None
    """Model identifier; required with customProfile."""
    custom_profile: CustomProfile | None = None
    """Engine tuning selected as custom/{aimId}/{name}."""


class AIMServiceTemplateSpec(AIMServiceTemplateSpecCommon):
    caching: TemplateCaching | None = None
    """Pre-warm the model cache for this template (namespaced templates only)."""


class ProfileMetadata(CRDModel):
    engine: str | None = None
    """Inference engine."""
    gpu: str | None = None
    """GPU model."""
    gpu_count: int | None = None
    """GPUs per replica."""
    metric: str | None = None
    """Optimisation target."""
    precision: str | None = None
    """Precision."""
    type: str | None = None
    """Optimisation level."""


class DiscoveredProfile(CRDModel):
    """What discovery found; keys keep the runtime's snake_case spelling."""

    engine_args: Annotated[dict[str, Any] | None, PreserveUnknownFields(), Field(alias="engine_args")] = None
    """Engine arguments."""
    env_vars: Annotated[dict[str, str] | None, Field(alias="env_vars")] = None
    """Engine environment."""
    metadata: ProfileMetadata | None = None
    """Summary."""
    original_discovery_output: Annotated[dict[str, Any] | None, PreserveUnknownFields()] = None
    """Discovery output as the runtime printed it."""


class DiscoveryState(CRDModel):
    attempts: int | None = None
    """Discovery attempts so far."""
    last_attempt_time: str | None = None
    """When discovery last ran."""
    last_failure_reason: str | None = None
    """Why it last failed."""
    spec_hash: str | None = None
    """Hash of the spec discovery ran for."""


class AIMServiceTemplateStatus(CRDModel):
    observed_generation: Annotated[int | None, Field(ge=0)] = None
    """The metadata.generation the controller last acted on."""
    conditions: Conditions | None = None
    """RuntimeConfigReady, ModelReady, DiscoveryJobReady, GPUReady, Discovered, Ready."""
    status: Annotated[LifecycleStatus, SchemaDefault("Pending")] = LifecycleStatus.PENDING
    """Pending, Progressing, Ready, Degraded, Failed or NotAvailable."""
    resolved_runtime_config: ResolvedReference | None = None
    """The runtime config used."""
    resolved_model: ResolvedReference | None = None
    """The model configured."""
    resolved_cache: ResolvedReference | None = None
    """The template cache, when caching is enabled."""
    resolved_hardware: HardwareRequirements | None = None
    """Hardware after discovery (discovery wins over spec)."""
    resolved_node_affinity: Annotated[dict[str, Any] | None, PreserveUnknownFields()] = None
    """Node affinity for the GPU model (amd.com/gpu.device-id In [...])."""
    hardware_summary: str | None = None
    """"N x MODEL", MODEL, or CPU."""
    model_sources: list[ModelSource] | None = None
    """Artifacts to download, from discovery or the spec."""
    profile: DiscoveredProfile | None = None
    """The discovered runtime profile."""
    discovery_job: ResolvedReference | None = None
    """The discovery Job."""
    discovery: DiscoveryState | None = None
    """Discovery bookkeeping."""
    version: str | None = None
    """The model's image tag (the version of the AIM image this template runs)."""


class AIMServiceTemplate(ObjectRoot):
    """A runtime profile for a model in one namespace; can pre-warm its model cache."""

    spec: AIMServiceTemplateSpec
    """Desired state."""
    status: AIMServiceTemplateStatus | None = None
    """Observed state."""


class AIMClusterServiceTemplate(ObjectRoot):
    """A runtime profile for a model, shared by every namespace (no caching of its own)."""

    spec: AIMServiceTemplateSpecCommon
    """Desired state."""
    status: AIMServiceTemplateStatus | None = None
    """Observed state."""


AnyServiceTemplate = AIMServiceTemplate | AIMClusterServiceTemplate
"""Either scope of template, as the controller reads it."""

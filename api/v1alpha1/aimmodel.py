"""AIMModel (namespaced) and AIMClusterModel (cluster): the model catalog, mapping a model to the
container image that serves it, or to weights served by a base image (custom and fine-tuned)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, JsonValue

from api.core import Conditions, EnvList, LocalObjectReference, ResourceRequirements
from api.objects import ObjectRoot
from api.schema import CEL, CRDModel, PreserveUnknownFields, SchemaDefault
from api.v1alpha1.common import (
    HardwareRequirements,
    LifecycleStatus,
    Metric,
    ModelSource,
    Precision,
    ProfileType,
    ResolvedReference,
)


class VersionPolicy(StrEnum):
    """Which official templates a fine-tuned model copies: the image's version, the newest, or all."""

    PINNED = "pinned"
    LATEST = "latest"
    ANY = "any"


class SourceType(StrEnum):
    IMAGE = "Image"
    CUSTOM = "Custom"


class Discovery(CRDModel):
    extract_metadata: Annotated[bool, SchemaDefault(True)] = True
    """Read the image's labels from its registry (manifest and config only, never layers)."""
    create_service_templates: Annotated[bool, SchemaDefault(True)] = True
    """Create templates from the recommended deployments the image declares."""


class TemplateProfile(CRDModel):
    metric: Metric | None = None
    """Optimisation target."""
    precision: Precision | None = None
    """Numeric precision."""


class CustomProfile(CRDModel):
    """Engine tuning carried by a custom template (selected as custom/{aimId}/{name})."""

    engine_args: Annotated[dict[str, Any] | None, PreserveUnknownFields()] = None
    """Engine arguments, e.g. {dtype: float16}."""
    env_vars: dict[str, str] | None = None
    """Engine environment; keys are upper-case (A-Z, 0-9, _)."""


CUSTOM_PROFILE_RULE = CEL(
    "!has(self.customProfile) || (has(self.aimId) && has(self.modelId) && has(self.hardware) && "
    "has(self.profile) && has(self.profile.metric) && has(self.profile.precision))",
    "when customProfile is set, aimId, modelId, hardware, profile.metric, and profile.precision are required",
)


class CustomTemplate(CRDModel):
    """One template generated for a custom model; unset fields inherit from spec.custom."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": [CUSTOM_PROFILE_RULE.as_rule()]})

    name: Annotated[str | None, Field(max_length=63)] = None
    """Template name suffix; generated as {model}-custom-[{name}][-{precision}][-{gpu}]-{hash}."""
    type: ProfileType | None = None
    """Optimisation level; inherits spec.custom.type (default unoptimized)."""
    env: Annotated[EnvList | None, Field(max_length=64)] = None
    """Environment for the inference container."""
    hardware: HardwareRequirements | None = None
    """Hardware, overriding spec.custom.hardware field by field."""
    profile: TemplateProfile | None = None
    """Metric and precision of this template."""
    aim_id: str | None = None
    """AIM product family (e.g. meta-llama/Llama-3-8B); required with customProfile."""
    model_id: str | None = None
    """Model identifier; required with customProfile."""
    custom_profile: CustomProfile | None = None
    """Engine tuning for this template."""


class CustomModelSpec(CRDModel):
    """How templates are generated for a custom or fine-tuned model."""

    hardware: HardwareRequirements | None = None
    """Hardware inherited by every generated template."""
    type: ProfileType | None = None
    """Optimisation level of generated templates (unoptimized when unset)."""
    version_policy: VersionPolicy | None = None
    """Fine-tuned models: pinned (the image's version; default), latest, or any."""
    templates: Annotated[list[CustomTemplate] | None, Field(max_length=16)] = None
    """Same as spec.customTemplates (the product documents show both spellings)."""


class RecommendedDeployment(CRDModel):
    gpu_model: str | None = None
    """GPU model, e.g. MI300X."""
    gpu_count: int | None = None
    """GPUs per replica."""
    precision: str | None = None
    """Precision."""
    metric: str | None = None
    """Optimisation target."""
    profile_id: str | None = None
    """Runtime profile identifier."""
    description: str | None = None
    """Free text."""


class ModelInfo(CRDModel):
    canonical_name: str | None = None
    """Canonical model name, e.g. Qwen/Qwen3-32B."""
    source: str | None = None
    """Where the weights come from."""
    tags: list[str] | None = None
    """Tags."""
    versions: list[str] | None = None
    """Versions."""
    variants: list[str] | None = None
    """Variants."""
    hf_token_required: bool | None = None
    """Whether downloading needs a Hugging Face token."""
    title: str | None = None
    """Title."""
    description_full: str | None = None
    """Description."""
    release_notes: str | None = None
    """Release notes."""
    recommended_deployments: list[RecommendedDeployment] | None = None
    """Deployments the image recommends; templates are created from them."""


class OciInfo(CRDModel):
    title: str | None = None
    """org.opencontainers.image.title."""
    description: str | None = None
    """org.opencontainers.image.description."""
    licenses: str | None = None
    """org.opencontainers.image.licenses."""
    vendor: str | None = None
    """org.opencontainers.image.vendor."""
    authors: str | None = None
    """org.opencontainers.image.authors."""
    source: str | None = None
    """org.opencontainers.image.source."""
    documentation: str | None = None
    """org.opencontainers.image.documentation."""
    created: str | None = None
    """org.opencontainers.image.created."""
    revision: str | None = None
    """org.opencontainers.image.revision."""
    version: str | None = None
    """org.opencontainers.image.version."""


class ImageMetadata(CRDModel):
    model: ModelInfo | None = None
    """AIM labels (com.amd.aim.*)."""
    oci: OciInfo | None = None
    """OCI labels."""
    original_labels: dict[str, str] | None = None
    """Every label as found."""
    base_image_ref: str | None = None
    """Base image the model image was built from (AIM_BASE_IMAGE_REF)."""


MODEL_SPEC_RULES: list[JsonValue] = [
    CEL(
        "(has(self.image) && size(self.image) > 0) || (has(self.aimId) && has(self.custom) && "
        "has(self.custom.versionPolicy) && self.custom.versionPolicy != 'pinned')",
        "spec.image is required unless spec.aimId is set with spec.custom.versionPolicy latest or any",
    ).as_rule(),
    CEL(
        "!has(self.modelSources) || size(self.modelSources) == 0 || has(self.aimId) || "
        "(has(self.custom) && has(self.custom.hardware)) || "
        "(has(self.customTemplates) && size(self.customTemplates) > 0 && "
        "self.customTemplates.all(t, has(t.hardware))) || "
        "(has(self.custom) && has(self.custom.templates) && size(self.custom.templates) > 0 && "
        "self.custom.templates.all(t, has(t.hardware)))",
        "when using modelSources, hardware must be specified: set custom.hardware (inherited by all "
        "templates) or set hardware on each template individually",
    ).as_rule(),
    CEL(
        "!(has(self.customTemplates) && size(self.customTemplates) > 0 && has(self.custom) && "
        "has(self.custom.templates) && size(self.custom.templates) > 0)",
        "spec.customTemplates and spec.custom.templates are two spellings of one list; set one of them",
    ).as_rule(),
]


class AIMModelSpec(CRDModel):
    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": MODEL_SPEC_RULES})

    image: str | None = None
    """Container image serving this model; inspected during discovery."""
    aim_id: str | None = None
    """AIM product family (e.g. qwen/qwen3-32b); with modelSources, a fine-tuned model."""
    discovery: Discovery | None = None
    """Metadata extraction and template creation."""
    default_service_template: str | None = None
    """Template used when a service names none."""
    custom: CustomModelSpec | None = None
    """Template generation for custom and fine-tuned models."""
    custom_templates: Annotated[list[CustomTemplate] | None, Field(max_length=16)] = None
    """Templates to generate for a custom model (one per entry)."""
    model_sources: Annotated[list[ModelSource] | None, Field(max_length=1)] = None
    """Weights for a custom or fine-tuned model (sourceType Custom)."""
    runtime_config_name: str | None = None
    """Runtime config to use; `default` when unset."""
    image_pull_secrets: list[LocalObjectReference] | None = None
    """Secrets for pulling the image (model namespace; operator namespace for cluster models)."""
    env: EnvList | None = None
    """Environment propagated to generated templates."""
    service_account_name: str | None = None
    """Service account for discovery and inference."""
    resources: ResourceRequirements | None = None
    """Baseline resources; templates and services override them."""
    image_metadata: ImageMetadata | None = None
    """Metadata given by hand; registry inspection is skipped."""


class AIMModelStatus(CRDModel):
    observed_generation: Annotated[int | None, Field(ge=0)] = None
    """The metadata.generation the controller last acted on."""
    status: Annotated[LifecycleStatus, SchemaDefault("Pending")] = LifecycleStatus.PENDING
    """Pending, Progressing, Ready, Degraded, Failed or NotAvailable."""
    conditions: Conditions | None = None
    """RuntimeConfigReady, ImageMetadataReady, ServiceTemplatesReady, Ready."""
    resolved_runtime_config: ResolvedReference | None = None
    """The runtime config used."""
    image_metadata: ImageMetadata | None = None
    """Metadata extracted from the image."""
    source_type: SourceType | None = None
    """Image, or Custom when spec.modelSources is set."""


class AIMModel(ObjectRoot):
    """A model available to services in this namespace (overrides an AIMClusterModel of the same name)."""

    spec: AIMModelSpec
    """Desired state."""
    status: AIMModelStatus | None = None
    """Observed state."""


class AIMClusterModel(ObjectRoot):
    """A model available to services in every namespace."""

    spec: AIMModelSpec
    """Desired state."""
    status: AIMModelStatus | None = None
    """Observed state."""

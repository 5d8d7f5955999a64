"""AIMModel / AIMClusterModel v1alpha2 (hub, storage).

Differences from v1alpha1: custom templates are one list (`customTemplates`; v1alpha1 also
accepts `custom.templates`), precision has no `auto`, the `general` type exists, GPU models are a
list, model sources carry a precision.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from api.core import EnvList, LocalObjectReference, ResourceRequirements
from api.objects import ObjectRoot
from api.schema import CEL, CRDModel
from api.v1alpha1.aimmodel import AIMModelStatus, CustomProfile, Discovery, ImageMetadata, VersionPolicy
from api.v1alpha1.common import Metric
from api.v1alpha2.common import HardwareRequirements, ModelSource, Precision, ProfileType


class TemplateProfile(CRDModel):
    metric: Metric | None = None
    """Optimisation target."""
    precision: Precision | None = None
    """Numeric precision."""


class CustomTemplate(CRDModel):
    """One template generated for a custom model; unset fields inherit from spec.custom."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                CEL(
                    "!has(self.customProfile) || (has(self.aimId) && has(self.modelId) && has(self.hardware) && "
                    "has(self.profile) && has(self.profile.metric) && has(self.profile.precision))",
                    "when customProfile is set, aimId, modelId, hardware, profile.metric, and profile.precision "
                    "are required",
                ).as_rule()
            ]
        }
    )

    name: Annotated[str | None, Field(max_length=63)] = None
    """Template name suffix."""
    type: ProfileType | None = None
    """Optimisation level; inherits spec.custom.type (default unoptimized)."""
    env: Annotated[EnvList | None, Field(max_length=64)] = None
    """Environment for the inference container."""
    hardware: HardwareRequirements | None = None
    """Hardware, overriding spec.custom.hardware field by field."""
    profile: TemplateProfile | None = None
    """Metric and precision of this template."""
    aim_id: str | None = None
    """AIM product family; required with customProfile."""
    model_id: str | None = None
    """Model identifier; required with customProfile."""
    custom_profile: CustomProfile | None = None
    """Engine tuning for this template."""


class CustomModelSpec(CRDModel):
    hardware: HardwareRequirements | None = None
    """Hardware inherited by every generated template."""
    type: ProfileType | None = None
    """Optimisation level of generated templates (unoptimized when unset)."""
    version_policy: VersionPolicy | None = None
    """Fine-tuned models: pinned (default), latest, or any."""


class AIMModelSpec(CRDModel):
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                CEL(
                    "(has(self.image) && size(self.image) > 0) || (has(self.aimId) && has(self.custom) && "
                    "has(self.custom.versionPolicy) && self.custom.versionPolicy != 'pinned')",
                    "spec.image is required unless spec.aimId is set with spec.custom.versionPolicy latest or any",
                ).as_rule(),
                CEL(
                    "!has(self.modelSources) || size(self.modelSources) == 0 || has(self.aimId) || "
                    "(has(self.custom) && has(self.custom.hardware)) || (has(self.customTemplates) && "
                    "size(self.customTemplates) > 0 && self.customTemplates.all(t, has(t.hardware)))",
                    "when using modelSources, hardware must be specified: set custom.hardware (inherited by all "
                    "templates) or set hardware on each template individually",
                ).as_rule(),
            ]
        }
    )

    image: str | None = None
    """Container image serving this model."""
    aim_id: str | None = None
    """AIM product family; with modelSources, a fine-tuned model."""
    discovery: Discovery | None = None
    """Metadata extraction and template creation."""
    default_service_template: str | None = None
    """Template used when a service names none."""
    custom: CustomModelSpec | None = None
    """Template generation for custom and fine-tuned models."""
    custom_templates: Annotated[list[CustomTemplate] | None, Field(max_length=16)] = None
    """Templates to generate for a custom model."""
    model_sources: Annotated[list[ModelSource] | None, Field(max_length=1)] = None
    """Weights for a custom or fine-tuned model."""
    runtime_config_name: str | None = None
    """Runtime config to use; `default` when unset."""
    image_pull_secrets: list[LocalObjectReference] | None = None
    """Secrets for pulling the image."""
    env: EnvList | None = None
    """Environment propagated to generated templates."""
    service_account_name: str | None = None
    """Service account for discovery and inference."""
    resources: ResourceRequirements | None = None
    """Baseline resources."""
    image_metadata: ImageMetadata | None = None
    """Metadata given by hand; registry inspection is skipped."""


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


AnyModel = AIMModel | AIMClusterModel
"""Either scope of model, as the controller reads it."""

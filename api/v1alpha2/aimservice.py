"""AIMService v1alpha2 (hub, storage): deploy from a profile, or from a model and template.

Differences from v1alpha1 (docs/api-versions.md): caching is Shared or Dedicated only; the
deprecated cacheModel is gone; precision has no `auto`; GPU models are a list (`models`); model
sources carry a precision; minReplicas may not exceed maxReplicas.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from api.core import EnvList, LocalObjectReference, ResourceRequirements
from api.objects import ObjectRoot
from api.schema import CEL, CRDModel, Immutable, ListMap, SchemaDefault
from api.v1alpha1.aimkvcache import ServiceKVCache
from api.v1alpha1.aimservice import (
    DEFAULT_BASE_IMAGE,
    SERVICE_SPEC_RULES,
    AdapterMode,
    AdapterReference,
    AIMServiceStatus,
    Autoscaling,
    ProfileOverrides,
    ProfileReference,
    TemplateSelection,
)
from api.v1alpha1.common import StorageConfig
from api.v1alpha2.common import CacheMode, HardwareRequirements, ModelSource, RuntimeParameters, ServiceRouting


class CustomModel(CRDModel):
    """A model built inline from weights, served by a generic base image."""

    base_image: Annotated[str, SchemaDefault(DEFAULT_BASE_IMAGE), Field(min_length=1)] = DEFAULT_BASE_IMAGE
    """Image of the generic AIM base container."""
    model_sources: Annotated[list[ModelSource], Field(min_length=1, max_length=1)]
    """Where the weights come from (exactly one source)."""
    hardware: HardwareRequirements
    """Hardware per replica."""


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
    """An inline custom model."""


class ServiceCaching(CRDModel):
    mode: Annotated[CacheMode, SchemaDefault("Shared")] = CacheMode.SHARED
    """Shared (default): reuse an unowned cache per template and namespace. Dedicated: a cache owned
    by this service and deleted with it."""
    env: EnvList | None = None
    """Environment for cache downloads (credentials)."""


class AIMServiceSpec(CRDModel):
    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": SERVICE_SPEC_RULES})

    model: Annotated[ServiceModel | None, Immutable("model selection is immutable after creation")] = None
    """The model to serve (with a template), or the model a profile serves."""
    profile: ProfileReference | None = None
    """Deploy from this AIMProfile (namespace first) or AIMClusterProfile."""
    profile_overrides: ProfileOverrides | None = None
    """Adjustments to the profile (requires profile)."""
    template: Annotated[TemplateSelection | None, Immutable("template selection is immutable after creation")] = None
    """Template selection for model-based services; auto-selected when unset."""
    overrides: RuntimeParameters | None = None
    """Runtime parameter overrides for model-based services."""
    caching: Annotated[ServiceCaching | None, Immutable("caching mode is immutable after creation")] = None
    """Model cache ownership."""
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
    """Resources per replica."""
    image_pull_secrets: list[LocalObjectReference] | None = None
    """Pull secrets for the inference pods."""
    service_account_name: str | None = None
    """Service account for the inference pods."""
    priority_class_name: str | None = None
    """Priority class for the inference pods."""


class AIMService(ObjectRoot):
    """An inference endpoint: a KServe InferenceService, with an optional HTTPRoute and model cache.
    KServe names it {name}-{namespace}, which must fit 63 characters (checked at admission)."""

    spec: AIMServiceSpec
    """Desired state."""
    status: AIMServiceStatus | None = None
    """Observed state."""

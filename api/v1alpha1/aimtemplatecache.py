"""AIMTemplateCache: pre-warms every model source of a template as AIMArtifacts."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from api.core import Conditions, EnvList, LocalObjectReference
from api.objects import ObjectRoot
from api.schema import CRDModel, SchemaDefault
from api.v1alpha1.common import CacheMode, LifecycleStatus, ModelSource, ResolvedReference


class TemplateScope(StrEnum):
    NAMESPACE = "Namespace"
    CLUSTER = "Cluster"
    UNKNOWN = "Unknown"


class ResolvedArtifact(CRDModel):
    uid: str
    """UID of the AIMArtifact."""
    name: str
    """Name of the AIMArtifact."""
    model: str
    """Model id it holds."""
    status: str
    """Its status."""
    persistent_volume_claim: str | None = None
    """Its volume."""
    mount_point: str | None = None
    """Where consumers mount it."""


class AIMTemplateCacheSpec(CRDModel):
    template_name: Annotated[str, Field(min_length=1)]
    """The template whose model sources to cache."""
    template_scope: TemplateScope
    """Namespace or Cluster template."""
    env: EnvList | None = None
    """Download environment (credentials)."""
    image_pull_secrets: list[LocalObjectReference] | None = None
    """Pull secrets for the download image."""
    storage_class_name: str | None = None
    """Storage class for the volumes."""
    download_image: str | None = None
    """Image of the download Jobs."""
    model_sources: list[ModelSource] | None = None
    """Sources to cache (the template's discovered sources when unset)."""
    runtime_config_name: str | None = None
    """Runtime config to use; `default` when unset."""
    mode: Annotated[CacheMode, SchemaDefault("Shared")] = CacheMode.SHARED
    """Shared: artifacts unowned and kept. Dedicated: artifacts owned by this cache."""


class AIMTemplateCacheStatus(CRDModel):
    observed_generation: Annotated[int | None, Field(ge=0)] = None
    """The metadata.generation the controller last acted on."""
    conditions: Conditions | None = None
    """ServiceTemplateReady, ArtifactsReady, Ready."""
    resolved_runtime_config: ResolvedReference | None = None
    """The runtime config used."""
    status: Annotated[LifecycleStatus, SchemaDefault("Pending")] = LifecycleStatus.PENDING
    """Pending, Progressing, Ready, Degraded, Failed or NotAvailable."""
    resolved_template_kind: str | None = None
    """AIMServiceTemplate or AIMClusterServiceTemplate."""
    artifacts: dict[str, ResolvedArtifact] | None = None
    """Artifacts by name."""


class AIMTemplateCache(ObjectRoot):
    """Caches a template's model artifacts in this namespace."""

    spec: AIMTemplateCacheSpec
    """Desired state."""
    status: AIMTemplateCacheStatus | None = None
    """Observed state."""

"""AIMProfileCache: pre-warms a profile's model sources as AIMArtifacts."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from api.core import Conditions, EnvList
from api.objects import ObjectRoot
from api.schema import CRDModel, SchemaDefault
from api.v1alpha1.aimtemplatecache import ResolvedArtifact
from api.v1alpha1.common import LifecycleStatus
from api.v1alpha2.common import CacheMode


class ProfileScope(StrEnum):
    NAMESPACE = "Namespace"
    CLUSTER = "Cluster"


class AIMProfileCacheSpec(CRDModel):
    profile_name: Annotated[str, Field(min_length=1)]
    """The AIMProfile or AIMClusterProfile to cache."""
    profile_scope: ProfileScope
    """Namespace or Cluster profile."""
    storage_class_name: str | None = None
    """Storage class for the volumes."""
    env: EnvList | None = None
    """Download environment (credentials)."""
    mode: Annotated[CacheMode, SchemaDefault("Shared")] = CacheMode.SHARED
    """Dedicated: artifacts owned by this cache. Shared: artifacts unowned and kept."""


class AIMProfileCacheStatus(CRDModel):
    observed_generation: Annotated[int | None, Field(ge=0)] = None
    """The metadata.generation the controller last acted on."""
    conditions: Conditions | None = None
    """ProfileFound, ArtifactsReady, Ready."""
    status: Annotated[LifecycleStatus, SchemaDefault("Pending")] = LifecycleStatus.PENDING
    """Pending, Progressing, Ready, Degraded, Failed or NotAvailable."""
    artifacts: dict[str, ResolvedArtifact] | None = None
    """Artifacts by name."""


class AIMProfileCache(ObjectRoot):
    """Caches a profile's model artifacts in this namespace."""

    spec: AIMProfileCacheSpec
    """Desired state."""
    status: AIMProfileCacheStatus | None = None
    """Observed state."""

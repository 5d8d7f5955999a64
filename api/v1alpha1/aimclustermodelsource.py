"""AIMClusterModelSource: periodic registry sync that creates AIMClusterModels for matching images."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from api.core import Conditions, LocalObjectReference
from api.objects import ObjectRoot
from api.schema import CRDModel, SchemaDefault


class ModelSourceStatusValue(StrEnum):
    PENDING = "Pending"
    STARTING = "Starting"
    PROGRESSING = "Progressing"
    READY = "Ready"
    RUNNING = "Running"
    DEGRADED = "Degraded"
    NOT_AVAILABLE = "NotAvailable"
    FAILED = "Failed"


class ImageFilter(CRDModel):
    image: Annotated[str, Field(min_length=1, max_length=512)]
    """Repository path with optional * wildcards and :tag, optionally with a registry prefix,
    e.g. amdenterpriseai/aim-* or ghcr.io/org/model:1.2.*."""
    exclude: list[str] | None = None
    """Repositories to skip (exact names)."""
    versions: list[str] | None = None
    """Semver constraints for this filter (override spec.versions), e.g. ">=0.8.0 <1.0.0"."""


class AIMClusterModelSourceSpec(CRDModel):
    registry: Annotated[str, SchemaDefault("docker.io")] = "docker.io"
    """Registry to list."""
    image_pull_secrets: list[LocalObjectReference] | None = None
    """Registry credentials (Secrets in the operator namespace)."""
    filters: Annotated[list[ImageFilter], Field(min_length=1, max_length=100)]
    """Which images become models."""
    sync_interval: Annotated[str, SchemaDefault("1h"), Field(pattern=r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")] = (
        "1h"
    )
    """How often to sync, as a duration such as 30m."""
    versions: list[str] | None = None
    """Semver constraints for every filter."""
    max_models: Annotated[int, SchemaDefault(100), Field(ge=1, le=10000)] = 100
    """Upper bound on models this source creates."""


class AIMClusterModelSourceStatus(CRDModel):
    observed_generation: Annotated[int | None, Field(ge=0)] = None
    """The metadata.generation the controller last acted on."""
    status: Annotated[ModelSourceStatusValue, SchemaDefault("Pending")] = ModelSourceStatusValue.PENDING
    """High-level state."""
    last_sync_time: str | None = None
    """When the registry was last listed."""
    discovered_models: int | None = None
    """Models created or updated by the last sync."""
    available_models: int | None = None
    """Models that are Ready."""
    models_limit_reached: bool | None = None
    """Whether maxModels cut the list."""
    conditions: Conditions | None = None
    """Ready, RegistryReachable, MaxModelsLimitReached."""


class AIMClusterModelSource(ObjectRoot):
    """Keeps a set of AIMClusterModels in sync with a container registry."""

    spec: AIMClusterModelSourceSpec
    """Desired state."""
    status: AIMClusterModelSourceStatus | None = None
    """Observed state."""

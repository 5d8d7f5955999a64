"""AIMArtifact: one model artifact downloaded into a PVC by a download Job."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from api.core import Conditions, EnvList, LocalObjectReference, Quantity
from api.objects import ObjectRoot
from api.schema import CEL, CRDModel, Immutable, SchemaDefault
from api.v1alpha1.common import MODEL_ID_PATTERN, SOURCE_URI_PATTERN, CacheMode, DownloadFilter, LifecycleStatus

DEFAULT_DOWNLOAD_IMAGE = "ghcr.io/silogen/aim-artifact-downloader:0.2.0"


class AIMArtifactSpec(CRDModel):
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                # The field's own `self == oldSelf` runs only when both sides have it.
                CEL(
                    "has(self.downloadFilter) == has(oldSelf.downloadFilter)",
                    "downloadFilter is immutable: it cannot be added or removed after creation",
                ).as_rule()
            ]
        }
    )

    source_uri: Annotated[str, Field(min_length=1, pattern=SOURCE_URI_PATTERN), Immutable("sourceUri is immutable")]
    """What to download: hf://org/name[@revision] or s3://bucket/prefix."""
    model_id: Annotated[str | None, Field(pattern=MODEL_ID_PATTERN)] = None
    """Canonical {org}/{name} of the model."""
    storage_class_name: str | None = None
    """Storage class of the volume; runtime config, then cluster default, when unset."""
    size: Quantity | None = None
    """Expected size; discovered from the source when unset."""
    env: EnvList | None = None
    """Download environment (credentials referenced from Secrets)."""
    model_download_image: Annotated[str, SchemaDefault(DEFAULT_DOWNLOAD_IMAGE)] = DEFAULT_DOWNLOAD_IMAGE
    """Image of the download Job."""
    download_filter: Annotated[DownloadFilter | None, Immutable("downloadFilter is immutable")] = None
    """Which files to download; replaces the runtime config's storage.downloadFilter. Without
    either, Hugging Face sources skip files in subdirectories; `{}` downloads everything.
    Immutable: recreate the artifact to change it."""
    retention_priority: Annotated[int | None, Field(ge=0)] = None
    """Makes the artifact evictable when a storage quota is exceeded: lower values go first.
    Without it, the runtime config's artifact.defaultRetentionPriority applies; without either it is
    never evicted. The `aim.eai.amd.com/eviction-protected: "true"` annotation exempts it."""
    image_pull_secrets: list[LocalObjectReference] | None = None
    """Pull secrets for the download image."""
    runtime_config_name: str | None = None
    """Runtime config to use; `default` when unset."""


class ArtifactProgress(CRDModel):
    total_bytes: int | None = None
    """Bytes to download."""
    downloaded_bytes: int | None = None
    """Bytes downloaded so far."""
    percentage: Annotated[int | None, Field(ge=0, le=100)] = None
    """Percent done."""
    display_percentage: str | None = None
    """Percent done, for display, e.g. "42%"."""


class DownloadState(CRDModel):
    protocol: str | None = None
    """Protocol in use: XET, HF_TRANSFER, HTTP or S3."""
    attempt: int | None = None
    """Attempt number (1-based)."""
    total_attempts: int | None = None
    """Attempts allowed."""
    protocol_sequence: str | None = None
    """Protocols to try, in order."""
    message: str | None = None
    """Last message from the downloader."""


class AIMArtifactStatus(CRDModel):
    observed_generation: Annotated[int | None, Field(ge=0)] = None
    """The metadata.generation the controller last acted on."""
    conditions: Conditions | None = None
    """CachePvcReady, DownloadJobReady, DownloadComplete, Ready, ..."""
    status: Annotated[LifecycleStatus, SchemaDefault("Pending")] = LifecycleStatus.PENDING
    """Pending, Progressing, Ready, Degraded, Failed or NotAvailable."""
    progress: ArtifactProgress | None = None
    """Download progress."""
    download: DownloadState | None = None
    """Downloader state."""
    display_size: str | None = None
    """Size for display, e.g. 16.2 GiB."""
    last_used: str | None = None
    """When a live service last used the artifact (refreshed hourly while one does; orders eviction)."""
    persistent_volume_claim: str | None = None
    """The volume holding the artifact."""
    mode: CacheMode | None = None
    """Dedicated when owned by a consumer, else Shared."""
    discovered_size_bytes: int | None = None
    """Size found at the source."""
    allocated_size: Quantity | None = None
    """Volume size requested (size plus headroom)."""
    headroom_percent: int | None = None
    """Headroom applied."""


class AIMArtifact(ObjectRoot):
    """A model artifact cached on a volume, downloaded where the GPUs that serve it are."""

    spec: AIMArtifactSpec
    """Desired state."""
    status: AIMArtifactStatus | None = None
    """Observed state."""

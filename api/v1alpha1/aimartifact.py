"""AIMArtifact: one model artifact downloaded into a PVC by a download Job."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field

from api.core import Conditions, EnvList, LocalObjectReference, Quantity
from api.objects import ObjectRoot
from api.schema import CEL, CRDModel, Immutable, SchemaDefault
from api.v1alpha1.common import (
    MODEL_ID_PATTERN,
    SOURCE_URI_PATTERN,
    CacheMode,
    DownloadFilter,
    LifecycleStatus,
    ResolvedReference,
)

DEFAULT_DOWNLOAD_IMAGE = "ghcr.io/silogen/aim-artifact-downloader:0.2.0"
DEFAULT_ADAPTER_DISK_SIZE = "50Gi"


class ArtifactType(StrEnum):
    MODEL = "model"
    ADAPTER = "adapter"


class AdapterDisk(CRDModel):
    """A ReadWriteMany volume beside a model's cache holding the LoRA adapters its services serve
    (one directory per service, docs/lora-adapters.md)."""

    size: Quantity | None = None
    """Its size; the runtime config's storage.adapterDiskSize, else 50Gi, when unset."""
    storage_class_name: str | None = None
    """Its storage class; the runtime config's, else the cluster default, when unset."""


ARTIFACT_TYPE_RULES = [
    CEL(
        "self.type != 'adapter' || has(self.parentArtifact)",
        "spec.parentArtifact is required when spec.type is adapter",
    ),
    CEL(
        "self.type != 'adapter' || (has(self.modelId) && size(self.modelId) > 0)",
        "spec.modelId is required when spec.type is adapter",
    ),
    CEL(
        "!has(self.parentArtifact) || self.type == 'adapter'",
        "spec.parentArtifact is only allowed when spec.type is adapter",
    ),
    CEL("!has(self.adapterDisk) || self.type == 'model'", "spec.adapterDisk is only allowed when spec.type is model"),
    CEL("!has(self.rank) || self.type == 'adapter'", "spec.rank is only allowed when spec.type is adapter"),
]


class AIMArtifactSpec(CRDModel):
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                # The field's own `self == oldSelf` runs only when both sides have it.
                CEL(
                    "has(self.downloadFilter) == has(oldSelf.downloadFilter)",
                    "downloadFilter is immutable: it cannot be added or removed after creation",
                ).as_rule(),
                *(rule.as_rule() for rule in ARTIFACT_TYPE_RULES),
            ]
        }
    )

    source_uri: Annotated[str, Field(min_length=1, pattern=SOURCE_URI_PATTERN), Immutable("sourceUri is immutable")]
    """What to download: hf://org/name[@revision] or s3://bucket/prefix."""
    type: Annotated[ArtifactType, SchemaDefault("model"), Immutable("spec.type is immutable")] = ArtifactType.MODEL
    """model (default): downloaded into its own volume. adapter: a LoRA adapter of `parentArtifact`,
    staged by each service that serves it into the parent's adapter disk (no volume of its own)."""
    parent_artifact: Annotated[str | None, Field(min_length=1), Immutable("parentArtifact is immutable")] = None
    """The model artifact (same namespace) an adapter belongs to; it needs an adapterDisk."""
    rank: Annotated[int | None, Field(ge=1)] = None
    """The adapter's LoRA rank (adapters only; informational)."""
    adapter_disk: AdapterDisk | None = None
    """Give this model a disk for the LoRA adapters its services serve (models only)."""
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
    adapter_persistent_volume_claim: str | None = None
    """A model's adapter disk, once created (spec.adapterDisk)."""
    adapter_services: list[str] | None = None
    """A model's adapter disk: the uids of services whose subtrees may be on it (a deleted one's is
    reaped, then it leaves the list)."""
    adapter_path: str | None = None
    """An adapter's directory name in a service's subtree (its name, fixed when first resolved)."""
    resolved_parent: ResolvedReference | None = None
    """An adapter's parent model artifact."""
    parent_model_id: str | None = None
    """The parent's spec.modelId (the base model the adapter applies to)."""


class AIMArtifact(ObjectRoot):
    """A model artifact cached on a volume, downloaded where the GPUs that serve it are."""

    spec: AIMArtifactSpec
    """Desired state."""
    status: AIMArtifactStatus | None = None
    """Observed state."""

"""AIMRuntimeConfig (namespaced) and AIMClusterRuntimeConfig (cluster): storage, routing and
environment defaults for the objects that resolve them (namespace first, then cluster; merged)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from api.core import EnvList, LocalObjectReference, Quantity
from api.objects import BasicStatus, ObjectRoot
from api.schema import CRDModel, SchemaDefault
from api.v1alpha1.common import RoutingConfig, StorageConfig

DEFAULT_CONFIG_NAME = "default"
"""The runtime config an object without `runtimeConfigName` resolves; that it is missing is fine."""


class ModelDefaults(CRDModel):
    auto_discovery: bool | None = None
    """Run discovery (metadata extraction, template creation) on models auto-created from a
    service's `spec.model.image`."""


class LabelPropagation(CRDModel):
    enabled: Annotated[bool, SchemaDefault(False)] = False
    """Copy matching labels from AIM objects to the resources created for them."""
    match: list[str] | None = None
    """Shell-style patterns on label keys, e.g. `team.example.com/*`."""


DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(h|m|s))+$"
"""A Go duration with hours, minutes and seconds, e.g. `168h` or `1h30m` (metav1.Duration's common spellings)."""


class ArtifactDefaults(CRDModel):
    """Artifact policy of a namespace or the cluster (not of one service: artifacts are shared)."""

    default_retention_priority: Annotated[int | None, Field(ge=0)] = None
    """Retention priority of artifacts that set no spec.retentionPriority: with it they may be
    evicted when a storage quota is exceeded (lower first). Unset: such artifacts are never evicted."""
    reap_unreferenced_after: Annotated[str | None, Field(pattern=DURATION_PATTERN)] = None
    """How long an evictable artifact (one with a retention priority) that no template or profile
    cache references, and no service has used, is kept before it is deleted, e.g. `168h`. Unset: kept."""


class AIMRuntimeConfigSpec(CRDModel):
    storage: StorageConfig | None = None
    """Cache volume defaults."""
    routing: RoutingConfig | None = None
    """HTTPRoute defaults for services."""
    env: EnvList | None = None
    """Environment for inference containers (lower precedence than template and service env)."""
    model: ModelDefaults | None = None
    """Defaults for models created on behalf of services."""
    artifact: ArtifactDefaults | None = None
    """Artifact retention: eviction priority and the reaping of unreferenced artifacts."""
    label_propagation: LabelPropagation | None = None
    """Which labels travel to created resources."""
    service_account_name: str | None = None
    """Service account for discovery and inference workloads that name none."""
    image_pull_secrets: list[LocalObjectReference] | None = None
    """Pull secrets for registry inspection and inference pods (same namespace; the operator's
    namespace for cluster objects)."""
    default_storage_class_name: str | None = None
    """Deprecated: use storage.defaultStorageClassName (read when that is unset)."""
    pvc_headroom_percent: Annotated[int | None, Field(ge=0)] = None
    """Deprecated: use storage.pvcHeadroomPercent (read when that is unset)."""


class AIMRuntimeConfig(ObjectRoot):
    """Storage, routing and environment defaults for AIM objects in one namespace. The config
    named `default` applies to objects that name none; namespace values override the cluster's."""

    spec: AIMRuntimeConfigSpec = Field(default_factory=AIMRuntimeConfigSpec)
    """Desired defaults."""
    status: BasicStatus | None = None
    """Observed state."""


class ArtifactStorageQuota(CRDModel):
    """Limits on the volume space AIMArtifacts allocate (their PVC requests, headroom included).
    Checked before an artifact's volume is created: over a limit, evictable artifacts are deleted
    to make room, or the new artifact waits (Failed, StorageQuotaExceeded) until there is room."""

    cluster_limit: Quantity | None = None
    """Most space all artifacts of the cluster may allocate together, e.g. `2Ti`."""
    default_namespace_limit: Quantity | None = None
    """Most space the artifacts of one namespace may allocate together, e.g. `500Gi`; a
    namespace's `aim.eai.amd.com/artifact-storage-quota` annotation replaces it."""


class AIMClusterRuntimeConfigSpec(AIMRuntimeConfigSpec):
    artifact_storage_quota: ArtifactStorageQuota | None = None
    """Storage quotas of artifacts, cluster-wide and per namespace (cluster configs only)."""


class AIMClusterRuntimeConfig(ObjectRoot):
    """Cluster-wide storage, routing and environment defaults for AIM objects in every namespace."""

    spec: AIMClusterRuntimeConfigSpec = Field(default_factory=AIMClusterRuntimeConfigSpec)
    """Desired defaults."""
    status: BasicStatus | None = None
    """Observed state."""

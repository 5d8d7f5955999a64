"""AIMKVCache: a key-value cache backend (Redis) that inference engines share through LMCache, and
the `kvCache` block of an AIMService that uses or creates one.

Upstream AIM Engine's shape (`api/v1alpha1/aimkvcache_types.go`): the controller runs the backend as
a one-replica StatefulSet with a volume per pod and a Service in front; services read its
`status.endpoint`. Only Redis exists.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from api.core import Conditions, EnvList, Quantity, ResourceRequirements
from api.objects import ObjectRoot
from api.schema import CRDModel, Immutable, SchemaDefault
from api.v1alpha1.common import LifecycleStatus


class KVCacheType(StrEnum):
    REDIS = "redis"


DEFAULT_IMAGES = {KVCacheType.REDIS: "redis:7.2.4"}
"""Upstream's default image per backend (Docker Hub's official Redis image)."""
DEFAULT_STORAGE_SIZE = "1Gi"
DEFAULT_ACCESS_MODES = ("ReadWriteOnce",)
REDIS_PORT = 6379


class KVCacheStorage(CRDModel):
    """The backend's volume. Every field is fixed once set: a StatefulSet's volume claim template
    cannot change."""

    size: Annotated[Quantity | None, Immutable("storage size is immutable once set")] = None
    """Volume size; 1Gi when unset (Redis needs about that to work)."""
    storage_class_name: Annotated[str | None, Immutable("storage class name is immutable once set")] = None
    """Storage class; the cluster's default when unset."""
    access_modes: Annotated[list[str] | None, Immutable("access modes are immutable once set")] = None
    """Access modes; ReadWriteOnce when unset."""


class AIMKVCacheSpec(CRDModel):
    kv_cache_type: Annotated[KVCacheType, SchemaDefault("redis")] = KVCacheType.REDIS
    """The backend: only redis."""
    image: str | None = None
    """The backend's image; redis:7.2.4 when unset."""
    env: EnvList | None = None
    """Environment of the backend's container."""
    storage: KVCacheStorage | None = None
    """The backend's volume."""
    resources: ResourceRequirements | None = None
    """The backend's resources; 1 CPU and 1Gi of memory (requests and limits) when unset."""


class AIMKVCacheStatus(CRDModel):
    observed_generation: Annotated[int | None, Field(ge=0)] = None
    """The metadata.generation the controller last acted on."""
    conditions: Conditions | None = None
    """StatefulSetReady, ServiceReady, Ready."""
    status: Annotated[LifecycleStatus, SchemaDefault("Pending")] = LifecycleStatus.PENDING
    """Pending, Progressing, Ready or Failed."""
    stateful_set_name: str | None = None
    """The StatefulSet running the backend."""
    service_name: str | None = None
    """The Service in front of it."""
    endpoint: str | None = None
    """Where engines reach it, e.g. redis://<service>.<namespace>:6379."""
    replicas: int | None = None
    """Replicas of the StatefulSet."""
    ready_replicas: int | None = None
    """Of which Ready."""
    storage_size: str | None = None
    """The volume size asked for."""


class AIMKVCache(ObjectRoot):
    """A KV cache backend for LMCache, shared by the services of its namespace that name it."""

    spec: AIMKVCacheSpec
    """Desired state."""
    status: AIMKVCacheStatus | None = None
    """Observed state."""


class ServiceKVCache(CRDModel):
    """An AIMService's KV cache: the AIMKVCache `name` (kvcache-<namespace> when unset), created with
    the fields below when it does not exist (an existing one is used as it is)."""

    name: Annotated[str | None, Field(max_length=253)] = None
    """The AIMKVCache to use or create; kvcache-<namespace> when unset."""
    type: Annotated[KVCacheType, SchemaDefault("redis")] = KVCacheType.REDIS
    """The backend of a created cache."""
    image: str | None = None
    """The backend image of a created cache."""
    env: EnvList | None = None
    """The backend environment of a created cache."""
    storage: KVCacheStorage | None = None
    """The volume of a created cache."""
    resources: ResourceRequirements | None = None
    """The backend resources of a created cache."""
    lm_cache_config: str | None = None
    """LMCache's configuration file; `{SERVICE_URL}` in it becomes the cache's host:port. A
    configuration with the cache as its remote backend when unset."""

"""AIMProfile (namespaced) and AIMClusterProfile (cluster): a self-contained runtime configuration
that answers, without consulting any other object, which model architecture, accelerator,
resources, engine configuration and image to deploy."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

from api.core import Conditions, EnvList, LocalObjectReference, ResourceRequirements
from api.objects import ObjectRoot
from api.schema import CRDModel, Immutable, PreserveUnknownFields, SchemaDefault
from api.v1alpha1.common import LifecycleStatus, Metric
from api.v1alpha2.common import ModelSource, Precision, ProfileType

ACCELERATOR_MODEL_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"


class AcceleratorType(StrEnum):
    """gpu derives `amd.com/gpu` resources, cpu derives `cpu`."""

    GPU = "gpu"
    CPU = "cpu"


class AIMProfileSpecCommon(CRDModel):
    aim_id: Annotated[str, Field(min_length=1), Immutable("aimId is immutable")]
    """Model architecture identifier, e.g. qwen/qwen3-32b."""
    model_id: str | None = None
    """Specific model or Hugging Face id, e.g. qwen/qwen3-32b-fp8; the cache path is /workspace/cache/{modelId}."""
    profile_id: str | None = None
    """On-disk profile identifier inside the image, e.g. vllm-mi300x-fp8-tp1-latency."""
    engine: str | None = None
    """Inference engine, e.g. vllm."""
    metric: Metric | None = None
    """Optimisation target."""
    precision: Precision | None = None
    """Numeric precision."""
    type: ProfileType | None = None
    """Optimisation level: optimized > general > preview > unoptimized."""
    primary: Annotated[bool, SchemaDefault(False)] = False
    """A default, recommended profile."""
    engine_args: Annotated[dict[str, Any] | None, PreserveUnknownFields()] = None
    """Engine command-line arguments as a JSON object."""
    engine_env: dict[str, str] | None = None
    """Environment for the engine subprocess."""
    accelerator_model: Annotated[str | None, Field(max_length=63, pattern=ACCELERATOR_MODEL_PATTERN)] = None
    """Accelerator for node selection (label feature.node.kubernetes.io/aim-accelerator.<model>)."""
    accelerator_type: AcceleratorType | None = None
    """gpu or cpu."""
    accelerator_count: Annotated[int | None, Field(ge=0)] = None
    """Accelerator units per replica."""
    resources: ResourceRequirements | None = None
    """Resource requests/limits over the ones derived from the accelerator."""
    image: Annotated[str, Field(min_length=1)]
    """Deployment container image."""
    model_sources: list[ModelSource] | None = None
    """Model artifacts for this profile."""
    container_env: EnvList | None = None
    """Container environment for the AIM runtime process."""
    image_pull_secrets: list[LocalObjectReference] | None = None
    """Pull secrets for the image."""
    service_account_name: str | None = None
    """Service account for workloads."""


class ProfileCaching(CRDModel):
    enabled: Annotated[bool, SchemaDefault(False)] = False
    """Pre-warm this profile's model sources with an AIMProfileCache."""
    env: EnvList | None = None
    """Environment for the downloads (credentials)."""


class AIMProfileSpec(AIMProfileSpecCommon):
    caching: ProfileCaching | None = None
    """Model caching (namespaced profiles only: caches are namespaced)."""


class AIMProfileStatus(CRDModel):
    observed_generation: Annotated[int | None, Field(ge=0)] = None
    """The metadata.generation the controller last acted on."""
    status: Annotated[LifecycleStatus, SchemaDefault("Pending")] = LifecycleStatus.PENDING
    """Ready when at least one node matches, else NotAvailable."""
    version: str | None = None
    """Tag of spec.image, e.g. 0.8.5."""
    matching_nodes: int | None = None
    """Nodes with the accelerator and enough allocatable resources."""
    hardware_summary: str | None = None
    """"N x MODEL", MODEL, or CPU."""
    resources: ResourceRequirements | None = None
    """The resources deployed."""
    resolved_node_affinity: Annotated[dict[str, Any] | None, PreserveUnknownFields()] = None
    """Node affinity derived from the accelerator."""
    conditions: Conditions | None = None
    """HardwareAvailable, Ready."""


class AIMProfile(ObjectRoot):
    """A runtime configuration services in this namespace deploy from (spec.profile)."""

    spec: AIMProfileSpec
    """Desired state."""
    status: AIMProfileStatus | None = None
    """Observed state."""


class AIMClusterProfile(ObjectRoot):
    """A runtime configuration services in every namespace deploy from; no caching (caches are namespaced)."""

    spec: AIMProfileSpecCommon
    """Desired state."""
    status: AIMProfileStatus | None = None
    """Observed state."""


AnyProfile = AIMProfile | AIMClusterProfile
"""Either scope of profile, as the controller reads it."""

"""Sub-structures of v1alpha2 that differ from v1alpha1; the rest is shared from v1alpha1.common."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field

from api.core import EnvList, Quantity
from api.schema import CEL, CRDModel, Immutable, SchemaDefault
from api.v1alpha1.common import (
    GPU_OR_CPU,
    MODEL_ID_PATTERN,
    SOURCE_URI_PATTERN,
    CpuRequirements,
    Metric,
    ParentReference,
)


class Precision(StrEnum):
    """Numeric precision (no `auto`: an unset precision lets the runtime choose)."""

    FP4 = "fp4"
    FP8 = "fp8"
    FP16 = "fp16"
    FP32 = "fp32"
    BF16 = "bf16"
    INT4 = "int4"
    INT8 = "int8"


class ProfileType(StrEnum):
    """Optimisation level: optimized > general > preview > unoptimized."""

    OPTIMIZED = "optimized"
    GENERAL = "general"
    PREVIEW = "preview"
    UNOPTIMIZED = "unoptimized"


class CacheMode(StrEnum):
    DEDICATED = "Dedicated"
    SHARED = "Shared"


class GpuRequirements(CRDModel):
    """GPUs per replica."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                CEL(
                    "!(has(self.models) && size(self.models) > 0 && has(self.minVram))",
                    "models and minVram are mutually exclusive; specify either GPU models OR a minimum VRAM"
                    " requirement, not both",
                ).as_rule()
            ]
        }
    )

    requests: Annotated[int | None, Field(ge=0)] = None
    """Number of GPUs per replica."""
    models: Annotated[list[Annotated[str, Field(max_length=64)]] | None, Field(max_length=16)] = None
    """GPU models any of which may serve, such as [MI300X]."""
    min_vram: Quantity | None = None
    """Minimum VRAM per GPU."""
    resource_name: Annotated[str, SchemaDefault("amd.com/gpu")] = "amd.com/gpu"
    """Extended resource that counts GPUs on nodes."""


class HardwareRequirements(CRDModel):
    """What one replica needs."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": [GPU_OR_CPU.as_rule()]})

    gpu: GpuRequirements | None = None
    """GPU requirements."""
    cpu: CpuRequirements | None = None
    """CPU requirements (CPU-only models)."""


class ModelSource(CRDModel):
    """A downloadable model artifact."""

    model_id: Annotated[str, Field(pattern=MODEL_ID_PATTERN)]
    """Canonical identifier in {org}/{name} form."""
    source_uri: Annotated[str, Field(pattern=SOURCE_URI_PATTERN)]
    """hf://org/name[@revision] or s3://bucket/prefix."""
    size: Quantity | None = None
    """Storage the artifact needs; discovered when omitted."""
    precision: Precision | None = None
    """Runtime precision these weights are for."""
    env: EnvList | None = None
    """Per-source credentials referenced from Secrets."""


class RuntimeParameters(CRDModel):
    metric: Annotated[Metric | None, Immutable("metric is immutable")] = None
    """Optimisation target to require of the template."""
    precision: Annotated[Precision | None, Immutable("precision is immutable")] = None
    """Precision to require of the template."""
    hardware: Annotated[HardwareRequirements | None, Immutable("hardware is immutable")] = None
    """Hardware to require of the template."""


class ServiceRouting(CRDModel):
    """HTTPRoute for this service; unset fields come from the runtime config."""

    enabled: bool | None = None
    """Create a Gateway API HTTPRoute for this service."""
    gateway_ref: ParentReference | None = None
    """The Gateway the route attaches to."""
    path_template: str | None = None
    """Route path template: JSONPath fragments in `{...}` rendered against the AIMService,
    e.g. `/{.metadata.namespace}/{.metadata.name}`. Default `/<namespace>/<service-uid>`."""
    request_timeout: str | None = None
    """Request timeout on the route, as a Gateway API duration such as `60s`."""
    annotations: dict[str, str] | None = None
    """Annotations added to the HTTPRoute."""

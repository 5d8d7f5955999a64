"""A small model family exercising every schema marker; used by the generator's tests."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from api.schema import CEL, CRDModel, Immutable, IntOrString, PreserveUnknownFields, SchemaDefault

QUANTITY = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)


class Metric(StrEnum):
    """Optimisation target."""

    LATENCY = "latency"
    THROUGHPUT = "throughput"


class Gpu(CRDModel):
    """GPU requirements of one replica."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!(has(self.model) && has(self.minVram))",
                    "message": "model and minVram are mutually exclusive",
                }
            ]
        }
    )

    requests: Annotated[int, Field(ge=0)] = 0
    """Number of GPUs per replica."""
    model: Annotated[str | None, Field(max_length=64)] = None
    """GPU model, such as MI300X."""
    min_vram: Annotated[str | None, IntOrString(QUANTITY)] = None
    """Minimum VRAM per GPU."""


class GadgetSpec(CRDModel):
    image: Annotated[str, Field(min_length=1)]
    """Container image to run."""
    metric: Metric | None = None
    """What to optimise for."""
    gpu: Annotated[Gpu | None, Immutable("gpu is immutable")] = None
    """Hardware; fixed once created."""
    replicas: Annotated[int, SchemaDefault(1), Field(ge=0)] = 1
    """Fixed replica count."""
    mode: Literal["Shared", "Dedicated"] = "Shared"
    """Unpublished default: the schema must not carry it."""
    engine_args: Annotated[dict[str, Any] | None, PreserveUnknownFields()] = None
    """Free-form engine arguments."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Extra labels."""
    gpus: list[Gpu] = Field(default_factory=list)
    """Alternatives."""
    fixed: Literal["v"] | None = None
    """A single allowed value."""


class Gadget(CRDModel):
    """A gadget."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                dict(CEL("self.spec.replicas <= 10", "at most 10 replicas", field_path=".spec.replicas").as_rule())
            ]
        }
    )

    api_version: str
    kind: str
    metadata: Annotated[dict[str, Any], PreserveUnknownFields()] = Field(default_factory=dict)
    spec: GadgetSpec

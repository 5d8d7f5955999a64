"""Kubernetes core types that AIM objects embed (EnvVar, ResourceRequirements, Condition, ...).

Only the fields AIM Engine reads or passes through are modelled; they keep the Kubernetes wire
names and validation so the generated schema matches what `kubectl explain` users expect.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from api.schema import CRDModel, IntOrString, ListMap

QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)

Quantity = Annotated[str | int, IntOrString(QUANTITY_PATTERN)]
"""A resource.Quantity such as `16Gi`, `500m` or `4`."""


class SecretKeySelector(CRDModel):
    name: str = ""
    """Name of the Secret in the object's namespace."""
    key: str
    """Key within the Secret."""
    optional: bool | None = None
    """Whether the Secret or key may be missing."""


class ConfigMapKeySelector(CRDModel):
    name: str = ""
    """Name of the ConfigMap in the object's namespace."""
    key: str
    """Key within the ConfigMap."""
    optional: bool | None = None
    """Whether the ConfigMap or key may be missing."""


class ObjectFieldSelector(CRDModel):
    api_version: str | None = None
    """Version of the schema the field path is written in."""
    field_path: str
    """Path of the field to select, e.g. `metadata.namespace`."""


class ResourceFieldSelector(CRDModel):
    container_name: str | None = None
    """Container name (required for volumes)."""
    resource: str
    """Resource to select, e.g. `limits.memory`."""
    divisor: Quantity | None = None
    """Output format of the exposed resource."""


class EnvVarSource(CRDModel):
    secret_key_ref: SecretKeySelector | None = None
    """A key of a Secret (credentials are referenced, never copied)."""
    config_map_key_ref: ConfigMapKeySelector | None = None
    """A key of a ConfigMap."""
    field_ref: ObjectFieldSelector | None = None
    """A field of the pod."""
    resource_field_ref: ResourceFieldSelector | None = None
    """A resource of the container."""


class EnvVar(CRDModel):
    name: Annotated[str, Field(min_length=1)]
    """Variable name."""
    value: str | None = None
    """Literal value."""
    value_from: EnvVarSource | None = None
    """Where to read the value from instead."""


EnvList = Annotated[list[EnvVar], ListMap(("name",))]
"""Environment variables, merged by name."""


class LocalObjectReference(CRDModel):
    name: str = ""
    """Name of the referenced object in the same namespace."""


class ResourceClaim(CRDModel):
    name: str
    """Name of a pod resource claim."""
    request: str | None = None
    """Request within the claim."""


class ResourceRequirements(CRDModel):
    limits: dict[str, Quantity] | None = None
    """Maximum resources, e.g. `memory: 64Gi`."""
    requests: dict[str, Quantity] | None = None
    """Minimum resources the scheduler reserves, e.g. `cpu: "4"`."""
    claims: Annotated[list[ResourceClaim] | None, ListMap(("name",))] = None
    """Dynamic resource claims used by the container."""


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(CRDModel):
    """One aspect of the object's state (Kubernetes API conventions, metav1.Condition)."""

    type: Annotated[
        str,
        Field(
            max_length=316,
            pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
            r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
        ),
    ]
    """Condition type in CamelCase, e.g. `Ready`."""
    status: ConditionStatus
    """True, False or Unknown."""
    observed_generation: Annotated[int | None, Field(ge=0)] = None
    """The metadata.generation the condition was computed from."""
    last_transition_time: str
    """When status last changed (RFC 3339)."""
    reason: Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")]
    """Machine-readable CamelCase reason for the last transition."""
    message: Annotated[str, Field(max_length=32768)] = ""
    """Human-readable details."""


Conditions = Annotated[list[Condition], ListMap(("type",))]
"""Conditions, one per type."""

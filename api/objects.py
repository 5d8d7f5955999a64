"""The envelope every AIM object shares: apiVersion, kind, metadata (owned by the API server)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from api.core import Conditions
from api.schema import CRDModel, PreserveUnknownFields


class ObjectRoot(CRDModel):
    api_version: str | None = None
    """Versioned schema of this representation of the object."""
    kind: str | None = None
    """The REST resource this object represents."""
    metadata: Annotated[dict[str, Any], PreserveUnknownFields()] = Field(default_factory=dict)
    """Standard object metadata (name, namespace, labels, annotations, ...)."""


class BasicStatus(CRDModel):
    observed_generation: Annotated[int | None, Field(ge=0)] = None
    """The metadata.generation the controller last acted on."""
    conditions: Conditions | None = None
    """Latest observations of the object's state."""

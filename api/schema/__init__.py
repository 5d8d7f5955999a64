"""pydantic → CustomResourceDefinition machinery. Knows nothing about AIM kinds (pure layer)."""

from api.schema.base import CRDModel
from api.schema.generator import structural_schema
from api.schema.markers import CEL, Immutable, IntOrString, PreserveUnknownFields, SchemaDefault

__all__ = [
    "CEL",
    "CRDModel",
    "Immutable",
    "IntOrString",
    "PreserveUnknownFields",
    "SchemaDefault",
    "structural_schema",
]

"""pydantic → CustomResourceDefinition machinery. Knows nothing about AIM kinds (pure layer)."""

from api.schema.base import CRDModel
from api.schema.generator import structural_schema
from api.schema.markers import CEL, Immutable, IntOrString, ListMap, PreserveUnknownFields, SchemaDefault

__all__ = [
    "CEL",
    "CRDModel",
    "Immutable",
    "IntOrString",
    "ListMap",
    "PreserveUnknownFields",
    "SchemaDefault",
    "structural_schema",
]

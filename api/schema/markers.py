"""Annotated markers that put Kubernetes schema extensions next to the field they constrain.

    replicas: Annotated[int, SchemaDefault(1)] = 1
    model: Annotated[ServiceModel, Immutable("model selection is immutable after creation")]
    size: Annotated[str | None, IntOrString(QUANTITY_PATTERN)] = None

Each marker edits the field's JSON schema; `generator.structural_schema` then turns pydantic's
output into a structural schema the API server accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import GetJsonSchemaHandler, JsonValue
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

JsonDict = dict[str, JsonValue]

# Keys the generator resolves after inlining (a marker on an Optional field sees only a wrapper).
DEFAULT_KEY = "x-aim-schema-default"


@dataclass(frozen=True)
class CEL:
    """An `x-kubernetes-validations` rule evaluated by the API server on this field."""

    rule: str
    message: str
    field_path: str | None = None
    reason: str | None = None

    def as_rule(self) -> JsonDict:
        rule: JsonDict = {"rule": self.rule, "message": self.message}
        if self.field_path:
            rule["fieldPath"] = self.field_path
        if self.reason:
            rule["reason"] = self.reason
        return rule

    def __get_pydantic_json_schema__(self, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core)
        schema.setdefault("x-kubernetes-validations", []).append(self.as_rule())
        return schema


def Immutable(message: str) -> CEL:  # noqa: N802 - reads like a marker type at the use site
    """`self == oldSelf`: the API server compares only when the field is present in both versions."""
    return CEL("self == oldSelf", message)


@dataclass(frozen=True)
class SchemaDefault:
    """A default the API server applies (pydantic defaults are not published unless marked)."""

    value: Any

    def __get_pydantic_json_schema__(self, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core)
        schema[DEFAULT_KEY] = self.value
        return schema


@dataclass(frozen=True)
class IntOrString:
    """A Kubernetes int-or-string (e.g. resource.Quantity), optionally with a pattern for strings."""

    pattern: str | None = None

    def __get_pydantic_json_schema__(self, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema: dict[str, Any] = {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "x-kubernetes-int-or-string": True,
        }
        if self.pattern:
            schema["pattern"] = self.pattern
        return schema


@dataclass(frozen=True)
class PreserveUnknownFields:
    """Free-form JSON object kept as written (e.g. engine arguments)."""

    def __get_pydantic_json_schema__(self, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


@dataclass(frozen=True)
class ListMap:
    """A list merged by key under server-side apply (`x-kubernetes-list-type: map`), e.g. env by name."""

    keys: tuple[str, ...] = ("name",)

    def __get_pydantic_json_schema__(self, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core)
        schema["x-kubernetes-list-type"] = "map"
        schema["x-kubernetes-list-map-keys"] = list(self.keys)
        return schema

"""Turn pydantic's JSON schema into a structural OpenAPI v3 schema for a CRD.

Structural means (Kubernetes API conventions, "Specifying a structural schema"): every node has a
type, no `$ref`, no `additionalProperties: false` (pruning drops unknown fields instead), and
optional fields are simply not required (the API server has no `null` branch to choose).
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from api.schema.markers import DEFAULT_KEY

_DROPPED = {"title", "default", "$defs"}


class SchemaError(ValueError):
    """The model uses a construct that has no structural-schema equivalent."""


def structural_schema(model: type[BaseModel]) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True, mode="validation")
    definitions = raw.pop("$defs", {})
    return _Structuralizer(definitions).convert(raw, model.__name__)


class _Structuralizer:
    def __init__(self, definitions: dict[str, Any]):
        self._definitions = definitions

    def convert(self, node: dict[str, Any], path: str) -> dict[str, Any]:
        node = self._resolve(node, path)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DROPPED:
                continue
            if key == DEFAULT_KEY:
                out["default"] = value
            elif key == "description":
                out["description"] = _one_line_paragraphs(value)
            elif key == "const":
                out["enum"] = [value]
            elif key == "properties":
                out["properties"] = {name: self.convert(sub, f"{path}.{name}") for name, sub in value.items()}
            elif key == "items":
                out["items"] = self.convert(value, f"{path}[]")
            elif key == "additionalProperties":
                if value is True or value == {}:
                    out["x-kubernetes-preserve-unknown-fields"] = True
                elif isinstance(value, dict):
                    out["additionalProperties"] = self.convert(value, f"{path}{{}}")
                # `false`: unknown fields are pruned by the API server; the keyword is not allowed.
            elif key == "anyOf":
                if not node.get("x-kubernetes-int-or-string"):
                    raise SchemaError(f"{path}: unions other than Optional and int-or-string are not structural")
                out["anyOf"] = value
            elif key in ("oneOf", "allOf", "not", "discriminator"):
                raise SchemaError(f"{path}: '{key}' is not allowed in a structural schema")
            else:
                out[key] = value
        if "properties" in out or "x-kubernetes-preserve-unknown-fields" in out:
            out.setdefault("type", "object")
        if "type" not in out and not out.get("x-kubernetes-int-or-string"):
            raise SchemaError(f"{path}: no type (use a marker such as PreserveUnknownFields)")
        return out

    def _resolve(self, node: dict[str, Any], path: str) -> dict[str, Any]:
        """Inline `$ref` and strip the `null` branch of Optional, merging the field's own keys
        (description, CEL rules, defaults) over the referenced definition's."""
        node = dict(node)
        branches = node.get("anyOf")
        if branches and not node.get("x-kubernetes-int-or-string"):
            non_null = [b for b in branches if b.get("type") != "null"]
            if len(non_null) == 1:
                del node["anyOf"]
                node = _merge(self._resolve(non_null[0], path), node)
        if "$ref" in node:
            name = node.pop("$ref").rsplit("/", 1)[-1]
            if name not in self._definitions:
                raise SchemaError(f"{path}: unknown reference {name}")
            node = _merge(self._resolve(copy.deepcopy(self._definitions[name]), path), node)
        return node


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **override}
    rules = base.get("x-kubernetes-validations", []) + override.get("x-kubernetes-validations", [])
    if rules:
        merged["x-kubernetes-validations"] = rules
    return merged


def _one_line_paragraphs(text: str) -> str:
    """Docstrings wrap at the source's line length; `kubectl explain` re-wraps on its own."""
    paragraphs = [" ".join(p.split()) for p in text.strip().split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)

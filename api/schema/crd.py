"""Assemble a CustomResourceDefinition (apiextensions.k8s.io/v1) from API models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from api.schema.generator import structural_schema


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    json_path: str
    type: str = "string"
    priority: int = 0
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        column: dict[str, Any] = {"name": self.name, "type": self.type, "jsonPath": self.json_path}
        if self.priority:
            column["priority"] = self.priority
        if self.description:
            column["description"] = self.description
        return column


@dataclass(frozen=True)
class Version:
    name: str
    model: type[BaseModel]
    served: bool = True
    storage: bool = False
    deprecation_warning: str | None = None
    printer_columns: tuple[PrinterColumn, ...] = ()
    selectable_fields: tuple[str, ...] = ()
    """JSONPaths (`.spec.aimId`) usable with `kubectl get --field-selector` (Kubernetes >= 1.32)."""


@dataclass(frozen=True)
class Names:
    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class CRDSpec:
    group: str
    names: Names
    scope: Literal["Namespaced", "Cluster"]
    versions: tuple[Version, ...]
    status_subresource: bool = True
    annotations: dict[str, str] = field(default_factory=dict)


def custom_resource_definition(spec: CRDSpec) -> dict[str, Any]:
    if sum(v.storage for v in spec.versions) != 1:
        raise ValueError(f"{spec.names.kind}: exactly one version must be the storage version")
    names: dict[str, Any] = {
        "kind": spec.names.kind,
        "listKind": f"{spec.names.kind}List",
        "plural": spec.names.plural,
        "singular": spec.names.singular,
    }
    if spec.names.short_names:
        names["shortNames"] = list(spec.names.short_names)
    if spec.names.categories:
        names["categories"] = list(spec.names.categories)
    versions = []
    for version in spec.versions:
        entry: dict[str, Any] = {
            "name": version.name,
            "served": version.served,
            "storage": version.storage,
            "schema": {"openAPIV3Schema": _root_schema(version.model)},
        }
        if version.deprecation_warning:
            entry["deprecated"] = True
            entry["deprecationWarning"] = version.deprecation_warning
        if spec.status_subresource:
            entry["subresources"] = {"status": {}}
        if version.printer_columns:
            entry["additionalPrinterColumns"] = [c.as_dict() for c in version.printer_columns]
        if version.selectable_fields:
            entry["selectableFields"] = [{"jsonPath": path} for path in version.selectable_fields]
        versions.append(entry)
    metadata: dict[str, Any] = {"name": f"{spec.names.plural}.{spec.group}"}
    if spec.annotations:
        metadata["annotations"] = dict(spec.annotations)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": metadata,
        "spec": {"group": spec.group, "names": names, "scope": spec.scope, "versions": versions},
    }


def _root_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The API server owns `metadata`'s schema and rejects anything but its type there."""
    schema = structural_schema(model)
    if "metadata" in schema.get("properties", {}):
        schema["properties"]["metadata"] = {"type": "object"}
    return schema

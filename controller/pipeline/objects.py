"""Building the objects a plan applies (pure): one shape for every manifest the controller creates."""

from __future__ import annotations

from typing import Any

from api import labels
from controller.pipeline.plan import owner_reference


def manifest(
    api_version: str,
    kind: str,
    name: str,
    namespace: str | None = None,
    *,
    object_labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    owner: dict[str, Any] | None = None,
    **body: Any,
) -> dict[str, Any]:
    """`apiVersion`, `kind`, `metadata` (name, namespace, labels, annotations and the owner's
    controller reference, each only when given) and the rest of the object (`spec=...`)."""
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    if object_labels is not None:
        metadata["labels"] = object_labels
    if annotations is not None:
        metadata["annotations"] = annotations
    if owner is not None:
        metadata["ownerReferences"] = [owner_reference(owner)]
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body}


def managed(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The managed-by label every object the controller creates carries, with `extra` labels."""
    return {labels.MANAGED_BY: labels.MANAGED_BY_VALUE} | (extra or {})


def with_present(target: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """`target` with the fields that are set (not None, not empty) copied in."""
    return target | {key: value for key, value in fields.items() if value not in (None, "", [], {})}

"""Building the objects a plan applies (pure): one shape for every manifest the controller creates."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from api import labels
from api.naming import name_label_value
from api.objects import AnyObject, as_stored
from controller.pipeline.plan import owner_reference


def manifest(
    api_version: str,
    kind: str,
    name: str,
    namespace: str | None = None,
    *,
    object_labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    owner: AnyObject | None = None,
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


def propagated_labels(parent: AnyObject, config: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The parent's labels a child inherits: `aim.eai.amd.com/*` always; others when the runtime
    config's labelPropagation is enabled and one of its `match` globs fits the key."""
    parent = as_stored(parent)
    parent_labels: dict[str, str] = (parent.get("metadata") or {}).get("labels") or {}
    propagation = (config or {}).get("labelPropagation") or {}
    patterns = propagation.get("match") or [] if propagation.get("enabled") else []
    return {
        key: value
        for key, value in parent_labels.items()
        if key.startswith(labels.AIM_PREFIX) or any(fnmatch.fnmatchcase(key, p) for p in patterns)
    }


def child_labels(owner: AnyObject, builder: dict[str, str], config: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The labels of an object `owner` creates, in upstream's order, no step overwriting a key an
    earlier one set: the builder's own, then the owner's propagated labels, then
    `aim.eai.amd.com/<owner kind>.name: <owner name>` (api.labels.OWNER_NAME)."""
    owner = as_stored(owner)
    result = dict(builder)
    for key, value in propagated_labels(owner, config).items():
        result.setdefault(key, value)
    owner_key = labels.OWNER_NAME.get(str(owner.get("kind")))
    if owner_key is not None:
        result.setdefault(owner_key, name_label_value(str(owner["metadata"]["name"])))
    return result


def pod_template_labels(owner: AnyObject, builder: dict[str, str]) -> dict[str, str]:
    """Labels for a Job's pod template: the builder's and the owner's name only. A Job's template
    cannot change once created, and propagated labels can (a shared parent's labels, a user's
    edit), so they go on the Job itself, not on its pods."""
    owner = as_stored(owner)
    result = dict(builder)
    owner_key = labels.OWNER_NAME.get(str(owner.get("kind")))
    if owner_key is not None:
        result.setdefault(owner_key, name_label_value(str(owner["metadata"]["name"])))
    return result


RESTRICTED_USER = 1000
"""The user and group the controller's own Jobs (downloads, adapter staging and reaping) run as."""


def restricted_container(name: str, image: str, volume_mounts: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """A container of one of the controller's Jobs, fit for the `restricted` Pod Security level:
    no privilege escalation, no capabilities, a read-only root file system; the log's tail is the
    termination message when the program wrote none. `fields`: command, args, env, resources."""
    return {
        "name": name,
        "image": image,
        **fields,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": volume_mounts,
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }


def restricted_job_pod(container: dict[str, Any], volumes: list[dict[str, Any]]) -> dict[str, Any]:
    """The pod spec of one of the controller's Jobs: one container, never restarted in place (the
    Job retries), non-root with a fixed user and group that own the mounted volumes."""
    return {
        "restartPolicy": "Never",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RESTRICTED_USER,
            "runAsGroup": RESTRICTED_USER,
            "fsGroup": RESTRICTED_USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": volumes,
    }

"""Resolve the runtime config a consumer uses: the namespaced AIMRuntimeConfig and the
AIMClusterRuntimeConfig of the same name, merged (pure: config specs in, merged spec out).

Merge rules: cluster is the base, namespace the override. Scalars: a namespace value that is set
replaces the cluster one; objects merge key by key, recursively; `env` merges by name (namespace
wins); other lists are replaced when the namespace gives a non-empty one. Unlike upstream, a
namespace `false` does turn a cluster `true` off (Python sees "set" apart from "zero"), and a
namespace `storage.downloadFilter` replaces the cluster one whole (so its `{}` downloads everything;
upstream merges the two filters' lists).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from api.conditions import ConditionType, Reason
from api.objects import AnyObject, as_stored, wire
from api.v1alpha1.aimruntimeconfig import DEFAULT_CONFIG_NAME, AIMClusterRuntimeConfigSpec
from api.v1alpha1.common import LifecycleStatus
from controller.pipeline.components import Component

DEFAULT_NAME = DEFAULT_CONFIG_NAME
DEFAULT_PVC_HEADROOM_PERCENT = 10


@dataclass(frozen=True)
class ResolvedRuntimeConfig:
    name: str
    scope: str
    """"Namespace", "Cluster", "Merged", or "" when no config exists (fine for `default`)."""
    spec: dict[str, Any] = field(default_factory=dict)
    """The merged spec in its wire form (camelCase): what label propagation reads."""
    missing: bool = False
    """True when a config named explicitly exists in neither scope: the consumer fails."""

    @cached_property
    def typed_spec(self) -> AIMClusterRuntimeConfigSpec:
        """The merged spec as its API model (a namespace config's fields are a subset of a cluster
        config's). resolve_runtime_config reads it, so a config that does not fit raises
        pydantic.ValidationError in the fetch step that resolves it."""
        return AIMClusterRuntimeConfigSpec.model_validate(self.spec, extra="ignore")

    @property
    def storage_class(self) -> str | None:
        storage = self.typed_spec.storage
        return (storage.default_storage_class_name if storage is not None else None) or None

    @property
    def download_filter(self) -> dict[str, Any] | None:
        """storage.downloadFilter; None when unset (`{}` is set: every file)."""
        storage = self.typed_spec.storage
        value = storage.download_filter if storage is not None else None
        return None if value is None else dict(wire(value))

    @property
    def default_retention_priority(self) -> int | None:
        artifact = self.typed_spec.artifact
        return artifact.default_retention_priority if artifact is not None else None

    @property
    def reap_unreferenced_after(self) -> str | None:
        artifact = self.typed_spec.artifact
        return (artifact.reap_unreferenced_after if artifact is not None else None) or None

    @property
    def artifact_storage_quota(self) -> dict[str, Any]:
        """Only cluster configs carry it: the namespace config of the same name cannot lift it."""
        return dict(wire(self.typed_spec.artifact_storage_quota) or {})

    @property
    def pvc_headroom_percent(self) -> int:
        storage = self.typed_spec.storage
        return DEFAULT_PVC_HEADROOM_PERCENT if storage is None else storage.pvc_headroom_percent


def config_name(requested: str | None) -> str:
    return (requested or "").strip() or DEFAULT_NAME


def resolve_runtime_config(
    requested: str | None, namespaced: AnyObject | None, cluster: AnyObject | None
) -> ResolvedRuntimeConfig:
    """`namespaced`/`cluster` are the fetched objects (None when absent), merged in their wire
    form; the result's typed view is read here, so a config that does not fit its API model
    raises pydantic.ValidationError from the caller's fetch step."""
    name = config_name(requested)
    specs = [_migrated(as_stored(o).get("spec") or {}) if o is not None else {} for o in (cluster, namespaced)]
    if namespaced is None and cluster is None:
        resolved = ResolvedRuntimeConfig(name, "", {}, missing=name != DEFAULT_NAME)
    elif namespaced is None:
        resolved = ResolvedRuntimeConfig(name, "Cluster", specs[0])
    elif cluster is None:
        resolved = ResolvedRuntimeConfig(name, "Namespace", specs[1])
    else:
        resolved = ResolvedRuntimeConfig(name, "Merged", merge_specs(specs[0], specs[1]))
    _ = resolved.typed_spec
    return resolved


WHOLE_VALUES = frozenset({"downloadFilter"})
"""Objects whose namespace value replaces the cluster one instead of merging key by key."""


def merge_specs(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if value is None:
            continue
        current = merged.get(key)
        if key in WHOLE_VALUES:
            merged[key] = value
        elif key == "env" and isinstance(value, list):
            merged[key] = merge_env(current or [], value)
        elif isinstance(value, dict) and isinstance(current, dict):
            merged[key] = merge_specs(current, value)
        elif isinstance(value, list) and not value:
            continue
        else:
            merged[key] = value
    return merged


def merge_env(base: list[dict[str, Any]], override: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By name; an overriding entry replaces the whole base entry and keeps the base's position."""
    merged = {entry["name"]: entry for entry in base}
    for entry in override:
        merged[entry["name"]] = entry
    return list(merged.values())


def _migrated(spec: dict[str, Any]) -> dict[str, Any]:
    """The deprecated top-level storage fields fill `storage.*` when those are unset."""
    legacy = {k: spec[k] for k in ("defaultStorageClassName", "pvcHeadroomPercent") if spec.get(k) is not None}
    if not legacy:
        return spec
    storage = dict(spec.get("storage") or {})
    for key, value in legacy.items():
        storage.setdefault(key, value)
    return {k: v for k, v in spec.items() if k not in legacy} | {"storage": storage}


def runtime_config_component(config: ResolvedRuntimeConfig) -> Component:
    condition = ConditionType.RUNTIME_CONFIG_READY
    if config.missing:
        return Component(
            condition, LifecycleStatus.FAILED, Reason.CONFIG_NOT_FOUND, f"RuntimeConfig {config.name} not found"
        )
    if not config.scope:
        return Component(
            condition, LifecycleStatus.READY, Reason.DEFAULT_CONFIG_NOT_FOUND, "Default config was not found"
        )
    return Component(condition, LifecycleStatus.READY, Reason.CONFIG_FOUND, f"{config.scope} config {config.name}")


def resolved_config(config: ResolvedRuntimeConfig) -> dict[str, Any] | None:
    return {"name": config.name, "scope": config.scope} if config.scope else None

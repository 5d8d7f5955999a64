"""Layered environment and resource merges for the inference container (pure).

Env: each layer overrides earlier ones by name; `AIM_ENGINE_ARGS` holds JSON and is deep-merged
(the higher layer wins per key) instead of replaced, so a service can change one engine argument
without restating the template's. Resources: per resource name, later layers win, requests and
limits separately.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from api.core import EnvVar, ResourceRequirements
from api.objects import wire

ENGINE_ARGS = "AIM_ENGINE_ARGS"


EnvLayer = Sequence[EnvVar | Mapping[str, Any]] | None
"""One layer of environment: typed (an API model's env) or in its wire form."""


def merge_env_layers(layers: Iterable[EnvLayer], by_name: bool = True) -> list[dict[str, Any]]:
    """The merged list (wire form), later layers winning: sorted by name (stable output: no
    spurious updates), or with `by_name=False` in first-seen order, an override keeping the entry's
    place (upstream's MergeEnvVars, for lists that users compare in order, such as a cache's env)."""
    merged: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for item in layer or []:
            entry: Mapping[str, Any] = wire(item)
            name = entry.get("name")
            if not name:
                continue
            previous = merged.get(name)
            if name == ENGINE_ARGS and previous is not None and "value" in entry and "value" in previous:
                entry = {"name": name, "value": merge_engine_args(previous["value"], entry["value"])}
            merged[name] = dict(entry)
    return [merged[name] for name in (sorted(merged) if by_name else merged)]


def merge_engine_args(base: str, override: str) -> str:
    """Deep-merge two JSON objects; if either is not a JSON object the override wins whole."""
    try:
        base_args, override_args = json.loads(base), json.loads(override)
    except (TypeError, ValueError):
        return override
    if not isinstance(base_args, dict) or not isinstance(override_args, dict):
        return override
    return json.dumps(deep_merge(base_args, override_args), sort_keys=True, separators=(",", ":"))


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` over `base`, recursing into objects both have; anything else the override replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def gpu_default_resources(gpu_count: int, gpu_resource: str = "amd.com/gpu") -> dict[str, dict[str, str]]:
    """Per-GPU defaults: 4 CPUs and 32 GiB requested, 48 GiB memory limit, per GPU."""
    if gpu_count <= 0:
        return {}
    return {
        "requests": {"cpu": str(4 * gpu_count), "memory": f"{32 * gpu_count}Gi", gpu_resource: str(gpu_count)},
        "limits": {"memory": f"{48 * gpu_count}Gi", gpu_resource: str(gpu_count)},
    }


def merge_resources(layers: Iterable[ResourceRequirements | Mapping[str, Any] | None]) -> dict[str, dict[str, str]]:
    """Layers typed or in their wire form; quantities as strings."""
    merged: dict[str, dict[str, str]] = {}
    for layer in layers:
        stored: Mapping[str, Any] = wire(layer) or {}
        for part in ("requests", "limits"):
            for name, quantity in (stored.get(part) or {}).items():
                merged.setdefault(part, {})[name] = str(quantity)
    return {part: dict(sorted(values.items())) for part, values in sorted(merged.items())}

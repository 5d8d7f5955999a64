"""Field transforms shared by the kinds that exist in both versions (pure, dict in → dict out)."""

from __future__ import annotations

from typing import Any

from api.conversion.preserved import ABSENT, Parts, Stash, get

V1_ONLY_PRECISION = "auto"
V2_ONLY_PROFILE_TYPE = "general"


def gpu_to_v2(obj: dict[str, Any], gpu_parts: Parts, stash: Stash) -> None:
    """v1 `gpu.model: X` becomes v2 `gpu.models: [X]`."""
    gpu = get(obj, gpu_parts)
    if not isinstance(gpu, dict) or "model" not in gpu:
        return
    model = gpu.pop("model")
    if "models" in gpu:  # both spellings (refused at admission): keep the extra one aside
        stash.record((*gpu_parts, "model"), model, ABSENT)
    else:
        gpu["models"] = [model]
        stash.record((*gpu_parts, "models"), {"key": "model", "value": model}, [model], kind="unwrap")


def hardware_to_v2(obj: dict[str, Any], hardware_parts: Parts, stash: Stash) -> None:
    gpu_to_v2(obj, (*hardware_parts, "gpu"), stash)


def drop_value(obj: dict[str, Any], parts: Parts, unwanted: str, stash: Stash) -> None:
    """Remove a value the target version has no spelling for (`auto`, `general`)."""
    parent = get(obj, parts[:-1])
    key = str(parts[-1])
    if isinstance(parent, dict) and parent.get(key) == unwanted:
        stash.record(parts, parent.pop(key), ABSENT)


def drop_field(obj: dict[str, Any], parts: Parts, stash: Stash) -> None:
    """Remove a field the target version does not have."""
    parent = get(obj, parts[:-1])
    key = str(parts[-1])
    if isinstance(parent, dict) and key in parent:
        stash.record(parts, parent.pop(key), ABSENT)


def each_index(obj: dict[str, Any], list_parts: Parts) -> list[int]:
    items = get(obj, list_parts)
    return list(range(len(items))) if isinstance(items, list) else []

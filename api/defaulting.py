"""Defaults the CRD schema cannot apply because they depend on other fields (pure; used by the
mutating webhook). Applying them twice changes nothing."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

_HF_OR_S3 = re.compile(r"^(hf|s3)://(?P<path>[^@?#]+)")


def apply_defaults(obj: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of `obj` with derived defaults filled in."""
    result = copy.deepcopy(obj)
    spec = result.get("spec")
    defaulter = DEFAULTERS.get(str(result.get("kind")))
    if isinstance(spec, dict) and defaulter is not None:
        defaulter(spec)
    return result


def _artifact_model_id(spec: dict[str, Any]) -> None:
    """hf://Qwen/Qwen3-32B@main and s3://bucket/org/name name their model: Qwen/Qwen3-32B, org/name."""
    if spec.get("modelId") or not isinstance(spec.get("sourceUri"), str):
        return
    match = _HF_OR_S3.match(spec["sourceUri"])
    if not match:
        return
    parts = [p for p in match.group("path").split("/") if p]
    if spec["sourceUri"].startswith("s3://"):
        parts = parts[1:]  # the bucket is not part of the model's name
    if len(parts) >= 2 and all(re.fullmatch(r"[a-zA-Z0-9._-]+", p) for p in parts[-2:]):
        spec["modelId"] = f"{parts[-2]}/{parts[-1]}"


def _custom_model_type(spec: dict[str, Any]) -> None:
    """Templates generated for custom weights are unoptimized unless said otherwise (documented)."""
    if spec.get("modelSources") and not spec.get("aimId"):
        custom = spec.setdefault("custom", {})
        if isinstance(custom, dict):
            custom.setdefault("type", "unoptimized")


def _accelerator_type(spec: dict[str, Any]) -> None:
    if spec.get("acceleratorModel") and "acceleratorType" not in spec:
        spec["acceleratorType"] = "gpu"


DEFAULTERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "AIMArtifact": _artifact_model_id,
    "AIMModel": _custom_model_type,
    "AIMClusterModel": _custom_model_type,
    "AIMProfile": _accelerator_type,
    "AIMClusterProfile": _accelerator_type,
}
"""The kinds whose objects get defaults here, and how: the mutating webhook is registered for
these only (api.admission.MUTATED_RESOURCES), so creating any other kind (an AIMService) costs one
webhook call, not two."""

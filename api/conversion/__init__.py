"""Lossless conversion between aim.eai.amd.com/v1alpha1 and v1alpha2 (hub). Pure functions.

`convert(obj, "aim.eai.amd.com/v1alpha2")` returns a new object; the input is never changed.
Fields the target version cannot express travel in the `conversion.aim.eai.amd.com/preserved`
annotation and come back when converting in the other direction; nothing else in `metadata` is
touched. Kinds that exist in one version only are returned as they are when asked for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api import GROUP
from api.conversion import aimmodel, aimservice
from api.conversion.preserved import Stash, copy_json, put_annotation, restore, take_annotation

V1 = f"{GROUP}/v1alpha1"
V2 = f"{GROUP}/v1alpha2"

Transform = Callable[[dict[str, Any], Stash], None]
TRANSFORMS: dict[str, dict[str, Transform]] = {
    "AIMService": {V2: aimservice.to_v1alpha2, V1: aimservice.to_v1alpha1},
    "AIMModel": {V2: aimmodel.to_v1alpha2, V1: aimmodel.to_v1alpha1},
    "AIMClusterModel": {V2: aimmodel.to_v1alpha2, V1: aimmodel.to_v1alpha1},
}


class ConversionError(ValueError):
    """The object cannot be converted; the message says why (it reaches the client)."""


def convert(obj: dict[str, Any], desired_api_version: str) -> dict[str, Any]:
    kind = obj.get("kind")
    source = obj.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(source, str):
        raise ConversionError("object has no kind or apiVersion")
    if source == desired_api_version:
        unchanged: dict[str, Any] = copy_json(obj)
        return unchanged
    if kind not in TRANSFORMS:
        raise ConversionError(f"{kind} exists only in {source}; cannot convert to {desired_api_version}")
    if desired_api_version not in TRANSFORMS[kind] or source not in TRANSFORMS[kind]:
        raise ConversionError(f"cannot convert {kind} from {source} to {desired_api_version}")
    converted: dict[str, Any] = copy_json(obj)
    try:
        restore(converted, take_annotation(converted))
    except (ValueError, KeyError, TypeError) as error:
        raise ConversionError(f"{kind} {_name(obj)}: unreadable conversion annotation: {error}") from error
    converted["apiVersion"] = desired_api_version
    stash = Stash()
    TRANSFORMS[kind][desired_api_version](converted, stash)
    put_annotation(converted, stash)
    return converted


def _name(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    return f"{metadata.get('namespace', '')}/{metadata.get('name', '')}".lstrip("/")

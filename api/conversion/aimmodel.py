"""AIMModel / AIMClusterModel v1alpha1 ↔ v1alpha2 (docs/api-versions.md)."""

from __future__ import annotations

from typing import Any

from api.conversion.preserved import ABSENT, Stash, get, pointer
from api.conversion.transforms import (
    V1_ONLY_PRECISION,
    V2_ONLY_PROFILE_TYPE,
    drop_field,
    drop_value,
    each_index,
    hardware_to_v2,
)

TEMPLATES = ("spec", "customTemplates")
LEGACY_TEMPLATES = ("spec", "custom", "templates")


def to_v1alpha2(obj: dict[str, Any], stash: Stash) -> None:
    custom = get(obj, ("spec", "custom"))
    moved = False
    if isinstance(custom, dict) and "templates" in custom:
        if get(obj, TEMPLATES) == ABSENT:  # customTemplates not set: move the list
            obj["spec"]["customTemplates"] = custom.pop("templates")
            moved = True
        else:  # both spellings (refused at admission): keep the legacy list aside
            drop_field(obj, LEGACY_TEMPLATES, stash)
    hardware_to_v2(obj, ("spec", "custom", "hardware"), stash)
    for index in each_index(obj, TEMPLATES):
        hardware_to_v2(obj, (*TEMPLATES, index, "hardware"), stash)
        drop_value(obj, (*TEMPLATES, index, "profile", "precision"), V1_ONLY_PRECISION, stash)
    if moved:
        # Recorded last: the check on the way back compares the list as it is now.
        stash.record(TEMPLATES, pointer(LEGACY_TEMPLATES), obj["spec"]["customTemplates"], kind="move")


def to_v1alpha1(obj: dict[str, Any], stash: Stash) -> None:
    drop_value(obj, ("spec", "custom", "type"), V2_ONLY_PROFILE_TYPE, stash)
    for templates in (TEMPLATES, LEGACY_TEMPLATES):
        for index in each_index(obj, templates):
            drop_value(obj, (*templates, index, "type"), V2_ONLY_PROFILE_TYPE, stash)
    for index in each_index(obj, ("spec", "modelSources")):
        drop_field(obj, ("spec", "modelSources", index, "precision"), stash)

"""AIMService v1alpha1 ↔ v1alpha2 (docs/api-versions.md)."""

from __future__ import annotations

from typing import Any

from api.conversion.preserved import Stash, get
from api.conversion.transforms import V1_ONLY_PRECISION, drop_field, drop_value, each_index, hardware_to_v2

LEGACY_CACHING = {"Always": "Shared", "Auto": "Shared", "Never": "Dedicated"}
HARDWARE_PLACES = (("spec", "model", "custom", "hardware"), ("spec", "overrides", "hardware"))


def to_v1alpha2(obj: dict[str, Any], stash: Stash) -> None:
    caching = get(obj, ("spec", "caching"))
    if isinstance(caching, dict) and caching.get("mode") in LEGACY_CACHING:
        original = caching["mode"]
        caching["mode"] = LEGACY_CACHING[original]
        stash.record(("spec", "caching", "mode"), original, caching["mode"])
    drop_field(obj, ("spec", "cacheModel"), stash)
    drop_value(obj, ("spec", "overrides", "precision"), V1_ONLY_PRECISION, stash)
    routing = get(obj, ("spec", "routing"))
    if isinstance(routing, dict) and "routeTemplate" in routing:
        if "pathTemplate" in routing:  # both spellings (refused at admission)
            drop_field(obj, ("spec", "routing", "routeTemplate"), stash)
        else:
            routing["pathTemplate"] = routing.pop("routeTemplate")
            stash.record(("spec", "routing", "pathTemplate"), "routeTemplate", routing["pathTemplate"], kind="rename")
    for place in HARDWARE_PLACES:
        hardware_to_v2(obj, place, stash)


def to_v1alpha1(obj: dict[str, Any], stash: Stash) -> None:
    sources = ("spec", "model", "custom", "modelSources")
    for index in each_index(obj, sources):
        drop_field(obj, (*sources, index, "precision"), stash)

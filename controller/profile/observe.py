"""What the profile reconciler observed (pure data filled by controller.profile.fetch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ProfileObservation:
    profile: dict[str, Any]
    """An AIMProfile or AIMClusterProfile (v1alpha2)."""
    nodes: list[dict[str, Any]] = field(default_factory=list)
    cache: dict[str, Any] | None = None
    """The profile-owned AIMProfileCache (namespaced profiles with caching.enabled)."""

    @property
    def cluster_scoped(self) -> bool:
        return bool(self.profile["kind"] == "AIMClusterProfile")

    def existing(self, kind: str, name: str) -> dict[str, Any] | None:
        if self.cache and self.cache.get("kind") == kind and self.cache["metadata"]["name"] == name:
            return self.cache
        return None

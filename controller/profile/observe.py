"""What the profile reconciler observed (pure data filled by controller.profile.fetch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.v1alpha2.aimprofile import AIMClusterProfile, AnyProfile


@dataclass
class ProfileObservation:
    profile: AnyProfile
    """An AIMProfile or AIMClusterProfile (v1alpha2)."""
    nodes: list[dict[str, Any]] = field(default_factory=list)
    """The cluster's Nodes, as the API server sent them."""
    cache: dict[str, Any] | None = None
    """The profile-owned AIMProfileCache (namespaced profiles with caching enabled): kept as
    stored, because it is compared with the one the plan applies."""

    @property
    def cluster_scoped(self) -> bool:
        return isinstance(self.profile, AIMClusterProfile)

    def existing(self, kind: str, name: str) -> dict[str, Any] | None:
        if self.cache and self.cache.get("kind") == kind and self.cache["metadata"]["name"] == name:
            return self.cache
        return None

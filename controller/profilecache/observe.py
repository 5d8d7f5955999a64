"""What the profile-cache reconciler observed (pure data filled by controller.profilecache.fetch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ProfileCacheObservation:
    cache: dict[str, Any]
    """An AIMProfileCache (v1alpha2)."""
    profile: dict[str, Any] | None
    """The profile named by spec.profileName in spec.profileScope, when it exists."""
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    """Every AIMArtifact in the cache's namespace."""
    namespace_terminating: bool = False

    def existing(self, kind: str, name: str) -> dict[str, Any] | None:
        if kind != "AIMArtifact":
            return None
        return next((a for a in self.artifacts if a["metadata"]["name"] == name), None)

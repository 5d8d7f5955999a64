"""What the profile-set reconciler observed (pure data filled by controller.profileset.fetch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api import labels


@dataclass
class ProfileSetObservation:
    profile_set: dict[str, Any]
    """An AIMProfileSet or AIMClusterProfileSet (v1alpha2)."""
    profiles: list[dict[str, Any]] = field(default_factory=list)
    """The AIMProfiles of the set's namespace (none for a cluster set): sources, and the ones it derived."""
    cluster_profiles: list[dict[str, Any]] = field(default_factory=list)
    """Every AIMClusterProfile: sources, and (for a cluster set) the ones it derived."""

    @property
    def cluster_scoped(self) -> bool:
        return bool(self.profile_set["kind"] == "AIMClusterProfileSet")

    @property
    def derived_kind(self) -> str:
        """What the set derives: profiles of its own scope."""
        return "AIMClusterProfile" if self.cluster_scoped else "AIMProfile"

    def managed(self) -> list[dict[str, Any]]:
        """The profiles this set derived: annotated with its uid or owned by it."""
        uid = self.profile_set["metadata"].get("uid") or ""
        own = self.cluster_profiles if self.cluster_scoped else self.profiles
        return [
            profile
            for profile in own
            if uid
            and (
                ((profile["metadata"].get("annotations") or {}).get(labels.PROFILE_SET_UID) == uid)
                or any(ref.get("uid") == uid for ref in profile["metadata"].get("ownerReferences") or [])
            )
        ]

    def existing(self, kind: str, name: str) -> dict[str, Any] | None:
        if kind != self.derived_kind:
            return None
        return next((p for p in self.managed() if p["metadata"]["name"] == name), None)

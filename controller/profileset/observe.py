"""What the profile-set reconciler observed (pure data filled by controller.profileset.fetch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api import labels
from api.v1alpha2.aimprofile import AnyProfile
from api.v1alpha2.aimprofileset import AIMClusterProfileSet, AnyProfileSet
from controller.pipeline.plan import owned_by


@dataclass
class ProfileSetObservation:
    """The set and the profiles it can see as their API models: the profiles are sources (read
    field by field) and, for the ones the set derived, compared with what the plan applies through
    `existing()`, which gives them as stored."""

    profile_set: AnyProfileSet
    """An AIMProfileSet or AIMClusterProfileSet (v1alpha2)."""
    profiles: list[AnyProfile] = field(default_factory=list)
    """The AIMProfiles of the set's namespace (none for a cluster set): sources, and the ones it derived."""
    cluster_profiles: list[AnyProfile] = field(default_factory=list)
    """Every AIMClusterProfile: sources, and (for a cluster set) the ones it derived."""

    @property
    def cluster_scoped(self) -> bool:
        return isinstance(self.profile_set, AIMClusterProfileSet)

    @property
    def derived_kind(self) -> str:
        """What the set derives: profiles of its own scope."""
        return "AIMClusterProfile" if self.cluster_scoped else "AIMProfile"

    def managed(self) -> list[AnyProfile]:
        """The profiles this set derived: annotated with its uid or owned by it."""
        uid = self.profile_set.uid
        own = self.cluster_profiles if self.cluster_scoped else self.profiles
        return [
            profile
            for profile in own
            if uid and (profile.annotations.get(labels.PROFILE_SET_UID) == uid or owned_by(profile, uid))
        ]

    def existing(self, kind: str, name: str) -> dict[str, Any] | None:
        if kind != self.derived_kind:
            return None
        return next((p.stored for p in self.managed() if p.name == name), None)

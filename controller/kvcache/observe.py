"""What the AIMKVCache reconciler observed (pure data: the fetch step fills it, the planner reads it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.v1alpha1.aimkvcache import AIMKVCache


@dataclass
class KVCacheObservation:
    """The cache as its API model; its StatefulSet and Service as the API server sent them, because
    they are compared with the ones the plan applies."""

    kv_cache: AIMKVCache
    stateful_set: dict[str, Any] | None = None
    """The backend's StatefulSet, None while it does not exist."""
    service: dict[str, Any] | None = None
    """The Service in front of it, None while it does not exist."""

    def existing(self, kind: str, name: str) -> dict[str, Any] | None:
        """The observed object a planned one would replace (None when it does not exist yet)."""
        found = {"StatefulSet": self.stateful_set, "Service": self.service}.get(kind)
        return found if found and found["metadata"]["name"] == name else None

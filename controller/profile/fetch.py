"""Fetch step of the profile reconciler (edge layer): the nodes, and the profile-owned cache."""

from __future__ import annotations

from typing import Any

from api import labels
from controller.kube.client import Kube
from controller.profile.observe import ProfileObservation


def fetch_profile(kube: Kube, profile: dict[str, Any]) -> ProfileObservation:
    observed = ProfileObservation(profile=profile, nodes=kube.list("v1", "Node"))
    if not observed.cluster_scoped and ((profile.get("spec") or {}).get("caching") or {}).get("enabled"):
        metadata = profile["metadata"]
        observed.cache = kube.get(labels.V1ALPHA2, "AIMProfileCache", metadata["name"], metadata["namespace"])
    return observed

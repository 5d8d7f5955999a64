"""Fetch step of the profile-cache reconciler (edge layer)."""

from __future__ import annotations

from typing import Any

from controller.kube.client import Kube
from controller.profilecache.observe import ProfileCacheObservation

V1 = "aim.eai.amd.com/v1alpha1"
V2 = "aim.eai.amd.com/v1alpha2"


def fetch_profile_cache(kube: Kube, cache: dict[str, Any]) -> ProfileCacheObservation:
    namespace = cache["metadata"]["namespace"]
    spec = cache.get("spec") or {}
    name = spec.get("profileName", "")
    if spec.get("profileScope") == "Cluster":
        profile = kube.get(V2, "AIMClusterProfile", name)
    else:
        profile = kube.get(V2, "AIMProfile", name, namespace)
    deleting = bool(cache["metadata"].get("deletionTimestamp"))
    return ProfileCacheObservation(
        cache=cache,
        profile=profile,
        artifacts=kube.list(V1, "AIMArtifact", namespace),
        namespace_terminating=deleting and kube.namespace_terminating(namespace),
    )

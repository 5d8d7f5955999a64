"""Fetch step of the profile-cache reconciler (edge layer)."""

from __future__ import annotations

from typing import Any

from api import labels
from controller.common.caching import CacheObservation
from controller.kube.caches import fetch_cache
from controller.kube.client import Kube

PROFILE_KINDS = ("AIMProfile", "AIMClusterProfile")


def fetch_profile_cache(kube: Kube, cache: dict[str, Any]) -> CacheObservation:
    return fetch_cache(kube, cache, labels.V1ALPHA2, PROFILE_KINDS, "profileName", "profileScope")

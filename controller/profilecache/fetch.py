"""Fetch step of the profile-cache reconciler (edge layer)."""

from __future__ import annotations

from typing import Any

from api import labels
from api.stored import read_profile, read_profile_cache
from controller.kube.caches import fetch_cache
from controller.kube.client import Kube
from controller.profilecache.plan import ProfileCacheObservation

PROFILE_KINDS = ("AIMProfile", "AIMClusterProfile")


def fetch_profile_cache(kube: Kube, stored: dict[str, Any]) -> ProfileCacheObservation:
    return fetch_cache(
        kube, stored, read_profile_cache, read_profile, labels.V1ALPHA2, PROFILE_KINDS, ("profileName", "profileScope")
    )

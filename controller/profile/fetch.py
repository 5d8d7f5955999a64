"""Fetch step of the profile reconciler (edge layer): the nodes, and the profile-owned cache."""

from __future__ import annotations

from typing import Any

from api import labels
from api.stored import read_profile
from api.v1alpha2.aimprofile import AIMProfile
from controller.kube.client import Kube
from controller.profile.observe import ProfileObservation


def fetch_profile(kube: Kube, stored: dict[str, Any]) -> ProfileObservation:
    profile = read_profile(stored)
    observed = ProfileObservation(profile=profile, nodes=kube.list("v1", "Node"))
    if isinstance(profile, AIMProfile) and profile.spec.caching and profile.spec.caching.enabled:
        observed.cache = kube.get(labels.V1ALPHA2, "AIMProfileCache", profile.name, profile.namespace)
    return observed

"""Fetch step of the profile-set reconciler (edge layer): the profiles a set can see. A namespaced
set sees its namespace's AIMProfiles and every AIMClusterProfile, a cluster set the cluster's only;
the planner picks the sources and the set's own derived profiles out of them (reads come from the
controller's in-memory store)."""

from __future__ import annotations

from typing import Any

from api import labels
from api.stored import read_profile, read_profile_set
from controller.kube.client import Kube
from controller.profileset.observe import ProfileSetObservation


def fetch_profile_set(kube: Kube, stored: dict[str, Any]) -> ProfileSetObservation:
    observed = ProfileSetObservation(profile_set=read_profile_set(stored))
    if not observed.cluster_scoped:
        found = kube.list(labels.V1ALPHA2, "AIMProfile", observed.profile_set.namespace)
        observed.profiles = [read_profile(profile) for profile in found]
    observed.cluster_profiles = [read_profile(profile) for profile in kube.list(labels.V1ALPHA2, "AIMClusterProfile")]
    return observed

"""Fetch step of the template-cache reconciler (edge layer)."""

from __future__ import annotations

from typing import Any

from api import labels
from controller.common.caching import CacheObservation
from controller.kube.caches import fetch_cache
from controller.kube.client import Kube

TEMPLATE_KINDS = ("AIMServiceTemplate", "AIMClusterServiceTemplate")


def fetch_template_cache(kube: Kube, cache: dict[str, Any]) -> CacheObservation:
    return fetch_cache(kube, cache, labels.V1ALPHA1, TEMPLATE_KINDS, "templateName", "templateScope")

"""Fetch step of the template-cache reconciler (edge layer)."""

from __future__ import annotations

from typing import Any

from api import labels
from api.stored import read_template, read_template_cache
from controller.cache.plan import TemplateCacheObservation
from controller.kube.caches import fetch_cache
from controller.kube.client import Kube

TEMPLATE_KINDS = ("AIMServiceTemplate", "AIMClusterServiceTemplate")


def fetch_template_cache(kube: Kube, stored: dict[str, Any]) -> TemplateCacheObservation:
    return fetch_cache(
        kube,
        stored,
        read_template_cache,
        read_template,
        labels.V1ALPHA1,
        TEMPLATE_KINDS,
        ("templateName", "templateScope"),
    )

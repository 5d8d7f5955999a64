"""Fetch step of the template-cache reconciler (edge layer)."""

from __future__ import annotations

from typing import Any

from controller.cache.observe import CacheObservation
from controller.kube.client import Kube

V1 = "aim.eai.amd.com/v1alpha1"


def fetch_template_cache(kube: Kube, cache: dict[str, Any]) -> CacheObservation:
    namespace = cache["metadata"]["namespace"]
    spec = cache.get("spec") or {}
    name = spec.get("templateName", "")
    if spec.get("templateScope") == "Cluster":
        template = kube.get(V1, "AIMClusterServiceTemplate", name)
    else:
        template = kube.get(V1, "AIMServiceTemplate", name, namespace)
    deleting = bool(cache["metadata"].get("deletionTimestamp"))
    return CacheObservation(
        cache=cache,
        template=template,
        artifacts=kube.list(V1, "AIMArtifact", namespace),
        namespace_terminating=deleting and kube.namespace_terminating(namespace),
    )

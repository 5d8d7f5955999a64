"""Reads a template or profile cache's reconcile needs (edge): the object whose model sources it
holds, in the scope its spec names, and the artifacts of its namespace."""

from __future__ import annotations

from typing import Any

from api import labels
from controller.common.caching import CacheObservation
from controller.kube.client import Kube


def fetch_cache(
    kube: Kube, cache: dict[str, Any], api_version: str, kinds: tuple[str, str], name_field: str, scope_field: str
) -> CacheObservation:
    """`kinds` is (namespaced kind, cluster kind) of the source; `name_field` and `scope_field`
    the spec fields naming it and its scope ("Cluster" or the namespace)."""
    namespace = cache["metadata"]["namespace"]
    spec = cache.get("spec") or {}
    name = spec.get(name_field, "")
    if spec.get(scope_field) == "Cluster":
        source = kube.get(api_version, kinds[1], name)
    else:
        source = kube.get(api_version, kinds[0], name, namespace)
    deleting = bool(cache["metadata"].get("deletionTimestamp"))
    return CacheObservation(
        cache=cache,
        source=source,
        artifacts=kube.list(labels.V1ALPHA1, "AIMArtifact", namespace),
        namespace_terminating=deleting and kube.namespace_terminating(namespace),
    )

"""Reads a template or profile cache's reconcile needs (edge): the object whose model sources it
holds, in the scope its spec names, and the artifacts of its namespace, as the API models; the
services of its namespace while it could be abandoned (controller.common.caching.abandoned)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from api import labels
from api.stored import read_artifact
from controller.common.caching import CacheObservation, CacheT, SourceT, may_be_abandoned, service_use
from controller.kube.client import Kube


def fetch_cache(
    kube: Kube,
    stored: dict[str, Any],
    read_cache: Callable[[Mapping[str, Any]], CacheT],
    read_source: Callable[[Mapping[str, Any]], SourceT],
    api_version: str,
    kinds: tuple[str, str],
    source_fields: tuple[str, str],
) -> CacheObservation[CacheT, SourceT]:
    """`kinds` is (namespaced kind, cluster kind) of the source; `source_fields` the spec fields
    naming it and its scope ("Cluster" or the namespace)."""
    cache = read_cache(stored)
    spec = cache.stored["spec"]
    name, scope = spec[source_fields[0]], spec[source_fields[1]]
    if scope == "Cluster":
        source = kube.get(api_version, kinds[1], name)
    else:
        source = kube.get(api_version, kinds[0], name, cache.namespace)
    deleting = bool(cache.metadata.get("deletionTimestamp"))
    return CacheObservation(
        cache=cache,
        source=None if source is None else read_source(source),
        artifacts=[read_artifact(a) for a in kube.list(labels.V1ALPHA1, "AIMArtifact", cache.namespace)],
        namespace_terminating=deleting and kube.namespace_terminating(cache.namespace),
        # A few fields of each service (from memory), and only while the cache could be abandoned:
        # a Ready cache, most of the time, reads none.
        services=(
            kube.list_read(labels.V1ALPHA2, "AIMService", service_use, cache.namespace)
            if may_be_abandoned(cache)
            else None
        ),
    )

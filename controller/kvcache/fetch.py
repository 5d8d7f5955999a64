"""Fetch step of the AIMKVCache reconciler (edge layer): the backend's StatefulSet and Service, by
the names the planner gives them."""

from __future__ import annotations

from typing import Any

from api.stored import read_kv_cache
from controller.kube.client import Kube
from controller.kvcache.observe import KVCacheObservation
from controller.kvcache.plan import backend_names


def fetch_kv_cache(kube: Kube, stored: dict[str, Any]) -> KVCacheObservation:
    kv_cache = read_kv_cache(stored)
    stateful_set, service = backend_names(kv_cache)
    return KVCacheObservation(
        kv_cache=kv_cache,
        stateful_set=kube.get("apps/v1", "StatefulSet", stateful_set, kv_cache.namespace),
        service=kube.get("v1", "Service", service, kv_cache.namespace),
    )

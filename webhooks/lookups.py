"""Existence checks for referenced objects (edge layer: reads the API server).

A reference that cannot be checked (API server slow or unreachable) yields no warning: warnings
are advice, and admission must not wait or fail on them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from api import GROUP
from api.registry import CRDS
from api.validation import Reference

_PLURALS = {crd.names.kind: (crd.names.plural, crd.scope, crd.versions[-1].name) for crd in CRDS}


class ReferenceChecker:
    def __init__(self, exists: Callable[[str, str, str | None], bool | None], ttl: float = 2.0):
        self._exists = exists
        self._ttl = ttl
        self._cache: dict[tuple[str, str, str | None], tuple[float, bool | None]] = {}
        self._lock = threading.Lock()

    def missing(self, references: list[Reference]) -> list[str]:
        warnings = []
        for ref in references:
            found = [self._cached(kind, ref.name, ref.namespace) for kind in ref.kinds]
            if any(f is None for f in found) or any(found):
                continue
            where = " or ".join(ref.kinds)
            warnings.append(f"{ref.path}: no {where} named {ref.name!r} exists yet; the object waits until it does")
        return warnings

    def missing_from_cache(self, references: list[Reference]) -> list[str] | None:
        """Like `missing`, answered from fresh cache entries only; None when any lookup is needed
        (the caller then runs `missing` off the event loop)."""
        now = time.monotonic()
        with self._lock:
            for ref in references:
                for kind in ref.kinds:
                    hit = self._cache.get((kind, ref.name, ref.namespace))
                    if not hit or now - hit[0] >= self._ttl:
                        return None
        return self.missing(references)

    def _cached(self, kind: str, name: str, namespace: str | None) -> bool | None:
        key = (kind, name, namespace)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit and now - hit[0] < self._ttl:
                return hit[1]
        result = self._exists(kind, name, namespace)
        with self._lock:
            self._cache[key] = (now, result)
        return result


def kubernetes_exists() -> Callable[[str, str, str | None], bool | None]:
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    api = client.CustomObjectsApi()

    def exists(kind: str, name: str, namespace: str | None) -> bool | None:
        plural, scope, version = _PLURALS[kind]
        try:
            if scope == "Cluster":
                api.get_cluster_custom_object(GROUP, version, plural, name, _request_timeout=1)
            elif namespace:
                api.get_namespaced_custom_object(GROUP, version, namespace, plural, name, _request_timeout=1)
            else:
                return False
        except ApiException as error:
            return False if error.status == 404 else None
        except Exception:  # timeouts, connection errors: unknown, never a false warning
            return None
        return True

    return exists

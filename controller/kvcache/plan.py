"""AIMKVCache: the cache in; its backend (a Redis StatefulSet with a volume and a Service) and its
status out (pure). Upstream: internal/aimkvcache.

The backend is one replica (`OrderedReady`), its volume from a claim template (`redis-data` at
/data, kept when scaled down, deleted with the StatefulSet), Redis with an append-only file and a
snapshot every minute with a change, a TCP liveness and a `redis-cli ping` readiness probe, 1 CPU
and 1Gi of memory unless the spec says otherwise — all as upstream — and protected mode off, which
upstream misses. The cache is Ready when the StatefulSet's replicas are Ready and the Service
exists; `status.endpoint` is `redis://<service>.<namespace>:6379`.
"""

from __future__ import annotations

from typing import Any

from api import labels
from api.conditions import ConditionType, Reason
from api.naming import kv_cache_service_name, kv_cache_stateful_set_name, name_label_value
from api.objects import wire
from api.v1alpha1.aimkvcache import (
    DEFAULT_ACCESS_MODES,
    DEFAULT_IMAGES,
    DEFAULT_STORAGE_SIZE,
    REDIS_PORT,
    AIMKVCache,
    KVCacheType,
)
from api.v1alpha1.common import LifecycleStatus
from controller.kvcache.observe import KVCacheObservation
from controller.pipeline.components import Component, component_status
from controller.pipeline.objects import child_labels, managed, manifest
from controller.pipeline.plan import Plan

DATA_VOLUME = "redis-data"
DEFAULT_RESOURCES = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
REDIS_COMMAND = [
    "redis-server",
    "--appendonly",
    "yes",
    "--save",
    "60",
    "1",
    "--loglevel",
    "notice",
    # Without a configuration file or a password Redis answers only loopback clients ("DENIED Redis
    # is running in protected mode"), and `command` bypasses the official image's entrypoint that
    # turns this off: upstream's command leaves the engines in other pods refused.
    "--protected-mode",
    "no",
]


def backend(kv_cache: AIMKVCache) -> str:
    return str(kv_cache.spec.kv_cache_type)


def backend_names(kv_cache: AIMKVCache) -> tuple[str, str]:
    """(StatefulSet, Service) names of the cache's backend."""
    name, namespace, kind = kv_cache.name, kv_cache.namespace, backend(kv_cache)
    return kv_cache_stateful_set_name(name, namespace, kind), kv_cache_service_name(name, namespace, kind)


def endpoint(kv_cache: AIMKVCache) -> str:
    return f"redis://{backend_names(kv_cache)[1]}.{kv_cache.namespace}:{REDIS_PORT}"


def storage_size(kv_cache: AIMKVCache) -> str:
    storage = kv_cache.spec.storage
    return str((storage.size if storage else None) or DEFAULT_STORAGE_SIZE)


def selector(kv_cache: AIMKVCache) -> dict[str, str]:
    """The pods' labels the Service and StatefulSet select (fixed for the cache's life)."""
    return {
        labels.COMPONENT: labels.COMPONENT_KV_CACHE,
        labels.OWNER_NAME["AIMKVCache"]: name_label_value(kv_cache.name),
    }


def plan_service(kv_cache: AIMKVCache) -> dict[str, Any]:
    port = {"name": "redis", "port": REDIS_PORT, "targetPort": REDIS_PORT, "protocol": "TCP"}
    return manifest(
        "v1",
        "Service",
        backend_names(kv_cache)[1],
        kv_cache.namespace,
        object_labels=child_labels(kv_cache, managed(selector(kv_cache))),
        owner=kv_cache,
        spec={"selector": selector(kv_cache), "ports": [port]},
    )


def plan_stateful_set(kv_cache: AIMKVCache) -> dict[str, Any]:
    spec = kv_cache.spec
    storage = spec.storage
    claim_spec: dict[str, Any] = {
        "accessModes": list((storage.access_modes if storage else None) or DEFAULT_ACCESS_MODES),
        "resources": {"requests": {"storage": storage_size(kv_cache)}},
    }
    if storage and storage.storage_class_name:
        claim_spec["storageClassName"] = storage.storage_class_name
    container: dict[str, Any] = {
        "name": "redis",
        "image": spec.image or DEFAULT_IMAGES[KVCacheType.REDIS],
        "command": REDIS_COMMAND,
        "resources": wire(spec.resources) or DEFAULT_RESOURCES,
        "ports": [{"name": "redis", "containerPort": REDIS_PORT, "protocol": "TCP"}],
        "volumeMounts": [{"name": DATA_VOLUME, "mountPath": "/data"}],
        "livenessProbe": {
            "tcpSocket": {"port": REDIS_PORT},
            "initialDelaySeconds": 30,
            "periodSeconds": 10,
            "timeoutSeconds": 5,
            "failureThreshold": 3,
        },
        "readinessProbe": {
            "exec": {"command": ["redis-cli", "ping"]},
            "initialDelaySeconds": 5,
            "periodSeconds": 5,
            "timeoutSeconds": 3,
            "failureThreshold": 3,
        },
    }
    if spec.env:
        container["env"] = wire(spec.env)
    pod_labels = managed(selector(kv_cache))
    return manifest(
        "apps/v1",
        "StatefulSet",
        backend_names(kv_cache)[0],
        kv_cache.namespace,
        object_labels=child_labels(kv_cache, managed(selector(kv_cache))),
        owner=kv_cache,
        spec={
            "replicas": 1,
            "serviceName": backend_names(kv_cache)[1],
            "selector": {"matchLabels": selector(kv_cache)},
            "podManagementPolicy": "OrderedReady",
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"},
            "template": {"metadata": {"labels": pod_labels}, "spec": {"containers": [container]}},
            "volumeClaimTemplates": [{"metadata": {"name": DATA_VOLUME}, "spec": claim_spec}],
        },
    )


def stateful_set_component(stateful_set: dict[str, Any] | None) -> tuple[Component, int, int]:
    """StatefulSetReady, and the (replicas, ready replicas) the StatefulSet (as the API server sent
    it) reports."""
    condition = ConditionType.STATEFUL_SET_READY
    if stateful_set is None:
        message = "creating the StatefulSet"
        return Component(condition, LifecycleStatus.PENDING, Reason.STATEFUL_SET_PENDING, message), 0, 0
    replicas = int((stateful_set.get("spec") or {}).get("replicas", 1))
    ready = int((stateful_set.get("status") or {}).get("readyReplicas") or 0)
    name = stateful_set["metadata"]["name"]
    if ready >= replicas:
        message = f"StatefulSet {name}: {ready}/{replicas} replicas Ready"
        return Component(condition, LifecycleStatus.READY, Reason.STATEFUL_SET_READY, message), replicas, ready
    message = f"StatefulSet {name}: waiting for pods, {ready}/{replicas} replicas Ready"
    return Component(condition, LifecycleStatus.PROGRESSING, Reason.WAITING_FOR_PODS, message), replicas, ready


def service_component(service: dict[str, Any] | None, name: str) -> Component:
    condition = ConditionType.SERVICE_READY
    if service is None:
        return Component(condition, LifecycleStatus.PENDING, Reason.SERVICE_PENDING, f"creating Service {name}")
    return Component(condition, LifecycleStatus.READY, Reason.SERVICE_CREATED, f"Service {name}")


def plan_kv_cache(observed: KVCacheObservation, now: str) -> Plan:
    kv_cache = observed.kv_cache
    stateful_set_name, service_name = backend_names(kv_cache)
    stateful_set, replicas, ready = stateful_set_component(observed.stateful_set)
    components = [stateful_set, service_component(observed.service, service_name)]
    extra = {
        "statefulSetName": stateful_set_name,
        "serviceName": service_name,
        "endpoint": endpoint(kv_cache),
        "replicas": replicas,
        "readyReplicas": ready,
        "storageSize": storage_size(kv_cache),
    }
    plan = Plan(apply=[plan_service(kv_cache), plan_stateful_set(kv_cache)])
    plan.status = component_status(kv_cache, components, now, extra)
    return plan

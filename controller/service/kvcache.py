"""An AIMService's KV cache (pure): spec.kvCache and the AIMKVCache it names in; the AIMKVCache to
create, the LMCache ConfigMap, the `KVCacheReady` component and what the InferenceService mounts out.

As upstream: the cache is `spec.kvCache.name`, else `kvcache-<namespace>` (one per namespace, shared
by the services that use it); a missing one is created from the service's kvCache fields, labelled
auto-generated and owned by no one (other services may use it); an existing one is used as it is.
Once it is Ready, the service's LMCache file (`lmcache_config.yaml` in a ConfigMap the service
owns) points at its endpoint. Unlike upstream, the InferenceService waits for the cache to be
Ready (an engine started without its LMCache file would only need a rollout later), and
`{SERVICE_URL}` in a custom file becomes host:port, so upstream's own example
(`remote_url: "redis://{SERVICE_URL}"`) gives one scheme, not two.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from api import labels
from api.conditions import ConditionType, Reason
from api.naming import default_kv_cache_name, lmcache_config_map_name
from api.objects import wire
from api.v1alpha1.aimkvcache import AIMKVCache, ServiceKVCache
from api.v1alpha1.aimservice import ServiceStatusValue
from api.v1alpha1.common import LifecycleStatus
from api.v1alpha2.aimservice import AIMService
from controller.common.merge import merge_env_layers
from controller.pipeline.components import Component
from controller.pipeline.objects import child_labels, managed, manifest, with_present
from controller.service.common import condition_message, predictor_volume

LMCACHE_FILE = "lmcache_config.yaml"
LMCACHE_VOLUME = "lmcache-config"
LMCACHE_MOUNT = "/workspace/lmcache"
SERVICE_URL_PLACEHOLDER = "{SERVICE_URL}"
KV_TRANSFER_CONFIG = json.dumps({"kv_connector": "LMCacheConnectorV1", "kv_role": "kv_both"}, separators=(",", ":"))
"""vLLM's `--kv-transfer-config` for LMCache: the engine stores and loads KV blocks through it."""


@dataclass
class KVCacheUse:
    """What a service's kvCache adds to its plan."""

    component: Component
    apply: list[dict[str, Any]] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    config_map: str | None = None
    """The LMCache ConfigMap to mount, once the cache is Ready."""


def kv_cache_name(service: AIMService) -> str | None:
    """The AIMKVCache the service uses, or None without spec.kvCache."""
    kv_cache = service.spec.kv_cache
    if kv_cache is None:
        return None
    return kv_cache.name or default_kv_cache_name(service.namespace)


def plan_kv_cache_use(service: AIMService, kv_cache: AIMKVCache | None) -> KVCacheUse | None:
    name = kv_cache_name(service)
    if name is None:
        return None
    condition = ConditionType.KV_CACHE_READY
    if kv_cache is None:
        message = f"creating AIMKVCache {name}"
        component = Component(condition, ServiceStatusValue.STARTING, Reason.WAITING_FOR_KV_CACHE, message)
        return KVCacheUse(component, apply=[plan_kv_cache(service, name)])
    resolved = {"name": name, "kind": "AIMKVCache", "namespace": kv_cache.namespace, "uid": kv_cache.uid}
    resolved = {k: v for k, v in resolved.items() if v}
    state = kv_cache.status.status if kv_cache.status is not None else LifecycleStatus.PENDING
    endpoint = kv_cache.status.endpoint if kv_cache.status is not None else None
    if state == LifecycleStatus.READY and endpoint:
        message = f"AIMKVCache {name} at {endpoint}"
        component = Component(condition, ServiceStatusValue.RUNNING, Reason.KV_CACHE_READY, message)
        config_map = plan_lmcache_config_map(service, endpoint)
        return KVCacheUse(component, [config_map], {"resolvedKVCache": resolved}, config_map["metadata"]["name"])
    conditions = kv_cache.status.conditions if kv_cache.status is not None else None
    detail = condition_message(conditions, ConditionType.READY) or state
    if state in (LifecycleStatus.FAILED, LifecycleStatus.DEGRADED):
        message = f"AIMKVCache {name} is {state}: {detail}"
        component = Component(condition, ServiceStatusValue.FAILED, Reason.KV_CACHE_FAILED, message)
    else:
        message = f"AIMKVCache {name} is {state}: {detail}"
        component = Component(condition, ServiceStatusValue.STARTING, Reason.KV_CACHE_PROGRESSING, message)
    return KVCacheUse(component, status={"resolvedKVCache": resolved})


def plan_kv_cache(service: AIMService, name: str) -> dict[str, Any]:
    """A new AIMKVCache from the service's kvCache fields. Owned by no one: services of the
    namespace share it by name (upstream's choice); it stays when the service goes."""
    kv_cache = service.spec.kv_cache or ServiceKVCache()
    spec = with_present(
        {"kvCacheType": kv_cache.type.value},
        image=kv_cache.image,
        env=wire(kv_cache.env),
        storage=wire(kv_cache.storage),
        resources=wire(kv_cache.resources),
    )
    return manifest(
        labels.V1ALPHA1,
        "AIMKVCache",
        name,
        service.namespace,
        object_labels=managed({labels.ORIGIN: labels.ORIGIN_AUTO_GENERATED}),
        spec=spec,
    )


def lmcache_config(service: AIMService, endpoint: str) -> str:
    """The service's LMCache file: its own with `{SERVICE_URL}` as host:port, else the cache as
    LMCache's remote backend with a small local CPU tier (upstream's defaults)."""
    kv_cache = service.spec.kv_cache
    custom = kv_cache.lm_cache_config if kv_cache is not None else None
    host_port = endpoint.split("://", 1)[-1]
    if custom:
        return str(custom).replace(SERVICE_URL_PLACEHOLDER, host_port)
    return (
        "local_cpu: true\n"
        "chunk_size: 50\n"
        "max_local_cpu_size: 1.0\n"
        f"remote_url: {json.dumps(endpoint)}\n"
        'remote_serde: "naive"\n'
    )


def plan_lmcache_config_map(service: AIMService, endpoint: str) -> dict[str, Any]:
    return manifest(
        "v1",
        "ConfigMap",
        lmcache_config_map_name(service.name, service.namespace),
        service.namespace,
        object_labels=child_labels(service, managed({labels.COMPONENT: labels.COMPONENT_KV_CACHE})),
        owner=service,
        data={LMCACHE_FILE: lmcache_config(service, endpoint)},
    )


def lmcache_volume(isvc: dict[str, Any] | None) -> str | None:
    """The LMCache ConfigMap an InferenceService already mounts (kept while its cache is not Ready)."""
    return (predictor_volume(isvc, LMCACHE_VOLUME).get("configMap") or {}).get("name")


def mount_lmcache(isvc: dict[str, Any], config_map: str) -> None:
    """The LMCache file mounted read-only, LMCACHE_CONFIG_FILE naming it, and vLLM's
    kv-transfer-config in AIM_ENGINE_ARGS (deep-merged: the service's own engine args win)."""
    predictor = isvc["spec"]["predictor"]
    predictor["volumes"] = [*predictor.get("volumes", []), {"name": LMCACHE_VOLUME, "configMap": {"name": config_map}}]
    container = predictor["containers"][0]
    mount = {"name": LMCACHE_VOLUME, "mountPath": LMCACHE_MOUNT, "readOnly": True}
    container["volumeMounts"] = [*container.get("volumeMounts", []), mount]
    lmcache_env = [
        {"name": "LMCACHE_CONFIG_FILE", "value": f"{LMCACHE_MOUNT}/{LMCACHE_FILE}"},
        {"name": "AIM_ENGINE_ARGS", "value": json.dumps({"kv-transfer-config": KV_TRANSFER_CONFIG})},
    ]
    container["env"] = merge_env_layers([lmcache_env, container.get("env")])

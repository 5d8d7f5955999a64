"""AIMKVCache's backend and status (controller.kvcache.plan) and an AIMService's use of a KV cache
(controller.service.kvcache): tables of cases, no API server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.stored import read_kv_cache, read_service
from api.v1alpha2.aimservice import AIMService
from controller.kvcache.observe import KVCacheObservation
from controller.kvcache.plan import plan_kv_cache
from controller.service.kvcache import (
    LMCACHE_VOLUME,
    kv_cache_name,
    lmcache_config,
    mount_lmcache,
    plan_kv_cache_use,
)
from tests.builders import applied_kind, conditions, status_of

NOW = "2026-12-07T10:00:00Z"


def kv_cache(name: str = "shared", status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    metadata = {"name": name, "namespace": "team", "uid": "kvc-uid", "generation": 1}
    return {"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMKVCache", "metadata": metadata} | {
        "spec": {"kvCacheType": "redis", **spec},
        **({"status": status} if status else {}),
    }


def observe(
    kv: dict[str, Any], sts: dict[str, Any] | None = None, service: dict[str, Any] | None = None
) -> KVCacheObservation:
    """The observation of `kv` (a dict as the API server sends it, read as the fetch step does)."""
    return KVCacheObservation(read_kv_cache(kv), sts, service)


def stateful_set(replicas: int = 1, ready: int = 0) -> dict[str, Any]:
    return {"metadata": {"name": "sts"}, "spec": {"replicas": replicas}, "status": {"readyReplicas": ready}}


@pytest.mark.parametrize(
    ("sts", "service", "state", "reasons"),
    [
        pytest.param(None, None, "Pending", ("StatefulSetPending", "ServicePending"), id="nothing-yet"),
        pytest.param(stateful_set(), {"metadata": {}}, "Progressing", ("WaitingForPods", "ServiceCreated"), id="pods"),
        pytest.param(stateful_set(ready=1), None, "Pending", ("StatefulSetReady", "ServicePending"), id="no-service"),
        pytest.param(
            stateful_set(ready=1), {"metadata": {}}, "Ready", ("StatefulSetReady", "ServiceCreated"), id="ready"
        ),
    ],
)
def test_kv_cache_status_follows_its_statefulset_and_service(
    sts: dict[str, Any] | None, service: dict[str, Any] | None, state: str, reasons: tuple[str, str]
) -> None:
    status = status_of(plan_kv_cache(observe(kv_cache(), sts, service), NOW))
    assert status["status"] == state
    found = conditions(status)
    assert (found["StatefulSetReady"][1], found["ServiceReady"][1]) == reasons
    assert found["Ready"][0] == ("True" if state == "Ready" else "False")
    assert status["endpoint"] == f"redis://{status['serviceName']}.team:6379"
    assert status["storageSize"] == "1Gi"
    assert status["readyReplicas"] == (sts or {}).get("status", {}).get("readyReplicas", 0)


def test_kv_cache_backend_is_upstreams_redis_statefulset() -> None:
    plan = plan_kv_cache(observe(kv_cache()), NOW)
    sts, service = applied_kind(plan, "StatefulSet"), applied_kind(plan, "Service")
    spec = sts["spec"]
    [container] = spec["template"]["spec"]["containers"]
    assert container["image"] == "redis:7.2.4"
    assert container["command"][:3] == ["redis-server", "--appendonly", "yes"]
    assert container["command"][-2:] == ["--protected-mode", "no"], "engines in other pods may connect"
    assert container["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
    assert container["readinessProbe"]["exec"]["command"] == ["redis-cli", "ping"]
    assert spec["volumeClaimTemplates"][0]["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}},
    }
    assert spec["serviceName"] == service["metadata"]["name"]
    assert spec["selector"]["matchLabels"] == service["spec"]["selector"]
    assert service["spec"]["selector"].items() <= spec["template"]["metadata"]["labels"].items()
    assert sts["metadata"]["ownerReferences"][0]["uid"] == "kvc-uid"
    assert sts["metadata"]["labels"]["aim.eai.amd.com/kvcache.name"] == "shared"
    assert len(sts["metadata"]["name"]) <= 52


def test_kv_cache_spec_reaches_the_backend() -> None:
    storage = {"size": "5Gi", "storageClassName": "fast", "accessModes": ["ReadWriteMany"]}
    resources = {"requests": {"cpu": "100m", "memory": "64Mi"}}
    env = [{"name": "REDIS_ARGS", "value": "--maxmemory 64mb"}]
    plan = plan_kv_cache(observe(kv_cache(image="r:1", storage=storage, resources=resources, env=env)), NOW)
    spec = applied_kind(plan, "StatefulSet")["spec"]
    container = spec["template"]["spec"]["containers"][0]
    assert (container["image"], container["resources"], container["env"]) == ("r:1", resources, env)
    claim = spec["volumeClaimTemplates"][0]["spec"]
    assert claim == {
        "accessModes": ["ReadWriteMany"],
        "resources": {"requests": {"storage": "5Gi"}},
        "storageClassName": "fast",
    }
    assert status_of(plan)["storageSize"] == "5Gi"


def service(kv: dict[str, Any] | None = None) -> AIMService:
    """An AIMService as the API server sends it, read as the service's fetch step reads it."""
    metadata = {"name": "chat", "namespace": "team", "uid": "svc-uid"}
    spec: dict[str, Any] = {"model": {"name": "m"}}
    if kv is not None:
        spec["kvCache"] = kv
    return read_service(
        {"apiVersion": "aim.eai.amd.com/v1alpha2", "kind": "AIMService", "metadata": metadata, "spec": spec}
    )


READY = {"status": "Ready", "endpoint": "redis://shared-redis-svc-1.team:6379", "conditions": []}


@pytest.mark.parametrize(
    ("kv", "existing", "expected"),
    [
        pytest.param(None, None, None, id="not-requested"),
        pytest.param({}, None, ("Starting", "WaitingForKVCache", ["AIMKVCache"]), id="created-with-default-name"),
        pytest.param(
            {"name": "shared"},
            kv_cache(status={"status": "Progressing"}),
            ("Starting", "KVCacheProgressing", []),
            id="progressing",
        ),
        pytest.param(
            {"name": "shared"}, kv_cache(status={"status": "Failed"}), ("Failed", "KVCacheFailed", []), id="failed"
        ),
        pytest.param(
            {"name": "shared"}, kv_cache(status=READY), ("Running", "KVCacheReady", ["ConfigMap"]), id="ready"
        ),
    ],
)
def test_service_kv_cache_component(
    kv: dict[str, Any] | None, existing: dict[str, Any] | None, expected: tuple[str, str, list[str]] | None
) -> None:
    use = plan_kv_cache_use(service(kv), read_kv_cache(existing) if existing is not None else None)
    if expected is None:
        assert use is None
        return
    assert use is not None
    assert (use.component.state, use.component.reason, [o["kind"] for o in use.apply]) == expected
    if existing is None:
        created = use.apply[0]
        assert created["metadata"]["name"] == "kvcache-team"
        assert "ownerReferences" not in created["metadata"], "shared by the namespace's services"
        assert created["metadata"]["labels"]["aim.eai.amd.com/origin"] == "auto-generated"
    if expected[0] == "Running":
        assert use.config_map == use.apply[0]["metadata"]["name"]
        assert use.status["resolvedKVCache"]["name"] == "shared"


def test_a_created_cache_carries_the_services_kv_cache_fields() -> None:
    kv = {"name": "mine", "type": "redis", "image": "r:1", "storage": {"size": "2Gi"}, "lmCacheConfig": "x: 1"}
    use = plan_kv_cache_use(service(kv), None)
    assert use is not None
    assert use.apply[0]["spec"] == {"kvCacheType": "redis", "image": "r:1", "storage": {"size": "2Gi"}}
    assert kv_cache_name(service(kv)) == "mine"


@pytest.mark.parametrize(
    ("custom", "expected"),
    [
        pytest.param(None, 'remote_url: "redis://kv.team:6379"', id="default"),
        pytest.param(
            'remote_url: "redis://{SERVICE_URL}"', 'remote_url: "redis://kv.team:6379"', id="upstream-example"
        ),
        pytest.param("chunk_size: 256", "chunk_size: 256", id="no-placeholder"),
    ],
)
def test_lmcache_file_points_at_the_cache(custom: str | None, expected: str) -> None:
    text = lmcache_config(service({"lmCacheConfig": custom} if custom else {}), "redis://kv.team:6379")
    assert expected in text
    assert "redis://redis://" not in text


def test_mounting_lmcache_keeps_the_services_engine_args() -> None:
    env = [{"name": "AIM_ENGINE_ARGS", "value": '{"max-model-len": 8192}'}, {"name": "A", "value": "1"}]
    isvc: dict[str, Any] = {
        "spec": {"predictor": {"containers": [{"name": "kserve-container", "env": env}], "volumes": []}}
    }
    mount_lmcache(isvc, "lmcache-chat-1")
    predictor = isvc["spec"]["predictor"]
    assert predictor["volumes"] == [{"name": LMCACHE_VOLUME, "configMap": {"name": "lmcache-chat-1"}}]
    container = predictor["containers"][0]
    assert container["volumeMounts"][0]["readOnly"] is True
    found = {e["name"]: e["value"] for e in container["env"]}
    assert found["LMCACHE_CONFIG_FILE"] == "/workspace/lmcache/lmcache_config.yaml"
    args = json.loads(found["AIM_ENGINE_ARGS"])
    assert args["max-model-len"] == 8192
    assert json.loads(args["kv-transfer-config"]) == {"kv_connector": "LMCacheConnectorV1", "kv_role": "kv_both"}


def test_an_unchanged_backend_is_not_applied_again() -> None:
    """The runner compares each planned object with `existing`: without it every reconcile wrote
    the StatefulSet and Service again."""
    sts, svc = {"kind": "StatefulSet", "metadata": {"name": "a"}}, {"kind": "Service", "metadata": {"name": "b"}}
    observed = observe(kv_cache(), sts, svc)
    assert (observed.existing("StatefulSet", "a"), observed.existing("Service", "b")) == (sts, svc)
    assert observed.existing("StatefulSet", "b") is None

"""KServe's own controller (built from its Go module, raw-deployment mode) acting on the
InferenceServices the AIM controller writes: a Deployment and a Service per predictor, kwok making
the predictor pod Running and Ready on a simulated MI300X node, KServe reporting the
InferenceService Ready, the AIMService going Starting → Running. Nothing here sets an
InferenceService's status by hand."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from devcluster import binaries, kserve
from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl, controller_running
from tests.integration.test_service_controller import ready_model, ready_template, service, wait_service


@pytest.fixture(scope="module", autouse=True)
def kserve_running(control_plane: ControlPlane) -> Iterator[None]:
    process = control_plane.start_kserve()
    try:
        with controller_running(control_plane, "controller-kserve", {}):
            yield
    finally:
        process.stop()


def inference_service(kubectl: Kubectl, service_name: str) -> dict[str, Any] | None:
    found: list[dict[str, Any]] = kubectl.get_json(
        "inferenceservices", "-l", f"aim.eai.amd.com/service.name={service_name}"
    )["items"]
    return found[0] if found else None


def test_kserve_serves_the_inference_service_and_the_service_runs(kubectl: Kubectl, namespace: str) -> None:
    ready_model(kubectl, "qwen")
    ready_template(kubectl, "qwen-mi300x", "qwen", "MI300X")
    kubectl.apply(service("chat", model={"name": "qwen"}, template={"name": "qwen-mi300x"}))

    running = wait_service(kubectl, "chat", lambda s: s.get("status") == "Running", "the service to run")
    isvc = inference_service(kubectl, "chat")
    assert isvc is not None
    assert condition(isvc["status"], "Ready")["status"] == "True", "KServe's own verdict"
    assert condition(isvc["status"], "PredictorReady")["status"] == "True"
    name = isvc["metadata"]["name"]
    deployment = kubectl.get_json("deployment", f"{name}-predictor")
    assert deployment["status"]["availableReplicas"] == 1
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["amd.com/gpu"] == "2", "the template's two GPUs"
    pods = kubectl.get_json("pods", "-l", f"serving.kserve.io/inferenceservice={name}")["items"]
    assert [p["status"]["phase"] for p in pods] == ["Running"]
    assert pods[0]["metadata"]["labels"]["aim.eai.amd.com/service.name"] == "chat", "labels reach the pods"
    assert condition(running["status"], "InferenceServiceReady")["status"] == "True"
    assert condition(running["status"], "InferenceServicePodsReady")["reason"] == "PodsReady"
    assert running["status"]["runtime"]["currentReplicas"] == 1
    wait_until(lambda: "Running" in kubectl("get", "aimsvc", "chat").stdout, 10, "kubectl get aimsvc")


def test_a_predictor_the_scheduler_cannot_place_makes_the_service_pending_with_its_reason(
    kubectl: Kubectl, namespace: str
) -> None:
    """Upstream's gpu/pending-resources: more GPUs than any node has. KServe creates the
    Deployment, the scheduler cannot place its pod, and the service says so in the scheduler's
    words (InferenceServicePodsReady=False, FailedScheduling), Pending, not Starting forever."""
    ready_model(kubectl, "qwen")
    ready_template(kubectl, "greedy", "qwen", "MI300X")
    greedy = kubectl.get_json("aimservicetemplates", "greedy")
    greedy["spec"]["hardware"]["gpu"]["requests"] = 64
    kubectl.apply(
        {
            "apiVersion": greedy["apiVersion"],
            "kind": "AIMServiceTemplate",
            "metadata": {"name": "greedy-64"},
            "spec": greedy["spec"],
        }
    )
    kubectl.apply(service("big", model={"name": "qwen"}, template={"name": "greedy-64"}))

    pending = wait_service(
        kubectl,
        "big",
        lambda s: condition(s, "InferenceServicePodsReady").get("reason") == "FailedScheduling",
        "the scheduler's verdict on the service",
    )
    assert pending["status"]["status"] == "Pending"
    pods_ready = condition(pending["status"], "InferenceServicePodsReady")
    assert pods_ready["status"] == "False"
    assert "Insufficient amd.com/gpu" in pods_ready["message"]
    assert pending["status"]["runtime"]["currentReplicas"] == 0, "observed, not copied from the spec"


def test_kserve_in_serverless_mode_without_knative_fails_the_service_with_its_event(
    control_plane: ControlPlane, kubectl: Kubectl, namespace: str
) -> None:
    """KServe installed with Serverless as its default mode and no Knative: it refuses the
    InferenceService with a Warning event only (no status at all). The service says so instead of
    Starting forever, as upstream: Failed, ServerlessModeRejected, with what to do."""
    module_dir = binaries.go_module_dir(kserve.MODULE)
    shipped = kserve.config_map(module_dir)
    serverless = json.loads(json.dumps(shipped))
    serverless["data"]["deploy"] = json.dumps({"defaultDeploymentMode": "Serverless"})
    apply = ["apply", "--server-side", "--force-conflicts", "-f", "-"]
    control_plane.kubectl(*apply, input_text=json.dumps(serverless))
    try:
        ready_model(kubectl, "qwen")
        ready_template(kubectl, "qwen-mi300x", "qwen", "MI300X")
        kubectl.apply(service("knative", model={"name": "qwen"}, template={"name": "qwen-mi300x"}))
        failed = wait_service(
            kubectl, "knative", lambda s: s.get("status") == "Failed", "the service to fail with KServe's event"
        )
    finally:
        control_plane.kubectl(*apply, input_text=json.dumps(shipped))
    isvc_ready = condition(failed["status"], "InferenceServiceReady")
    assert isvc_ready["reason"] == "ServerlessModeRejected"
    assert isvc_ready["message"].startswith("Knative is not available. Configure KServe to use RawDeployment mode.")
    assert "Knative Services are not available" in isvc_ready["message"], "KServe's own words follow"


def test_a_service_with_a_kv_cache_creates_it_waits_for_it_and_mounts_its_lmcache_file(
    kubectl: Kubectl, namespace: str
) -> None:
    """spec.kvCache without a name: AIMKVCache kvcache-<namespace> created (auto-generated, owned by
    no one), its Redis StatefulSet and Service, the StatefulSet's pod Ready on a simulated node, the
    cache Ready with its endpoint, then the InferenceService with the LMCache file mounted, and
    KServe's verdict: Running."""
    ready_model(kubectl, "qwen")
    ready_template(kubectl, "qwen-mi300x", "qwen", "MI300X")
    kv = {"storage": {"size": "2Gi"}, "lmCacheConfig": 'chunk_size: 256\nremote_url: "redis://{SERVICE_URL}"\n'}
    kubectl.apply(service("cached", model={"name": "qwen"}, template={"name": "qwen-mi300x"}, kvCache=kv))

    name = f"kvcache-{namespace}"
    running = wait_service(kubectl, "cached", lambda s: s.get("status") == "Running", "the service to run")
    kv_cache = kubectl.get_json("aimkvcaches", name)
    assert kv_cache["metadata"]["labels"]["aim.eai.amd.com/origin"] == "auto-generated"
    assert "ownerReferences" not in kv_cache["metadata"]
    status = kv_cache["status"]
    assert (status["status"], status["replicas"], status["readyReplicas"], status["storageSize"]) == (
        "Ready",
        1,
        1,
        "2Gi",
    )
    assert status["endpoint"] == f"redis://{status['serviceName']}.{namespace}:6379"
    claim = kubectl.get_json("pvc", f"redis-data-{status['statefulSetName']}-0")
    assert claim["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert condition(running["status"], "KVCacheReady")["reason"] == "KVCacheReady"
    assert running["status"]["resolvedKVCache"]["name"] == name

    isvc = inference_service(kubectl, "cached")
    assert isvc is not None
    predictor = isvc["spec"]["predictor"]
    [volume] = [v for v in predictor["volumes"] if v["name"] == "lmcache-config"]
    config_map = kubectl.get_json("configmap", volume["configMap"]["name"])
    host = status["endpoint"].removeprefix("redis://")
    assert config_map["data"]["lmcache_config.yaml"] == f'chunk_size: 256\nremote_url: "redis://{host}"\n'
    env = {e["name"]: e.get("value") for e in predictor["containers"][0]["env"]}
    assert env["LMCACHE_CONFIG_FILE"] == "/workspace/lmcache/lmcache_config.yaml"
    assert "LMCacheConnectorV1" in env["AIM_ENGINE_ARGS"]
    assert "max-model-len" in env["AIM_ENGINE_ARGS"], "the template's engine args are kept"
    kubectl("delete", "aimservice.aim.eai.amd.com", "cached", "--wait=true", timeout=60)
    assert kubectl("get", "aimkvcache", name, check=False).returncode == 0, "shared: it outlives the service"


@pytest.mark.parametrize(("mode", "lost_reason"), [("Shared", "CacheLost"), ("Dedicated", "CacheCreating")])
def test_a_template_cache_deleted_under_a_running_service_is_recreated_and_the_volumes_stay(
    kubectl: Kubectl, namespace: str, mode: str, lost_reason: str
) -> None:
    """Upstream's common/cache-deleted-shared and -dedicated: the service Running on its cache; the
    cache and its artifacts deleted by hand. The InferenceService keeps its volumes (the predictor
    is not rolled), the service is Degraded meanwhile (CacheLost for a Shared cache, CacheCreating
    for a Dedicated one), the cache is recreated and the service Running again."""
    ready_model(kubectl, "qwen")
    ready_template(kubectl, "qwen-mi300x", "qwen", "MI300X")
    name = f"lost-{mode.lower()}"
    kubectl.apply(service(name, model={"name": "qwen"}, template={"name": "qwen-mi300x"}, caching={"mode": mode}))
    wait_service(kubectl, name, lambda s: s.get("status") == "Running", "the service to run")
    isvc = inference_service(kubectl, name)
    assert isvc is not None
    volumes = [v for v in isvc["spec"]["predictor"]["volumes"] if v["name"].startswith("cache-")]
    assert volumes, "the cache is mounted"
    [cache] = kubectl.get_json("aimtemplatecaches")["items"]
    # The simulated download recreates the cache within a second, quicker than polling sees the
    # Degraded state between; the events the controller posts for it stay.
    kubectl("delete", "aimtemplatecache", cache["metadata"]["name"], "--wait=false")
    kubectl("delete", "aimartifacts", "--all", "--wait=false")

    def told() -> set[str] | None:
        events = kubectl.get_json("events", "--field-selector", f"involvedObject.name={name}")["items"]
        reasons = {e.get("reason", "") for e in events}
        return reasons if {lost_reason, "ServiceDegraded"} <= reasons else None

    wait_until(told, 30, f"the service Degraded ({lost_reason}), told by its events")
    wait_service(
        kubectl,
        name,
        lambda s: s.get("status") == "Running" and condition(s, "CacheReady").get("reason") == "CacheReady",
        "Running again",
    )
    running = kubectl.get_json("aimservice", name)
    recreated = kubectl.get_json("aimtemplatecaches")["items"]
    assert [c["metadata"]["uid"] for c in recreated] != [cache["metadata"]["uid"]], "a new cache"
    assert running["status"]["cache"]["templateCacheRef"]["name"]
    after = inference_service(kubectl, name)
    assert after is not None
    assert [v for v in after["spec"]["predictor"]["volumes"] if v["name"].startswith("cache-")], "still mounted"

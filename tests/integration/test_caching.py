"""Model caching against the real API server: AIMService → AIMTemplateCache → AIMArtifact → PVC +
download Job, Shared and Dedicated ownership, size discovery, cleanup, namespace deletion.

kube-controller-manager runs the Job, garbage-collector and namespace controllers; the download
pods run on the simulated GPU nodes (kwok keeps each Running for 3 s, then ends it Succeeded, as a
finished `aim-download` would) and the simulated provisioner binds every claim.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl, controller_running
from tests.integration.test_service_controller import (
    V1,
    ready_model,
    ready_template,
    service,
    wait_service,
)

RUN_SECONDS = 3


@pytest.fixture(scope="module", autouse=True)
def controller(control_plane: ControlPlane) -> Iterator[None]:
    with controller_running(
        control_plane, "controller-caching", {"sim.aim.eai.amd.com/run-duration": f"{RUN_SECONDS}s"}
    ):
        yield


def items(kubectl: Kubectl, resource: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = kubectl.get_json(resource)["items"]
    return found


def first(kubectl: Kubectl, resource: str) -> dict[str, Any] | None:
    return next(iter(items(kubectl, resource)), None)


def wait_status(kubectl: Kubectl, resource: str, name: str, wanted: str, timeout: float = 60) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def check() -> bool:
        seen.update(kubectl.get_json(resource, name))
        return bool((seen.get("status") or {}).get("status") == wanted)

    try:
        wait_until(check, timeout, f"{resource} {name} to be {wanted}")
    except TimeoutError as error:
        raise AssertionError(f"{error}; last status: {json.dumps(seen.get('status'), indent=1)}") from error
    return seen


def test_service_cache_is_an_artifact_with_a_sized_volume_and_a_download_job_where_the_gpus_are(
    kubectl: Kubectl, namespace: str
) -> None:
    kubectl.apply(
        {
            "apiVersion": V1,
            "kind": "AIMRuntimeConfig",
            "metadata": {"name": "default"},
            "spec": {
                "storage": {"defaultStorageClassName": "fast", "pvcHeadroomPercent": 20},
                "env": [{"name": "HF_HUB_OFFLINE", "value": "0"}],
            },
        }
    )
    ready_model(kubectl, "m")
    ready_template(kubectl, "t", "m", "MI300X")
    kubectl.apply(service("chat", model={"name": "m"}, template={"name": "t"}))

    caches = wait_until(lambda: items(kubectl, "aimtemplatecaches") or None, 30, "a template cache")
    assert len(caches) == 1
    cache = caches[0]
    assert cache["spec"] == {
        "templateName": "t",
        "templateScope": "Namespace",
        "mode": "Shared",
        "storageClassName": "fast",
        "env": [{"name": "AIM_ENGINE_ARGS", "value": '{"max-model-len": 8192, "swap-space": 4}'}],
    }
    assert "ownerReferences" not in cache["metadata"], "a Shared cache outlives its service"
    assert cache["metadata"]["labels"]["aim.eai.amd.com/service"] == "chat"

    artifact = wait_until(lambda: first(kubectl, "aimartifacts"), 30, "an artifact")
    assert artifact["spec"]["sourceUri"] == "hf://Qwen/Qwen3-32B"
    assert artifact["spec"]["modelId"] == "Qwen/Qwen3-32B"
    assert "ownerReferences" not in artifact["metadata"]
    name = artifact["metadata"]["name"]

    progressing = wait_status(kubectl, "aimartifacts", name, "Progressing")
    assert condition(progressing["status"], "DownloadComplete")["reason"] == "Downloading"
    pvc_name = progressing["status"]["persistentVolumeClaim"]
    pvc = kubectl.get_json("persistentvolumeclaims", pvc_name)
    assert pvc["spec"]["resources"]["requests"]["storage"] == "2Gi"  # 1Gi + 20 % headroom, whole Gi
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    assert pvc["spec"]["storageClassName"] == "fast"
    assert pvc["metadata"]["ownerReferences"][0]["uid"] == artifact["metadata"]["uid"]
    assert progressing["status"]["allocatedSize"] == "2Gi"
    assert progressing["status"]["headroomPercent"] == 20
    assert progressing["status"]["mode"] == "Shared"

    job = next(
        j for j in items(kubectl, "jobs") if j["metadata"]["labels"].get("app.kubernetes.io/component") == "download"
    )
    assert job["metadata"]["ownerReferences"][0]["uid"] == artifact["metadata"]["uid"]
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["command"] == ["aim-download"]
    assert container["args"] == ["hf://Qwen/Qwen3-32B"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env == {
        "AIM_DOWNLOADER_PROTOCOL": "XET,HF_TRANSFER",
        "MOUNT_PATH": "/cache",
        "TARGET_DIR": "/cache",
        "EXPECTED_SIZE_BYTES": str(2**30),
        "ARTIFACT_NAME": name,
        "ARTIFACT_NAMESPACE": namespace,
        "STALL_TIMEOUT": "120",
        "TMPDIR": "/tmp/",
        "HF_HOME": "/tmp/.hf",
        "AIM_HF_EXCLUDE": "*/*",
        "HF_HUB_OFFLINE": "0",
        "AIM_ENGINE_ARGS": '{"max-model-len": 8192, "swap-space": 4}',
    }
    assert {"name": "cache", "mountPath": "/cache"} in container["volumeMounts"]
    assert {"name": "cache", "persistentVolumeClaim": {"claimName": pvc_name}} in pod["volumes"]
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    expression = terms[0]["matchExpressions"][0]
    assert (expression["key"], expression["operator"]) == ("amd.com/gpu.device-id", "In")
    assert "74a1" in expression["values"]  # MI300X (the template's GPU); its other ids are variants
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert job["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"] == [3, 4, 5]

    # The service waits for the cache, then mounts the volume where AIM_CACHE_PATH points.
    status = kubectl.get_json("aimservices.aim.eai.amd.com", "chat")["status"]
    assert status["status"] == "Starting"
    assert condition(status, "CacheReady")["status"] == "False"
    assert not items(kubectl, "inferenceservices.serving.kserve.io")

    ready = wait_status(kubectl, "aimartifacts", name, "Ready")
    assert ready["status"]["progress"]["percentage"] == 100
    assert condition(ready["status"], "DownloadComplete")["reason"] == "Verified"
    wait_status(kubectl, "aimtemplatecaches", cache["metadata"]["name"], "Ready")
    status = wait_service(kubectl, "chat", lambda s: condition(s, "CacheReady").get("status") == "True", "cache use")
    assert status["status"]["cache"]["templateCacheRef"]["name"] == cache["metadata"]["name"]
    isvc = wait_until(lambda: first(kubectl, "inferenceservices.serving.kserve.io"), 30, "the isvc")
    predictor = isvc["spec"]["predictor"]
    assert {"name": "cache-0", "persistentVolumeClaim": {"claimName": pvc_name}} in predictor["volumes"]
    mounts = predictor["containers"][0]["volumeMounts"]
    assert {"name": "cache-0", "mountPath": "/workspace/cache/Qwen/Qwen3-32B"} in mounts

    printed = kubectl("get", "aimartifacts").stdout
    assert name in printed
    assert "Ready" in printed


def test_a_second_service_reuses_the_shared_cache_which_outlives_both(kubectl: Kubectl) -> None:
    ready_model(kubectl, "m")
    ready_template(kubectl, "t", "m", "MI300X")
    kubectl.apply(service("one", model={"name": "m"}, template={"name": "t"}))
    wait_service(kubectl, "one", lambda s: condition(s, "CacheReady").get("status") == "True", "the first cache")
    kubectl.apply(service("two", model={"name": "m"}, template={"name": "t"}))
    wait_service(kubectl, "two", lambda s: condition(s, "CacheReady").get("status") == "True", "reuse")
    assert len(items(kubectl, "aimtemplatecaches")) == 1
    assert len(items(kubectl, "aimartifacts")) == 1
    assert len([j for j in items(kubectl, "jobs") if "download" in j["metadata"]["name"]]) == 1

    kubectl("delete", "aimservices.aim.eai.amd.com", "one", "two")
    wait_until(lambda: not items(kubectl, "inferenceservices.serving.kserve.io"), 30, "the services' children gone")
    assert len(items(kubectl, "aimtemplatecaches")) == 1, "a Ready shared cache is kept for the next service"
    assert items(kubectl, "aimartifacts")[0]["status"]["status"] == "Ready"


def test_a_dedicated_cache_is_owned_by_its_service_and_goes_with_it(kubectl: Kubectl) -> None:
    ready_model(kubectl, "m")
    ready_template(kubectl, "t", "m", "MI300X")
    kubectl.apply(service("own", model={"name": "m"}, template={"name": "t"}, caching={"mode": "Dedicated"}))
    svc = wait_service(kubectl, "own", lambda s: condition(s, "CacheReady").get("status") == "True", "own cache")
    cache = items(kubectl, "aimtemplatecaches")[0]
    assert cache["spec"]["mode"] == "Dedicated"
    assert cache["metadata"]["ownerReferences"][0]["uid"] == svc["metadata"]["uid"]
    artifact = items(kubectl, "aimartifacts")[0]
    assert artifact["metadata"]["ownerReferences"][0]["uid"] == cache["metadata"]["uid"]
    assert artifact["status"]["mode"] == "Dedicated"

    kubectl("delete", "aimservices.aim.eai.amd.com", "own")
    wait_until(lambda: not items(kubectl, "aimtemplatecaches"), 60, "the dedicated cache collected")
    wait_until(lambda: not items(kubectl, "aimartifacts"), 60, "its artifact collected")
    wait_until(lambda: not items(kubectl, "persistentvolumeclaims"), 60, "its volume collected")


@pytest.mark.parametrize("first", ["Shared", "Dedicated"])
def test_shared_and_dedicated_services_of_one_template_keep_their_own_caches(kubectl: Kubectl, first: str) -> None:
    """Upstream's aimtemplatecache/service-dedicated-creates-own-cache (Shared first) and
    service-shared-ignores-dedicated-cache (Dedicated first): two caches of different names, each
    of its mode; only the Dedicated one is owned, by its service."""
    ready_model(kubectl, "m")
    ready_template(kubectl, "t", "m", "MI300X")
    second = "Dedicated" if first == "Shared" else "Shared"
    uids = {}
    for mode in (first, second):
        name = mode.lower()
        kubectl.apply(service(name, model={"name": "m"}, template={"name": "t"}, caching={"mode": mode}))
        svc = wait_service(kubectl, name, lambda s: condition(s, "CacheReady").get("status") == "True", f"{name}")
        uids[mode] = svc["metadata"]["uid"]
        assert svc["status"]["cache"]["templateCacheRef"]["name"]
    caches = {c["spec"]["mode"]: c for c in items(kubectl, "aimtemplatecaches")}
    assert set(caches) == {"Shared", "Dedicated"}, "one cache each"
    assert caches["Shared"]["metadata"]["name"] != caches["Dedicated"]["metadata"]["name"]
    assert [r["uid"] for r in caches["Dedicated"]["metadata"]["ownerReferences"]] == [uids["Dedicated"]]
    assert not caches["Shared"]["metadata"].get("ownerReferences"), "a Shared cache outlives its services"
    for mode in ("Shared", "Dedicated"):
        used = kubectl.get_json("aimservices.aim.eai.amd.com", mode.lower())["status"]["cache"]["templateCacheRef"]
        assert used["name"] == caches[mode]["metadata"]["name"]


def test_size_is_discovered_before_the_volume_is_created(kubectl: Kubectl, namespace: str, pod_logs: Any) -> None:
    kubectl.apply(
        {
            "apiVersion": V1,
            "kind": "AIMArtifact",
            "metadata": {"name": "unsized"},
            "spec": {"sourceUri": "s3://models/llama", "modelId": "meta/llama"},
        }
    )
    artifact = wait_until(lambda: kubectl.get_json("aimartifacts", "unsized"), 10, "the artifact")
    from controller.artifact.plan import child_name

    pod_logs(
        namespace, child_name(artifact, "check-size"), 'checking\n{"url": "s3://models/llama", "sizeBytes": 5368709120}'
    )
    sized = wait_status(kubectl, "aimartifacts", "unsized", "Ready")
    assert sized["status"]["discoveredSizeBytes"] == 5 * 2**30
    check = kubectl.get_json("jobs", child_name(artifact, "check-size"))
    assert check["spec"]["template"]["spec"]["containers"][0]["args"] == ["--check-size", "s3://models/llama"]
    pvc = items(kubectl, "persistentvolumeclaims")[0]
    assert pvc["spec"]["resources"]["requests"]["storage"] == "6Gi"  # 5 GiB + 10 % default headroom


def test_a_size_report_that_is_not_json_fails_the_artifact(kubectl: Kubectl, namespace: str, pod_logs: Any) -> None:
    kubectl.apply(
        {
            "apiVersion": V1,
            "kind": "AIMArtifact",
            "metadata": {"name": "bad"},
            "spec": {"sourceUri": "s3://models/x"},
        }
    )
    artifact = wait_until(lambda: kubectl.get_json("aimartifacts", "bad"), 10, "the artifact")
    from controller.artifact.plan import child_name

    pod_logs(namespace, child_name(artifact, "check-size"), "something went wrong")
    failed = wait_status(kubectl, "aimartifacts", "bad", "Failed")
    assert condition(failed["status"], "CheckSizeOutputReady")["reason"] == "InvalidSizeOutput"
    assert not items(kubectl, "persistentvolumeclaims"), "no volume without a size"


def test_a_cache_of_a_missing_template_fails_naming_it(kubectl: Kubectl) -> None:
    kubectl.apply(
        {
            "apiVersion": V1,
            "kind": "AIMTemplateCache",
            "metadata": {"name": "c"},
            "spec": {"templateName": "nope", "templateScope": "Cluster"},
        }
    )
    failed = wait_status(kubectl, "aimtemplatecaches", "c", "Failed")
    ready = condition(failed["status"], "ServiceTemplateReady")
    assert ready["reason"] == "ReferenceNotFound"
    assert "Cluster template nope not found" in ready["message"]


def test_a_template_with_caching_enabled_owns_a_cache(kubectl: Kubectl) -> None:
    ready_model(kubectl, "m")
    ready_template(kubectl, "t", "m", "MI300X")
    secret_env = {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}}}
    kubectl(
        "patch",
        "aimservicetemplates",
        "t",
        "--type=merge",
        "-p",
        json.dumps({"spec": {"caching": {"enabled": True, "env": [secret_env]}}}),
    )
    cache = wait_status(kubectl, "aimtemplatecaches", "t", "Ready")
    assert cache["metadata"]["ownerReferences"][0]["kind"] == "AIMServiceTemplate"
    artifact = items(kubectl, "aimartifacts")[0]
    assert secret_env in artifact["spec"]["env"], "credentials stay references to the Secret"
    job = next(j for j in items(kubectl, "jobs") if "download" in j["metadata"]["name"])
    assert secret_env in job["spec"]["template"]["spec"]["containers"][0]["env"]


def test_deleting_a_cache_removes_only_artifacts_that_never_became_ready(kubectl: Kubectl) -> None:
    ready_model(kubectl, "m")
    ready_template(kubectl, "t", "m", "MI300X")
    kubectl.apply(
        {
            "apiVersion": V1,
            "kind": "AIMTemplateCache",
            "metadata": {"name": "c"},
            "spec": {"templateName": "t", "templateScope": "Namespace"},
        }
    )
    wait_status(kubectl, "aimtemplatecaches", "c", "Ready")
    kept = items(kubectl, "aimartifacts")[0]["metadata"]["name"]
    # A second source that will not finish before the cache is deleted.
    kubectl.apply(
        {
            "apiVersion": V1,
            "kind": "AIMArtifact",
            "metadata": {"name": "unfinished", "labels": {"aim.eai.amd.com/template-cache.name": "c"}},
            "spec": {"sourceUri": "s3://never/ready", "size": "1Gi", "runtimeConfigName": "missing"},
        }
    )
    wait_status(kubectl, "aimartifacts", "unfinished", "Failed")
    kubectl("delete", "aimtemplatecaches", "c", "--timeout=30s")
    names = [a["metadata"]["name"] for a in items(kubectl, "aimartifacts")]
    assert names == [kept]


def test_namespace_deletion_is_not_blocked_by_caches(
    control_plane: ControlPlane, kubectl: Kubectl, namespace: str
) -> None:
    ready_model(kubectl, "m")
    ready_template(kubectl, "t", "m", "MI300X")
    kubectl.apply(service("svc", model={"name": "m"}, template={"name": "t"}))
    wait_until(lambda: items(kubectl, "aimartifacts") or None, 30, "an artifact")
    cache = items(kubectl, "aimtemplatecaches")[0]
    assert "aim.eai.amd.com/artifactcleanup" in wait_until(
        lambda: kubectl.get_json("aimtemplatecaches", cache["metadata"]["name"])["metadata"].get("finalizers"),
        30,
        "the cleanup finalizer",
    )
    control_plane.kubectl("delete", "namespace", namespace, "--timeout=90s", timeout=120)
    gone = control_plane.kubectl("get", "namespace", namespace, check=False)
    assert gone.returncode != 0
    assert "NotFound" in gone.stderr


def artifact(name: str, size: str, **spec: Any) -> dict[str, Any]:
    annotations = spec.pop("annotations", None)
    metadata: dict[str, Any] = {"name": name} | ({"annotations": annotations} if annotations else {})
    return {
        "apiVersion": V1,
        "kind": "AIMArtifact",
        "metadata": metadata,
        "spec": {"sourceUri": f"hf://acme/{name}", "size": size} | spec,
    }


def events_of(kubectl: Kubectl, name: str) -> str:
    return kubectl("get", "events", "--field-selector", f"involvedObject.name={name}", "-o", "json").stdout


def test_storage_quota_evicts_the_lowest_priority_and_blocks_what_cannot_fit(kubectl: Kubectl, namespace: str) -> None:
    """The namespace's annotation limits its artifacts to 30Gi (each 10Gi artifact takes 11Gi with
    the default 10 % headroom): the third evicts the evictable one, a protected one stays, a
    100Gi one waits Failed with the numbers."""
    kubectl("annotate", "namespace", namespace, "aim.eai.amd.com/artifact-storage-quota=30Gi")
    kubectl.apply(artifact("old", "10Gi", retentionPriority=1))
    kubectl.apply(
        artifact("kept", "10Gi", retentionPriority=0, annotations={"aim.eai.amd.com/eviction-protected": "true"})
    )
    for name in ("old", "kept"):
        ready = wait_status(kubectl, "aimartifacts", name, "Ready")
        assert condition(ready["status"], "StorageQuotaExceeded")["reason"] == "WithinQuota"

    kubectl.apply(artifact("new", "10Gi"))
    new = wait_status(kubectl, "aimartifacts", "new", "Ready")
    assert condition(new["status"], "StorageQuotaExceeded")["status"] == "False"
    wait_until(lambda: kubectl("get", "aimartifact", "old", check=False).returncode != 0, 30, "old to be evicted")
    assert "Evicted to free storage quota for artifact" in events_of(kubectl, "old")
    assert kubectl("get", "aimartifact", "kept", check=False).returncode == 0, "protected"

    kubectl.apply(artifact("huge", "100Gi", retentionPriority=5))
    huge = wait_status(kubectl, "aimartifacts", "huge", "Failed")
    exceeded = condition(huge["status"], "StorageQuotaExceeded")
    assert (exceeded["status"], exceeded["reason"]) == ("True", "NamespaceQuotaExceeded")
    assert "22Gi used + 110Gi needed > 30Gi limit" in exceeded["message"]
    assert not huge["status"].get("persistentVolumeClaim")
    assert "huge" in kubectl("get", "aimartifacts").stdout


def test_unreferenced_evictable_artifact_is_reaped_after_the_grace_period(kubectl: Kubectl, namespace: str) -> None:
    """A runtime config of this namespace only (its cluster counterpart would touch every test)."""
    kubectl.apply(
        {
            "apiVersion": V1,
            "kind": "AIMRuntimeConfig",
            "metadata": {"name": "reaping"},
            "spec": {"artifact": {"defaultRetentionPriority": 3, "reapUnreferencedAfter": "3s"}},
        }
    )
    kubectl.apply(artifact("orphan", "1Gi", runtimeConfigName="reaping"))
    kubectl.apply(
        artifact(
            "pinned", "1Gi", runtimeConfigName="reaping", annotations={"aim.eai.amd.com/eviction-protected": "true"}
        )
    )
    wait_until(lambda: kubectl("get", "aimartifact", "orphan", check=False).returncode != 0, 30, "orphan to be reaped")
    assert "no template or profile cache has referenced it" in events_of(kubectl, "orphan")
    assert kubectl("get", "aimartifact", "pinned", check=False).returncode == 0


def test_a_namespace_limit_above_the_cluster_limit_is_refused(kubectl: Kubectl) -> None:
    refused = kubectl.apply(
        {
            "apiVersion": V1,
            "kind": "AIMClusterRuntimeConfig",
            "metadata": {"name": "impossible-quota"},
            "spec": {"artifactStorageQuota": {"clusterLimit": "100Gi", "defaultNamespaceLimit": "200Gi"}},
        },
        check=False,
    )
    assert refused.returncode != 0
    assert "spec.artifactStorageQuota.defaultNamespaceLimit: 200Gi is more than clusterLimit 100Gi" in refused.stderr

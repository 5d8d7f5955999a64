"""kube-controller-manager, kube-scheduler and kwok make the local control plane behave like a
cluster: Jobs complete or fail, pods have logs, owners cascade, namespaces finish deleting."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client, watch

from devcluster.kwok import EXIT_CODE_ANNOTATION, OUTCOME_ANNOTATION
from devcluster.nodes import FakeNode
from devcluster.waiting import wait_until
from tests.conftest import FakeNodes, Kubectl


def job(name: str, annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {"annotations": annotations or {}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "example.invalid/discovery:1"}],
                    **spec,
                },
            },
        },
    }


def job_condition(kubectl: Kubectl, name: str, condition: str) -> bool:
    status = kubectl.get_json("job", name).get("status", {})
    return any(c["type"] == condition and c["status"] == "True" for c in status.get("conditions", []))


def test_job_completes_and_its_logs_are_the_prepared_file(
    kubectl: Kubectl, namespace: str, pod_logs: Callable[[str, str, str], Path]
) -> None:
    pod_logs(namespace, "discover", '{"profiles": [{"metric": "latency"}]}\nsecond line')
    kubectl.apply(job("discover"))
    wait_until(lambda: job_condition(kubectl, "discover", "Complete"), 60, "Job discover to complete")

    pod = kubectl.get_json("pods", "-l", "batch.kubernetes.io/job-name=discover")["items"][0]
    assert pod["status"]["phase"] == "Succeeded"
    assert pod["spec"]["nodeName"], "the scheduler bound the pod to a simulated node"
    logs = wait_until(lambda: kubectl("logs", "job/discover", check=False).stdout or None, 30, "pod logs")
    assert logs == '{"profiles": [{"metric": "latency"}]}\nsecond line\n'


def test_job_marked_to_fail_ends_failed_with_its_exit_code(kubectl: Kubectl) -> None:
    kubectl.apply(job("doomed", {OUTCOME_ANNOTATION: "Failed", EXIT_CODE_ANNOTATION: "3"}))
    wait_until(lambda: job_condition(kubectl, "doomed", "Failed"), 60, "Job doomed to fail")
    pod = kubectl.get_json("pods", "-l", "batch.kubernetes.io/job-name=doomed")["items"][0]
    assert pod["status"]["phase"] == "Failed"
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 3


def test_gpu_pod_is_scheduled_only_where_the_gpu_model_is(kubectl: Kubectl) -> None:
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "amd.com/gpu.device-id", "operator": "In", "values": ["75a0"]}]}
                ]
            }
        }
    }
    resources = {"requests": {"amd.com/gpu": "2"}, "limits": {"amd.com/gpu": "2"}}
    manifest = job("on-mi350x", affinity=affinity)
    manifest["spec"]["template"]["spec"]["containers"][0]["resources"] = resources
    kubectl.apply(manifest)
    wait_until(lambda: job_condition(kubectl, "on-mi350x", "Complete"), 60, "GPU Job to complete")
    pod = kubectl.get_json("pods", "-l", "batch.kubernetes.io/job-name=on-mi350x")["items"][0]
    assert pod["spec"]["nodeName"] == "gpu-mi350x-0"


def test_deleting_an_owner_deletes_what_it_owns(kubectl: Kubectl) -> None:
    kubectl("create", "configmap", "owner")
    owner_uid = kubectl.get_json("configmap", "owner")["metadata"]["uid"]
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "owned",
                "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner_uid}],
            },
        }
    )
    kubectl("delete", "configmap", "owner")

    def gone() -> bool:
        return kubectl("get", "configmap", "owned", "--ignore-not-found", "-o", "name").stdout == ""

    wait_until(gone, 60, "the garbage collector to delete the owned ConfigMap")


def test_deleting_a_namespace_with_aim_objects_and_jobs_finishes(kubectl: Kubectl) -> None:
    plane = kubectl.plane
    doomed = Kubectl(plane, f"{kubectl.namespace}-gone")
    plane.kubectl("create", "namespace", doomed.namespace or "")
    for kind, api_version, spec in [
        ("AIMModel", "v1alpha2", {"image": "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"}),
        ("AIMService", "v1alpha2", {"model": {"name": "m"}}),
        ("AIMService", "v1alpha1", {"model": {"name": "m"}, "caching": {"mode": "Never"}}),
        ("AIMTemplateCache", "v1alpha1", {"templateName": "t", "templateScope": "Cluster"}),
        ("AIMProfile", "v1alpha2", {"aimId": "a/b", "image": "i:1"}),
    ]:
        doomed.apply(
            {
                "apiVersion": f"aim.eai.amd.com/{api_version}",
                "kind": kind,
                "metadata": {"name": f"{kind.lower()}-{api_version}"},
                "spec": spec,
            }
        )
    doomed.apply(job("work"))
    wait_until(lambda: job_condition(doomed, "work", "Complete"), 60, "Job to complete")

    plane.kubectl("delete", "namespace", doomed.namespace or "", "--timeout=90s")
    assert plane.kubectl("get", "namespace", doomed.namespace or "", "--ignore-not-found", "-o", "name").stdout == ""


def test_simulated_gpu_nodes_carry_amd_labels_and_capacity(kubectl: Kubectl) -> None:
    node = kubectl.get_json("node", "gpu-mi300x-0")
    labels = node["metadata"]["labels"]
    assert labels["amd.com/gpu.device-id"] == "74a1"
    assert labels["amd.com/gpu.vram"] == "192G"
    assert labels["feature.node.kubernetes.io/aim-accelerator.MI300X"] == "true"
    assert node["status"]["allocatable"]["amd.com/gpu"] == "8"
    assert node["status"]["capacity"]["amd.com/gpu"] == "8"
    assert {a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"} == {"127.0.0.1"}


def test_relabelling_a_fake_node_is_seen_by_a_watch_within_a_second(fake_nodes: FakeNodes) -> None:
    node = fake_nodes.add(FakeNode(name="gpu-late-0", gpu_model="MI325X", gpu_count=4))
    core = client.CoreV1Api(fake_nodes.plane.api_client())
    resource_version = core.read_node(node.name).metadata.resource_version
    seen: dict[str, float] = {}
    ready = threading.Event()

    def watch_labels() -> None:
        stream = watch.Watch().stream(
            core.list_node,
            field_selector=f"metadata.name={node.name}",
            resource_version=resource_version,
            timeout_seconds=10,
        )
        ready.set()
        for event in stream:
            if event["object"].metadata.labels.get("amd.com/gpu.device-id") == "75a0":
                seen["at"] = time.monotonic()
                return

    watcher = threading.Thread(target=watch_labels)
    watcher.start()
    ready.wait(5)
    changed_at = time.monotonic()
    fake_nodes.label(node.name, {"amd.com/gpu.device-id": "75a0"})
    watcher.join(10)
    assert "at" in seen, "the watch never saw the new label"
    assert seen["at"] - changed_at < 1.0


def test_removed_fake_node_disappears(fake_nodes: FakeNodes, kubectl: Kubectl) -> None:
    fake_nodes.add(FakeNode(name="gpu-temp-0", gpu_model="MI210", gpu_count=1))
    fake_nodes.remove("gpu-temp-0")
    wait_until(
        lambda: kubectl("get", "node", "gpu-temp-0", "--ignore-not-found", "-o", "name").stdout == "",
        30,
        "node to be deleted",
    )

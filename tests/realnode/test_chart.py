"""The real install path: the chart installed with helm, the project's image (built by buildah from
the Dockerfile) running as pods on the real node, the API server calling the pod-served webhooks
through their Service, then upgrade, uninstall and reinstall.

The tests run in file order and share one installation (module scope): each step builds on the
last, as a platform team's install would.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from devcluster import images
from devcluster.controlplane import ControlPlane
from devcluster.realnode import NODE_NAME, REGISTRY
from devcluster.waiting import wait_until
from tests.conftest import Kubectl
from tests.realnode.conftest import (
    CHART,
    RELEASE,
    SYSTEM_NAMESPACE,
    chart_values,
    helm,
    install,
    pods,
    third_party_crd_paths,
    wait_ready,
)

V1 = "aim.eai.amd.com/v1alpha1"
V2 = "aim.eai.amd.com/v1alpha2"
TEAM = "team-real"


@pytest.fixture(scope="module")
def installed(real_plane: ControlPlane, admin: Kubectl) -> ControlPlane:
    started = time.monotonic()
    install(real_plane)
    print(f"helm install --wait took {time.monotonic() - started:.1f}s")
    admin("create", "namespace", TEAM, check=False)
    return real_plane


def leader(admin: Kubectl) -> str:
    lease = admin.get_json("lease", "-n", SYSTEM_NAMESPACE, f"{RELEASE}-aim-engine-controller")
    holder: str = lease["spec"].get("holderIdentity") or ""
    return holder


def test_controller_and_webhooks_run_restricted_on_the_real_node(installed: ControlPlane, admin: Kubectl) -> None:
    """Before the image had a passwd entry and kopf an identity, the controller crash-looped here
    with `getpwuid(): uid not found: 65532`."""
    controllers = wait_ready(admin, "controller", 2)
    webhooks = wait_ready(admin, "webhook", 2)
    for pod in controllers + webhooks:
        assert pod["spec"]["nodeName"] == NODE_NAME
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        [container] = pod["spec"]["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["image"].startswith(f"{REGISTRY}/")
        assert pod["status"]["containerStatuses"][0]["restartCount"] == 0, pod["metadata"]["name"]
    for pod in controllers:
        log = admin("logs", "-n", SYSTEM_NAMESPACE, pod["metadata"]["name"]).stdout
        assert "getpwuid" not in log
        assert "Traceback" not in log
    names = {p["metadata"]["name"] for p in controllers}
    wait_until(lambda: leader(admin).rsplit("-", 1)[0] in names, 60, "one controller replica to lead")


def test_helm_test_reaches_the_webhook_by_its_cluster_dns_name(installed: ControlPlane) -> None:
    """The chart's test pod calls https://<service>.<namespace>.svc: it needs cluster DNS (CoreDNS)."""
    result = helm(installed, "test", RELEASE, "-n", SYSTEM_NAMESPACE, "--timeout=120s")
    assert "Phase:          Succeeded" in result.stdout


def test_invalid_service_is_denied_by_the_pod_served_webhook(installed: ControlPlane, admin: Kubectl) -> None:
    configuration = admin.get_json("validatingwebhookconfiguration", f"{RELEASE}-aim-engine-validating")
    assert "service" in configuration["webhooks"][0]["clientConfig"]  # not a URL on this host
    service = {
        "apiVersion": V2,
        "kind": "AIMService",
        "metadata": {"name": "bad", "namespace": TEAM},
        "spec": {"model": {"name": "m"}, "routing": {"enabled": True, "pathTemplate": "/{.metadata.namespace"}},
    }
    denied = admin.apply(service, check=False)
    assert denied.returncode != 0
    assert "denied the request" in denied.stderr
    assert "spec.routing.pathTemplate" in denied.stderr


def test_v1alpha1_object_is_read_back_through_v1alpha2_by_the_pod_served_conversion(
    installed: ControlPlane, admin: Kubectl
) -> None:
    service = {
        "apiVersion": V1,
        "kind": "AIMService",
        "metadata": {"name": "chat", "namespace": TEAM},
        "spec": {
            "model": {"name": "qwen"},
            "routing": {"enabled": True, "routeTemplate": "/{.metadata.namespace}/chat"},
        },
    }
    admin.apply(service)
    stored = admin.get_json("aimservices.v1alpha2.aim.eai.amd.com", "chat", "-n", TEAM)
    assert stored["spec"]["routing"]["pathTemplate"] == "/{.metadata.namespace}/chat"
    back = admin.get_json("aimservices.v1alpha1.aim.eai.amd.com", "chat", "-n", TEAM)
    assert back["spec"]["routing"]["routeTemplate"] == "/{.metadata.namespace}/chat"


def test_kserve_crds_installed_after_the_controller_are_watched(installed: ControlPlane, admin: Kubectl) -> None:
    """With `get` only on CRDs, kopf never watched kinds whose CRDs came later: an InferenceService
    turning Ready went unnoticed until the next resync (an hour here) or a restart."""
    admin("apply", "--server-side", *[a for p in third_party_crd_paths() for a in ("-f", str(p))])
    admin("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    admin.apply({"apiVersion": V2, "kind": "AIMModel", "metadata": {"name": "qwen", "namespace": TEAM}, "spec": MODEL})
    admin.apply(
        {
            "apiVersion": V1,
            "kind": "AIMServiceTemplate",
            "metadata": {"name": "qwen-mi300x", "namespace": TEAM},
            "spec": TEMPLATE,
        }
    )
    admin.apply(
        {
            "apiVersion": V2,
            "kind": "AIMService",
            "metadata": {"name": "late", "namespace": TEAM},
            "spec": {"model": {"name": "qwen"}},
        }
    )
    isvc = wait_until(lambda: inference_service_of(admin, "late"), 120, "the InferenceService of service late")
    patch = {"status": {"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now()}]}}
    admin(
        "patch", "inferenceservice", isvc, "-n", TEAM, "--subresource=status", "--type=merge", "-p", json.dumps(patch)
    )
    wait_until(lambda: service_state(admin, "late") == "Running", 60, "service late to be Running")


def test_upgrade_to_a_new_image_tag_rolls_out_without_a_failed_apply(installed: ControlPlane, admin: Kubectl) -> None:
    node = installed.real_node
    assert node is not None
    repository, tag = node.pushed["project"].rsplit(":", 1)
    new_tag = f"{tag}-next"
    images.push(images.built_image(images.PROJECT), f"{repository}:{new_tag}")
    failures: list[str] = []
    applied = 0
    stop = threading.Event()

    def apply_in_a_loop() -> None:
        nonlocal applied
        while not stop.is_set():
            config = {
                "apiVersion": V1,
                "kind": "AIMRuntimeConfig",
                "metadata": {"name": f"loop-{applied % 5}", "namespace": TEAM},
                "spec": {"env": [{"name": "AIM_LOOP", "value": str(applied)}]},
            }
            result = admin.apply(config, check=False)
            if result.returncode != 0:
                failures.append(result.stderr.strip())
            applied += 1

    client = threading.Thread(target=apply_in_a_loop, daemon=True)
    client.start()
    try:
        helm(
            installed,
            "upgrade",
            RELEASE,
            str(CHART),
            "-n",
            SYSTEM_NAMESPACE,
            *chart_values(installed, new_tag),
            "--wait",
            "--timeout=240s",
        )
        wait_until(
            lambda: (
                all(
                    p["spec"]["containers"][0]["image"].endswith(new_tag)
                    for p in pods(admin, "webhook") + pods(admin, "controller")
                )
                and len(pods(admin, "webhook")) == 2
            ),
            120,
            "every pod on the new tag",
        )
    finally:
        stop.set()
        client.join(30)
    assert applied > 10
    assert failures == [], failures[:3]
    wait_ready(admin, "webhook", 2)
    wait_ready(admin, "controller", 2)


def test_uninstall_keeps_crds_and_objects_and_a_reinstall_adopts_them(installed: ControlPlane, admin: Kubectl) -> None:
    helm(installed, "uninstall", RELEASE, "-n", SYSTEM_NAMESPACE, "--wait", "--timeout=120s")
    admin("get", "crd", "aimservices.aim.eai.amd.com")
    admin("get", "aimservice", "chat", "-n", TEAM)
    install(installed)
    wait_ready(admin, "webhook", 2)
    wait_ready(admin, "controller", 2)
    stored = admin.get_json("aimservices.v1alpha1.aim.eai.amd.com", "chat", "-n", TEAM)
    assert stored["spec"]["routing"]["routeTemplate"] == "/{.metadata.namespace}/chat"
    status = helm(installed, "status", RELEASE, "-n", SYSTEM_NAMESPACE).stdout
    assert "STATUS: deployed" in status


MODEL: dict[str, Any] = {
    "image": "registry.local/amdenterpriseai/aim-qwen:0.8.5",
    "imageMetadata": {"model": {"canonicalName": "Qwen/Qwen3-32B"}},
}
"""Metadata in the spec: the controller reads no registry for it."""
TEMPLATE: dict[str, Any] = {
    "modelName": "qwen",
    "metric": "latency",
    "precision": "fp8",
    "type": "optimized",
    "hardware": {"gpu": {"requests": 1, "models": ["MI300X"]}},
    "modelSources": [{"modelId": "Qwen/Qwen3-32B", "sourceUri": "hf://Qwen/Qwen3-32B", "size": "1Gi"}],
}
"""MI300X: the simulated node, where kwok completes the download Job (no hub is reachable)."""


def inference_service_of(admin: Kubectl, service: str) -> str | None:
    status = admin.get_json("aimservices.aim.eai.amd.com", service, "-n", TEAM).get("status") or {}
    name = ((status.get("resources") or {}).get("inferenceService") or {}).get("name")
    if not name:
        listed = admin.get_json("inferenceservices", "-n", TEAM)["items"]
        owned = [i for i in listed if any(o.get("name") == service for o in i["metadata"].get("ownerReferences", []))]
        name = owned[0]["metadata"]["name"] if owned else None
    return str(name) if name else None


def service_state(admin: Kubectl, service: str) -> str:
    status = admin.get_json("aimservices.aim.eai.amd.com", service, "-n", TEAM).get("status") or {}
    return str(status.get("status", ""))


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

"""A webhook outage on the real node: with the webhook Deployment scaled to 0, deletion (of a
service with its caches, and of a whole namespace), garbage collection and the controller's own
writes complete in their normal time; what the webhooks guard stays refused. Then it comes back.

Before matchConditions (api/admission.py), the controller's finalizer-removing patches went
through the webhooks and were refused, so the namespace hung in Terminating for the outage.
"""

from __future__ import annotations

import time
from typing import Any

from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.conftest import Kubectl
from tests.realnode.support import (
    RELEASE,
    SYSTEM_NAMESPACE,
    WEBHOOK_DEPLOYMENT,
    deploy_model_and_template,
    inference_service_of,
    inference_services,
    install_third_party_crds,
    report_ready,
    service,
    wait_ready,
    wait_service_state,
)

BAD_PATH = {"enabled": True, "pathTemplate": "/{.metadata.namespace"}


def deploy(admin: Kubectl, namespace: str, services: int) -> None:
    admin("create", "namespace", namespace)
    deploy_model_and_template(admin, namespace)
    for i in range(services):
        admin.apply(service(f"svc-{i}", namespace))

    def cached_and_deployed() -> bool:
        caches = admin.get_json("aimtemplatecaches", "-n", namespace)["items"]
        finalized = admin.get_json("aimservices.aim.eai.amd.com", "-n", namespace)["items"]
        return (
            len(inference_services(admin, namespace)) == services
            and bool(caches)
            and all(s["metadata"].get("finalizers") for s in finalized)
        )

    wait_until(cached_and_deployed, 120, f"{services} services with caches and finalizers in {namespace}")


def delete_namespace_seconds(admin: Kubectl, namespace: str, timeout: float = 90) -> float:
    started = time.monotonic()
    admin("delete", "namespace", namespace, "--wait=false")
    gone = lambda: admin("get", "namespace", namespace, check=False).returncode != 0  # noqa: E731
    wait_until(gone, timeout, f"namespace {namespace} gone")
    return time.monotonic() - started


def webhook_pods_in_any_state(admin: Kubectl) -> list[dict[str, Any]]:
    selector = f"app.kubernetes.io/component=webhook,app.kubernetes.io/instance={RELEASE}"
    items: list[dict[str, Any]] = admin.get_json("pods", "-n", SYSTEM_NAMESPACE, "-l", selector)["items"]
    return items


def test_deletion_gc_and_status_writes_need_no_webhook(chart: ControlPlane, admin: Kubectl) -> None:
    install_third_party_crds(admin)
    deploy(admin, "outage-up", 2)
    with_webhook = delete_namespace_seconds(admin, "outage-up")

    deploy(admin, "outage-down", 2)
    deploy(admin, "outage-gc", 2)
    admin("scale", "-n", SYSTEM_NAMESPACE, WEBHOOK_DEPLOYMENT, "--replicas=0")
    wait_until(lambda: not webhook_pods_in_any_state(admin), 90, "no webhook pod left")
    try:
        # What the webhooks guard is still refused: nothing is admitted unreviewed.
        refused = admin.apply(service("new", "outage-gc"), check=False)
        assert refused.returncode != 0
        assert "failed calling webhook" in refused.stderr

        # Reads in the storage version need no conversion.
        admin("get", "aimservices.v1alpha2.aim.eai.amd.com", "-n", "outage-gc", "-o", "json")

        # The controller's status writes go on: KServe reports Ready, the service becomes Running.
        report_ready(admin, "outage-gc", inference_service_of(admin, "outage-gc", "svc-0") or "")
        wait_service_state(admin, "outage-gc", "svc-0", "Running")

        # A deleted service takes its finalizer off, and the garbage collector its children.
        admin("delete", "aimservice", "svc-0", "-n", "outage-gc", "--wait=true", timeout=90)
        wait_until(lambda: inference_service_of(admin, "outage-gc", "svc-0") is None, 60, "GC of svc-0's children")

        without_webhook = delete_namespace_seconds(admin, "outage-down")
    finally:
        admin("scale", "-n", SYSTEM_NAMESPACE, WEBHOOK_DEPLOYMENT, "--replicas=2")
        wait_ready(admin, "webhook", 2)
    print(f"namespace deletion: {with_webhook:.1f}s with the webhooks, {without_webhook:.1f}s without")
    assert without_webhook < max(3 * with_webhook, 30)

    # Back up: an invalid change of an existing service's spec (an UPDATE) is denied again.
    denied = admin.apply(service("svc-1", "outage-gc", model={"name": "qwen"}, routing=BAD_PATH), check=False)
    assert denied.returncode != 0
    assert "spec.routing.pathTemplate" in denied.stderr
    delete_namespace_seconds(admin, "outage-gc")

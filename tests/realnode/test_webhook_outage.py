"""A webhook outage on the real node: with the webhook Deployment scaled to 0, deletion (of a
service with its caches, and of a whole namespace), garbage collection and the controller's own
writes complete in their normal time; what the webhooks guard stays refused. Then it comes back.

Before matchConditions (api/admission.py), the controller's finalizer-removing patches went
through the webhooks and were refused, so the namespace hung in Terminating for the outage. The
controller no longer adds upstream's `template-cache-cleanup` finalizer to services, but services
moved over from upstream carry it: the services here are created with it, and so are the caches
with their own.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import ssl
import subprocess
import time
from typing import Any

from cryptography import x509

from api.labels import SERVICE_FINALIZER
from certs.authority import CertificateAuthority, IssuedCertificate
from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.conftest import Kubectl
from tests.realnode.support import (
    CERT_SECRET,
    CONTROLLER_DEPLOYMENT,
    RELEASE,
    SYSTEM_NAMESPACE,
    WEBHOOK_DEPLOYMENT,
    deploy_model_and_template,
    inference_service_of,
    inference_services,
    install_third_party_crds,
    pods,
    report_ready,
    service,
    wait_admission_answers,
    wait_ready,
    wait_service_state,
)

BAD_PATH = {"enabled": True, "pathTemplate": "/{.metadata.namespace"}


def deploy(admin: Kubectl, namespace: str, services: int) -> None:
    admin("create", "namespace", namespace)
    deploy_model_and_template(admin, namespace)
    for i in range(services):
        migrated = service(f"svc-{i}", namespace)
        migrated["metadata"]["finalizers"] = [SERVICE_FINALIZER]  # as upstream's controller left it
        admin.apply(migrated)

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
    wait_admission_answers(admin)
    denied = admin.apply(service("svc-1", "outage-gc", model={"name": "qwen"}, routing=BAD_PATH), check=False)
    assert denied.returncode != 0
    assert "spec.routing.pathTemplate" in denied.stderr
    delete_namespace_seconds(admin, "outage-gc")


def expired_pair(secret: dict[str, Any]) -> dict[str, str]:
    """The Secret's data with tls.crt/tls.key replaced by a pair from the same CA (same names, a
    year's validity) that expired yesterday, as if no controller had run for a year."""
    data: dict[str, str] = secret["data"]
    authority = CertificateAuthority(
        IssuedCertificate(base64.b64decode(data["ca.crt"]), base64.b64decode(data["ca.key"]))
    )
    current = x509.load_pem_x509_certificate(base64.b64decode(data["tls.crt"]))
    names = current.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    dns_names = names.get_values_for_type(x509.DNSName)
    issued = authority.issue_server(
        dns_names[0], dns_names, [], dt.timedelta(days=365), now=dt.datetime.now(dt.UTC) - dt.timedelta(days=366)
    )
    return data | {
        "tls.crt": base64.b64encode(issued.cert_pem).decode(),
        "tls.key": base64.b64encode(issued.key_pem).decode(),
    }


def serving_certificate_expiry(admin: Kubectl) -> dt.datetime:
    secret = admin.get_json("secret", "-n", SYSTEM_NAMESPACE, CERT_SECRET)
    return x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"])).not_valid_after_utc


WEBHOOK_PORT = 9443


def served_expiries(admin: Kubectl) -> list[dt.datetime]:
    """The expiry of the certificate each webhook pod serves now, read from the host by a TLS
    handshake with the pod (the pods' address range is routed to the node)."""
    expiries = []
    for pod in pods(admin, "webhook"):
        pem = ssl.get_server_certificate((pod["status"]["podIP"], WEBHOOK_PORT), timeout=5)
        expiries.append(x509.load_pem_x509_certificate(pem.encode()).not_valid_after_utc)
    return expiries


def test_an_expired_serving_certificate_is_renewed_when_a_controller_starts(
    chart: ControlPlane, admin: Kubectl
) -> None:
    admin("create", "namespace", "expiry")
    webhook_pods = {p["metadata"]["name"] for p in wait_ready(admin, "webhook", 2)}
    probe = service("probe", "expiry")

    def admitted() -> subprocess.CompletedProcess[str]:  # passes both webhooks, stores nothing
        return admin.apply(probe, "--dry-run=server", check=False)

    admin("scale", "-n", SYSTEM_NAMESPACE, CONTROLLER_DEPLOYMENT, "--replicas=0")
    wait_until(lambda: not pods(admin, "controller"), 90, "no controller pod left")
    try:
        secret = admin.get_json("secret", "-n", SYSTEM_NAMESPACE, CERT_SECRET)
        admin("replace", "-f", "-", input_text=json.dumps(secret | {"data": expired_pair(secret)}))

        # Both webhook pods load what the kubelet writes into their volume (each in its own time).
        now = dt.datetime.now(dt.UTC)
        wait_until(
            lambda: all(expiry < now for expiry in served_expiries(admin)) or None,
            240,
            "both webhook pods to serve the expired certificate",
            interval=2,
            max_interval=2,
        )

        # The API server now refuses every AIM write. It checks the certificate at the handshake,
        # so a connection opened before may still work: probes further apart than the webhook's
        # keep-alive (5 s) make it open a new one.
        def refused_as_expired() -> str | None:
            result = admitted()
            return result.stderr if result.returncode and "expired" in result.stderr else None

        refusal = wait_until(refused_as_expired, 60, "the API server to refuse it", interval=8, max_interval=8)
        assert "failed calling webhook" in refusal
    finally:
        started = time.monotonic()
        admin("scale", "-n", SYSTEM_NAMESPACE, CONTROLLER_DEPLOYMENT, "--replicas=2")

    # The first controller to lead renews the Secret at once; the kubelet updates the volumes and
    # the webhooks reload them without a restart.
    wait_until(lambda: serving_certificate_expiry(admin) > dt.datetime.now(dt.UTC) or None, 120, "the Secret renewed")
    renewed = time.monotonic() - started
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=300)
    wait_until(
        lambda: all(expiry > later for expiry in served_expiries(admin)) or None,
        240,
        "both webhook pods to serve the renewed certificate",
        interval=2,
        max_interval=2,
    )
    wait_until(lambda: admitted().returncode == 0, 60, "admission to work again", interval=2, max_interval=2)
    recovery = time.monotonic() - started
    print(f"expired certificate: Secret renewed {renewed:.1f}s, admission back {recovery:.1f}s after scaling up")
    assert {p["metadata"]["name"] for p in pods(admin, "webhook")} == webhook_pods  # reloaded, not restarted
    wait_ready(admin, "controller", 2)
    admin("delete", "namespace", "expiry", "--wait=false")

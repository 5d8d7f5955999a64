"""The webhook renews and reloads its serving certificate without restarting and without losing a
request: a load generator keeps sending admissions over new TLS connections meanwhile."""

from __future__ import annotations

import datetime as dt
import os
import socket
import ssl
import sys
import threading
import time
from pathlib import Path

import httpx

from certs import new_certificate_authority
from devcluster.controlplane import free_port
from devcluster.processes import ManagedProcess
from devcluster.waiting import wait_until

REVIEW = {
    "apiVersion": "admission.k8s.io/v1",
    "kind": "AdmissionReview",
    "request": {
        "uid": "u",
        "kind": {"group": "aim.eai.amd.com", "version": "v1alpha2", "kind": "AIMService"},
        "operation": "CREATE",
        "namespace": "ml",
        "object": {
            "apiVersion": "aim.eai.amd.com/v1alpha2",
            "kind": "AIMService",
            "metadata": {"name": "s"},
            "spec": {"model": {"name": "m"}},
        },
    },
}


def served_serial(port: int, ca: Path) -> int:
    context = ssl.create_default_context(cafile=str(ca))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=2) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    from cryptography import x509

    assert der is not None
    return int(x509.load_der_x509_certificate(der).serial_number)


def test_certificate_renewal_under_load_loses_no_request(tmp_path: Path) -> None:
    ca = new_certificate_authority("test-ca")
    ca.certificate.write(tmp_path / "ca.crt", tmp_path / "ca.key")
    first = ca.issue_server("w", ["localhost"], ["127.0.0.1"], validity=dt.timedelta(seconds=4))
    first.write(tmp_path / "tls.crt", tmp_path / "tls.key")
    port = free_port()
    env = {
        **os.environ,
        "AIM_WEBHOOK_CHECK_REFERENCES": "false",
        "AIM_WEBHOOK_CERT_RELOAD_INTERVAL": "0.1",
        "AIM_WEBHOOK_CA_CERT_FILE": str(tmp_path / "ca.crt"),
        "AIM_WEBHOOK_CA_KEY_FILE": str(tmp_path / "ca.key"),
        # 4-second certificates renewed 3 seconds before expiry: a new one about every second.
        "AIM_WEBHOOK_CERT_VALIDITY_HOURS": str(4 / 3600),
        "AIM_WEBHOOK_CERT_RENEW_BEFORE_HOURS": str(3 / 3600),
    }
    server = ManagedProcess(
        "webhooks",
        [
            sys.executable,
            "-m",
            "webhooks",
            "--host=127.0.0.1",
            f"--port={port}",
            f"--cert-file={tmp_path / 'tls.crt'}",
            f"--key-file={tmp_path / 'tls.key'}",
        ],
        tmp_path / "webhooks.log",
        env=env,
    )
    server.start()
    try:
        wait_until(lambda: served_serial(port, tmp_path / "ca.crt"), 30, "the webhook to serve TLS")
        results: list[int] = []
        failures: list[str] = []
        stop = threading.Event()

        def load() -> None:
            # No keep-alive: every request makes a new TLS handshake, so rotations are exercised.
            with httpx.Client(
                verify=ssl.create_default_context(cafile=tmp_path / "ca.crt"),
                limits=httpx.Limits(max_keepalive_connections=0),
                timeout=5,
            ) as client:
                while not stop.is_set():
                    try:
                        response = client.post(f"https://127.0.0.1:{port}/validate", json=REVIEW)
                        results.append(response.status_code)
                        if response.status_code != 200 or not response.json()["response"]["allowed"]:
                            failures.append(response.text)
                    except httpx.HTTPError as error:
                        failures.append(repr(error))

        workers = [threading.Thread(target=load) for _ in range(4)]
        for worker in workers:
            worker.start()
        serials = set()
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            serials.add(served_serial(port, tmp_path / "ca.crt"))
            time.sleep(0.2)
        stop.set()
        for worker in workers:
            worker.join(10)
        assert failures == []
        assert len(results) > 100
        assert len(serials) >= 3, f"only {len(serials)} certificates served in 6 s"
        assert server.running(), "the webhook must not restart"
    finally:
        server.stop()

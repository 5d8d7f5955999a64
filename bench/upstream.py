"""The upstream Go operator (amd-enterprise-ai/aim-engine) in the controller benchmark's rollout, on a
control plane of its own, for the column issue 19 asks for.

The Go module proxy here refuses every upstream release, so the operator is built from a source
checkout named by AIM_UPSTREAM_SOURCE (a clone of the upstream repository; nothing of it is kept in
this repository). Its own CRDs (`config/crd/bases`) are installed instead of ours and none of our
webhooks run; the rollout is the same as ours: a model with its image metadata in the spec, an
inline-source template, one Shared template cache downloaded once by a simulated Job, 1,000
AIMServices created by 8 clients, done when every InferenceService exists with the model's image,
one GPU, the service as owner and the cache's volume.

Its API requests come from controller-runtime's `rest_client_requests_total` (by method), counted
from the first create like ours; writes at idle over a fixed window after the rollout settled
(upstream has no resync counter to wait for).
"""

from __future__ import annotations

import os
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from devcluster.binaries import third_party_crds
from devcluster.controlplane import ControlPlane, ControlPlaneOptions, free_port
from devcluster.waiting import wait_until

SOURCE_VARIABLE = "AIM_UPSTREAM_SOURCE"
CACHE = Path.home() / ".cache" / "aim-engine" / "upstream-operator"
IDLE_WINDOW_SECONDS = 60.0
"""The issue's upstream column counted writes in 60 s of idle."""


def source() -> Path | None:
    value = os.environ.get(SOURCE_VARIABLE, "").strip()
    return Path(value) if value else None


def build(checkout: Path) -> Path:
    """`go build ./cmd` of the checkout, cached by its commit (a dirty tree is rebuilt)."""
    commit = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    binary = CACHE / f"manager-{commit[:12] or 'unversioned'}"
    if not binary.exists() or not commit:
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["go", "build", "-o", str(binary), "./cmd"], cwd=checkout, check=True)
    return binary


def expected(isvc: dict[str, Any], image: str) -> bool:
    """The InferenceService upstream writes for a service, as the benchmark's own check reads ours
    (upstream's env differs, so only image, GPU, owner and the cache volume are compared)."""
    predictor = isvc["spec"].get("predictor") or {}
    containers = predictor.get("containers") or [predictor.get("model") or {}]
    container = containers[0]
    requests = (container.get("resources") or {}).get("requests") or {}
    return bool(
        container.get("image") == image
        and str(requests.get("amd.com/gpu")) == "1"
        and (isvc["metadata"].get("ownerReferences") or [{}])[0].get("kind") == "AIMService"
        and any(v.get("persistentVolumeClaim") for v in predictor.get("volumes") or [])
    )


def requests_by_method(metrics: str) -> dict[str, float]:
    """controller-runtime's client requests (`rest_client_requests_total`) by method, over every
    code and host (Lease renewals included: upstream runs without leader election here, so there
    are none)."""
    counts: dict[str, float] = {}
    for line in metrics.splitlines():
        if line.startswith("rest_client_requests_total{"):
            method = line.split('method="')[1].split('"')[0]
            counts[method] = counts.get(method, 0.0) + float(line.split()[-1])
    return counts


def request_counts(metrics_url: str) -> dict[str, float]:
    return requests_by_method(httpx.get(metrics_url, timeout=10).text)


def run(
    binary: Path,
    checkout: Path,
    count: int,
    namespace: str,
    prepare: Callable[[httpx.Client], None],
    service_body: Callable[[int], dict[str, Any]],
    image: str,
    watch_type: Any,
    rss_mib: Callable[[int], float],
) -> dict[str, Any]:
    """The rollout of `count` services against the upstream operator. `prepare`, `service_body`,
    `watch_type` and `rss_mib` are the benchmark's own (bench.controller), so both sides create the
    same objects and are timed the same way."""
    with tempfile.TemporaryDirectory(prefix="aim-bench-upstream-") as tmp:
        crds = sorted((checkout / "config" / "crd" / "bases").glob("*.yaml")) + third_party_crds()
        options = ControlPlaneOptions(workdir=Path(tmp), crd_paths=crds, start_webhooks=False)
        with ControlPlane(options) as plane:
            tls = ssl.create_default_context(cafile=plane.pki.path("ca.crt"))
            tls.load_cert_chain(plane.pki.path("admin.crt"), plane.pki.path("admin.key"))
            client = httpx.Client(base_url=plane.server, verify=tls, timeout=60)
            prepare(client)
            metrics_port, probe_port = free_port(), free_port()

            def healthy() -> bool:
                try:
                    return httpx.get(f"http://127.0.0.1:{probe_port}/readyz", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False

            operator = plane.start_process(
                "upstream-operator",
                [
                    str(binary),
                    f"--metrics-bind-address=127.0.0.1:{metrics_port}",
                    "--metrics-secure=false",
                    f"--health-probe-bind-address=127.0.0.1:{probe_port}",
                ],
                healthy,
                # As ours: a ServiceAccount's token, as in a cluster (bench.controller).
                extra_env={
                    "AIM_SYSTEM_NAMESPACE": "aim-system",
                    "KUBECONFIG": str(plane.service_account_kubeconfig("aim-bench-upstream")),
                },
            )
            metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
            idle_rss = rss_mib(operator.pid)
            peak = {"rss": idle_rss}
            sampling = threading.Event()

            def sample() -> None:
                while not sampling.wait(0.5):
                    peak["rss"] = max(peak["rss"], rss_mib(operator.pid))

            threading.Thread(target=sample, daemon=True).start()
            isvc_list = f"/apis/serving.kserve.io/v1beta1/namespaces/{namespace}/inferenceservices"
            services_path = f"/apis/aim.eai.amd.com/v1alpha1/namespaces/{namespace}/aimservices"
            watch = watch_type(client, isvc_list, count, lambda isvc: expected(isvc, image))
            before = request_counts(metrics_url)
            started = time.perf_counter()

            def create(index: int) -> None:
                client.post(services_path, json=service_body(index)).raise_for_status()

            with ThreadPoolExecutor(8) as pool:
                list(pool.map(create, range(count)))
            admitted = time.perf_counter() - started
            convergence = watch.wait(max(600, count * 0.3)) - started
            at_convergence = request_counts(metrics_url)
            watch.stop()

            def writes(counts: dict[str, float]) -> float:
                return sum(v for k, v in counts.items() if k in ("POST", "PUT", "PATCH", "DELETE"))

            # Idle: once a rollout's tail has settled for 2 s (or after 120 s), a fixed window.
            def settled() -> bool:
                first = writes(request_counts(metrics_url))
                time.sleep(2)
                return writes(request_counts(metrics_url)) == first

            try:
                wait_until(settled, 120, "the upstream operator to go quiet")
                quiet_after = "settled"
            except TimeoutError:
                quiet_after = "never settled within 120 s"
            idle_before = request_counts(metrics_url)
            time.sleep(IDLE_WINDOW_SECONDS)
            idle_after = request_counts(metrics_url)
            sampling.set()
            client.close()
    rollout = {k: at_convergence.get(k, 0.0) - before.get(k, 0.0) for k in at_convergence}
    rollout = {k: v for k, v in rollout.items() if v}
    return {
        "operator": "upstream",
        "binary": binary.name,
        "services": count,
        "admitted_and_stored_s": round(admitted, 1),
        "converged_s": round(convergence, 1),
        "converged_over_admission": round(convergence / admitted, 2),
        "operator_rss_mib": {"idle": round(idle_rss), "peak": round(peak["rss"])},
        "rollout": {
            "requests_by_method": rollout,
            "requests_per_service": round(sum(rollout.values()) / count, 2),
        },
        "idle": {
            "window_s": IDLE_WINDOW_SECONDS,
            "before_the_window": quiet_after,
            "write_requests": writes(idle_after) - writes(idle_before),
        },
    }

"""`python -m bench.webhooks`: the webhook service's performance targets, each beside a baseline
measured in the same run (the machines are noisy, so ratios matter more than absolute numbers).

1. Admission: one uvicorn worker over TLS on loopback, AdmissionReviews of a realistic AIMService
   sent by vegeta at a fixed 500 reviews/s (p50/p99 latency) and as fast as it answers
   (sustained reviews/s), for /validate, /mutate and the constant-answer /baseline.
2. Conversion: one ConversionReview of 500 AIMServices, both directions, round trip over TLS,
   beside /baseline given the same body and the pure conversion in-process.
3. Listing: 1,000 AIMServices stored as v1alpha2 in a real kube-apiserver, listed through
   v1alpha1 (every object through the conversion webhook) and through v1alpha2 (native).

Targets (issue 4): validation p99 <= 5 ms at 500/s, >= 1,500/s sustained; conversion of 500
objects <= 50 ms; v1alpha1 list <= 1.5x the v1alpha2 list.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import yaml

from api.conversion import V1, V2, convert
from bench.report import emit
from certs.authority import new_certificate_authority
from devcluster.controlplane import ControlPlane, ControlPlaneOptions, free_port
from devcluster.waiting import wait_until

REPO = Path(__file__).resolve().parent.parent
NAMESPACE = "bench"


def sample_service(index: int = 0) -> dict[str, Any]:
    """A v1alpha2 AIMService with most fields the rules look at: model, overrides, routing, env."""
    documents = list(yaml.safe_load_all((REPO / "examples/v1alpha2/aimservice.yaml").read_text()))
    service = copy.deepcopy(next(d for d in documents if d["metadata"]["name"] == "qwen-auto"))
    service["metadata"] = {"name": f"svc-{index:04d}", "namespace": NAMESPACE, "labels": {"team": "ml"}}
    service["spec"]["env"] = [{"name": "VLLM_LOGGING_LEVEL", "value": "INFO"}, {"name": "HF_HUB_OFFLINE", "value": "1"}]
    service["spec"]["runtimeConfigName"] = "default"
    return service


def admission_review(obj: dict[str, Any]) -> dict[str, Any]:
    group, version = obj["apiVersion"].split("/")
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {"group": group, "version": version, "kind": obj["kind"]},
            "resource": {"group": group, "version": version, "resource": "aimservices"},
            "name": obj["metadata"]["name"],
            "namespace": obj["metadata"]["namespace"],
            "operation": "CREATE",
            "userInfo": {"username": "bench"},
            "object": obj,
            "dryRun": False,
        },
    }


def conversion_review(objects: list[dict[str, Any]], desired: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "ConversionReview",
        "request": {"uid": str(uuid.uuid4()), "desiredAPIVersion": desired, "objects": objects},
    }


# -- the server under test ------------------------------------------------------------------------


class WebhookServer:
    def __init__(self, workdir: Path):
        self.ca_file = workdir / "ca.crt"
        ca = new_certificate_authority("bench-ca")
        ca.certificate.write(self.ca_file, workdir / "ca.key")
        ca.issue_server("aim-webhooks", ["localhost"], ["127.0.0.1"]).write(workdir / "tls.crt", workdir / "tls.key")
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update(
            AIM_WEBHOOK_PORT=str(self.port),
            AIM_WEBHOOK_CERT_FILE=str(workdir / "tls.crt"),
            AIM_WEBHOOK_KEY_FILE=str(workdir / "tls.key"),
        )
        self.process = subprocess.Popen([sys.executable, "-m", "bench.webhook_server"], env=env, cwd=REPO)
        with httpx.Client(verify=ssl.create_default_context(cafile=self.ca_file)) as client:

            def healthy() -> bool:
                try:
                    return client.get(f"{self.url}/healthz").status_code == 200
                except httpx.TransportError:
                    return False

            wait_until(healthy, timeout=30, what="the benchmark webhook server")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


# -- admission under load, with vegeta -----------------------------------------------------------


def vegeta_binary() -> Path:
    subprocess.run([REPO / "hack/build-binaries.sh", "bench"], check=True, capture_output=True)
    bin_dir = subprocess.run(
        [REPO / "hack/build-binaries.sh", "--print-bin-dir"], check=True, capture_output=True, text=True
    ).stdout.strip()
    return Path(bin_dir) / "vegeta-v12.13.0"


def attack(
    vegeta: Path, server: WebhookServer, path: str, body: bytes, rate: int, seconds: float, workdir: Path
) -> dict[str, Any]:
    """rate > 0: open loop at that rate; rate == 0: as fast as the server answers (16 in flight)."""
    target = {
        "method": "POST",
        "url": server.url + path,
        "body": base64.b64encode(body).decode(),
        "header": {"Content-Type": ["application/json"]},
    }
    targets = workdir / "targets.json"
    targets.write_text(json.dumps(target) + "\n")
    pacing = [f"-rate={rate}/s"] if rate else ["-rate=0", "-max-workers=16", "-workers=16"]
    attack_run = subprocess.run(
        [
            vegeta,
            "attack",
            "-format=json",
            f"-targets={targets}",
            f"-duration={seconds}s",
            f"-root-certs={server.ca_file}",
            "-timeout=10s",
            *pacing,
        ],
        capture_output=True,
    )
    if attack_run.returncode != 0:
        raise RuntimeError(f"vegeta attack failed: {attack_run.stderr.decode()}")
    report = subprocess.run([vegeta, "report", "-type=json"], input=attack_run.stdout, check=True, capture_output=True)
    result: dict[str, Any] = json.loads(report.stdout)
    latencies = result["latencies"]
    return {
        "requests": result["requests"],
        "success": result["success"],
        "status_codes": result["status_codes"],
        "throughput": round(result["throughput"], 1),
        "p50_ms": round(latencies["50th"] / 1e6, 3),
        "p99_ms": round(latencies["99th"] / 1e6, 3),
        "max_ms": round(latencies["max"] / 1e6, 3),
    }


def bench_admission(server: WebhookServer, seconds: float, workdir: Path) -> dict[str, Any]:
    vegeta = vegeta_binary()
    body = json.dumps(admission_review(sample_service())).encode()
    results: dict[str, Any] = {}
    for path in ("/baseline", "/validate", "/mutate"):
        attack(vegeta, server, path, body, 200, 2, workdir)  # warm-up: imports, caches, TLS sessions
        results[path] = {
            "at_500": attack(vegeta, server, path, body, 500, seconds, workdir),
            "max": attack(vegeta, server, path, body, 0, seconds, workdir),
        }
    return results


# -- conversion of 500 objects --------------------------------------------------------------------


def timed(action: Callable[[], object], repetitions: int) -> dict[str, float]:
    for _ in range(3):
        action()
    samples = []
    for _ in range(repetitions):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return summarise(samples)


def summarise(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2),
    }


def bench_conversion(server: WebhookServer, repetitions: int) -> dict[str, Any]:
    services_v2 = [sample_service(i) for i in range(500)]
    services_v1 = [convert(s, V1) for s in services_v2]
    results: dict[str, Any] = {}
    with httpx.Client(verify=ssl.create_default_context(cafile=server.ca_file), timeout=30) as client:
        for label, objects, desired in (
            ("v1alpha2->v1alpha1", services_v2, V1),
            ("v1alpha1->v1alpha2", services_v1, V2),
        ):
            body = json.dumps(conversion_review(objects, desired)).encode()
            headers = {"Content-Type": "application/json"}

            def post(path: str, body: bytes = body, headers: dict[str, str] = headers) -> None:
                response = client.post(server.url + path, content=body, headers=headers)
                response.raise_for_status()

            answer = client.post(server.url + "/convert", content=body, headers=headers).json()
            assert answer["response"]["result"]["status"] == "Success", answer["response"]["result"]
            assert len(answer["response"]["convertedObjects"]) == 500
            results[label] = {
                "convert_over_tls": timed(lambda: post("/convert"), repetitions),
                "baseline_same_body": timed(lambda: post("/baseline"), repetitions),
                "in_process": timed(
                    lambda objects=objects, desired=desired: [convert(o, desired) for o in objects], repetitions
                ),
                "request_bytes": len(body),
            }
    return results


def convert_all(objects: list[dict[str, Any]], desired: str) -> list[dict[str, Any]]:
    return [convert(o, desired) for o in objects]


# -- listing 1,000 stored objects through both versions --------------------------------------------


def interleaved(
    labels: dict[str, str], action: Callable[[str], object], repetitions: int
) -> dict[str, dict[str, float]]:
    """Alternate the variants so that drift in machine load hits both alike."""
    samples: dict[str, list[float]] = {label: [] for label in labels}
    for round_number in range(repetitions + 3):
        for label, argument in labels.items():
            started = time.perf_counter()
            action(argument)
            if round_number >= 3:  # warm-up rounds
                samples[label].append((time.perf_counter() - started) * 1000)
    return {label: summarise(values) for label, values in samples.items()}


def conversion_counters(webhook_url: str, ca_file: str) -> dict[str, float]:
    """Objects converted, ConversionReviews answered, and seconds spent in the handler so far."""
    metrics = httpx.get(f"{webhook_url}/metrics", verify=ssl.create_default_context(cafile=ca_file)).text
    wanted = {
        "objects": "aim_webhook_converted_objects_total",
        "reviews": 'aim_webhook_review_seconds_count{endpoint="convert"}',
        "handler_seconds": 'aim_webhook_review_seconds_sum{endpoint="convert"}',
    }
    values = dict.fromkeys(wanted, 0.0)
    for line in metrics.splitlines():
        for key, prefix in wanted.items():
            if line.startswith(prefix + " "):
                values[key] = float(line.split()[-1])
    return values


def bench_listing(workdir: Path, count: int, repetitions: int, watch_cache: bool) -> dict[str, Any]:
    """With the watch cache (the default), each served version keeps its own cache of objects
    converted once per write, so a list converts nothing; without it every list reads etcd and
    sends all objects through the conversion webhook, the worst case."""
    crds = sorted((REPO / "crds").glob("*.yaml"))
    options = ControlPlaneOptions(
        workdir=workdir / f"control-plane-{watch_cache}",
        simulate_nodes=False,
        crd_paths=crds,
        apiserver_args=[] if watch_cache else ["--watch-cache=false"],
    )
    with ControlPlane(options) as plane:
        pki = plane.pki
        tls = ssl.create_default_context(cafile=pki.path("ca.crt"))
        tls.load_cert_chain(pki.path("admin.crt"), pki.path("admin.key"))
        client = httpx.Client(base_url=plane.server, verify=tls, timeout=60)
        client.post("/api/v1/namespaces", json={"metadata": {"name": NAMESPACE}}).raise_for_status()
        collection = f"/apis/aim.eai.amd.com/{{}}/namespaces/{NAMESPACE}/aimservices"

        def create(index: int) -> None:
            client.post(collection.format("v1alpha2"), json=sample_service(index)).raise_for_status()

        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(count)))
        create_seconds = time.perf_counter() - started

        def list_through(version: str) -> None:
            response = client.get(collection.format(version))
            response.raise_for_status()

        for version in ("v1alpha1", "v1alpha2"):
            items = client.get(collection.format(version)).json()["items"]
            assert len(items) == count
            assert {i["apiVersion"] for i in items} == {f"aim.eai.amd.com/{version}"}
        before = conversion_counters(plane.webhook_url, pki.path("ca.crt"))
        samples = interleaved(
            {"v1alpha2_native": "v1alpha2", "v1alpha1_converted": "v1alpha1"}, list_through, repetitions
        )
        after = conversion_counters(plane.webhook_url, pki.path("ca.crt"))
        lists = repetitions + 3
        results: dict[str, Any] = {
            "objects": count,
            "create_through_admission_s": round(create_seconds, 1),
            **samples,
            "per_v1alpha1_list": {
                "objects_converted": (after["objects"] - before["objects"]) / lists,
                "conversion_reviews": (after["reviews"] - before["reviews"]) / lists,
                "webhook_handler_ms": round((after["handler_seconds"] - before["handler_seconds"]) * 1000 / lists, 1),
            },
        }
        client.close()
    results["ratio_median"] = round(
        results["v1alpha1_converted"]["median_ms"] / results["v1alpha2_native"]["median_ms"], 2
    )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="length of each load phase")
    parser.add_argument("--repetitions", type=int, default=40, help="timed repetitions of conversion and listing")
    parser.add_argument("--objects", type=int, default=1000, help="stored AIMServices to list")
    parser.add_argument("--only", choices=["admission", "conversion", "listing"], action="append")
    parser.add_argument("--output", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    wanted = set(args.only or ["admission", "conversion", "listing"])
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="aim-bench-") as tmp:
        workdir = Path(tmp)
        if wanted & {"admission", "conversion"}:
            server = WebhookServer(workdir)
            try:
                if "admission" in wanted:
                    results["admission"] = bench_admission(server, args.seconds, workdir)
                if "conversion" in wanted:
                    results["conversion"] = bench_conversion(server, args.repetitions)
            finally:
                server.stop()
        if "listing" in wanted:
            results["listing_watch_cache"] = bench_listing(workdir, args.objects, args.repetitions, watch_cache=True)
            results["listing_no_watch_cache"] = bench_listing(
                workdir, args.objects, args.repetitions, watch_cache=False
            )
    emit(results, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m bench.admission`: creating 1,000 AIMServices through both admission webhooks against
the bare API server (the webhook configurations removed), in one run, alternated.

Target (issue 19): bulk create through both webhooks <= 1.5x the bare API server's time. No
controller runs: this is admission alone. Beside the wall times, where a webhook call's time goes:
the API server's own measure of each call (`apiserver_admission_webhook_admission_duration_seconds`)
against the handler's time inside the webhook service (`aim_webhook_review_seconds`); the
difference is connection handling, TLS and (de)serialisation on both sides.
"""

from __future__ import annotations

import argparse
import ssl
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.report import emit
from devcluster.controlplane import ControlPlane, ControlPlaneOptions

REPO = Path(__file__).resolve().parent.parent
V2 = "/apis/aim.eai.amd.com/v1alpha2"
ADMISSION = "/apis/admissionregistration.k8s.io/v1"
KINDS = ("validatingwebhookconfigurations", "mutatingwebhookconfigurations")


def ours(client: httpx.Client) -> dict[str, list[dict[str, Any]]]:
    """The project's webhook configurations, as they were registered."""
    found = {}
    for kind in KINDS:
        items = client.get(f"{ADMISSION}/{kind}").json()["items"]
        found[kind] = [i for i in items if any("aim.eai.amd.com" in w["name"] for w in i.get("webhooks", []))]
    return found


def set_webhooks(client: httpx.Client, saved: dict[str, list[dict[str, Any]]], on: bool) -> None:
    for kind, items in saved.items():
        for item in items:
            name = item["metadata"]["name"]
            client.delete(f"{ADMISSION}/{kind}/{name}")
            if on:
                clean = {k: v for k, v in item.items() if k != "status"}
                clean["metadata"] = {"name": name, "labels": item["metadata"].get("labels", {})}
                client.post(f"{ADMISSION}/{kind}", json=clean).raise_for_status()
    time.sleep(3)  # the API server's informer of webhook configurations catches up


def create_all(client: httpx.Client, namespace: str, count: int, clients: int) -> float:
    client.post("/api/v1/namespaces", json={"metadata": {"name": namespace}}).raise_for_status()

    def create(index: int) -> None:
        body = {
            "apiVersion": "aim.eai.amd.com/v1alpha2",
            "kind": "AIMService",
            "metadata": {"name": f"svc-{index:04d}"},
            "spec": {"model": {"name": "qwen"}, "routing": {"enabled": False}},
        }
        client.post(f"{V2}/namespaces/{namespace}/aimservices", json=body).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(create, range(count)))
    return time.perf_counter() - started


def histogram_means(text: str, metric: str, label: str) -> dict[str, tuple[float, float]]:
    """{label value: (sum, count)} of a Prometheus histogram."""
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for line in text.splitlines():
        for suffix, into in (("_sum{", sums), ("_count{", counts)):
            if line.startswith(metric + suffix) and f'{label}="' in line:
                value = line.split(f'{label}="')[1].split('"')[0]
                into[value] = into.get(value, 0.0) + float(line.split()[-1])
    return {k: (sums[k], counts.get(k, 0.0)) for k in sums}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aim-bench-admission-") as tmp:
        crds = sorted((REPO / "crds").glob("*.yaml"))
        with ControlPlane(ControlPlaneOptions(workdir=Path(tmp), crd_paths=crds, simulate_nodes=False)) as plane:
            tls = ssl.create_default_context(cafile=plane.pki.path("ca.crt"))
            tls.load_cert_chain(plane.pki.path("admin.crt"), plane.pki.path("admin.key"))
            limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
            client = httpx.Client(base_url=plane.server, verify=tls, timeout=60, limits=limits)
            saved = ours(client)
            times: dict[str, list[float]] = {"webhooks": [], "bare": []}
            for round_ in range(args.rounds):
                for mode in ("webhooks", "bare") if round_ % 2 == 0 else ("bare", "webhooks"):
                    set_webhooks(client, saved, on=mode == "webhooks")
                    times[mode].append(create_all(client, f"{mode}-{round_}", args.count, args.clients))
            set_webhooks(client, saved, on=True)
            apiserver = histogram_means(
                client.get("/metrics").text, "apiserver_admission_webhook_admission_duration_seconds", "name"
            )
            webhook_metrics = httpx.get(f"{plane.webhook_url}/metrics", verify=False).text  # noqa: S501 - local CA
            handler = histogram_means(webhook_metrics, "aim_webhook_review_seconds", "endpoint")
            client.close()
    best = {mode: min(values) for mode, values in times.items()}
    results: dict[str, Any] = {
        "services": args.count,
        "clients": args.clients,
        "seconds": {mode: [round(v, 2) for v in values] for mode, values in times.items()},
        "best_webhooks_seconds": round(best["webhooks"], 2),
        "best_bare_seconds": round(best["bare"], 2),
        "ratio": round(best["webhooks"] / best["bare"], 2),
        "apiserver_ms_per_call": {k: round(1000 * s / c, 2) for k, (s, c) in apiserver.items() if c},
        "handler_ms_per_call": {k: round(1000 * s / c, 3) for k, (s, c) in handler.items() if c},
    }
    emit(results, args.output)


if __name__ == "__main__":
    main()

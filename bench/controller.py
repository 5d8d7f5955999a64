"""`python -m bench.controller`: the AIMService controller at scale on the local control plane.

1,000 AIMServices are created at once (through both admission webhooks, 8 concurrent clients)
against a model and template that the catalog controllers make Ready, sharing one model cache;
the benchmark measures how long until every one has its InferenceService with the expected spec,
the controller's memory, the API requests it made per reconcile, and the write requests of a full
resync in which nothing changed.

Targets (issue 5): converged in <= 60 s; controller RSS <= 250 MB; 0 writes on an idle resync.
The baseline beside the convergence time is the time the API server took to admit and store the
1,000 services themselves, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench import upstream
from bench.report import emit
from devcluster.binaries import third_party_crds
from devcluster.controlplane import ControlPlane, ControlPlaneOptions, free_port
from devcluster.waiting import wait_until

REPO = Path(__file__).resolve().parent.parent
NAMESPACE = "bench"
IMAGE = "registry.local/amdenterpriseai/aim-qwen3-32b:0.8.5"
V1 = "/apis/aim.eai.amd.com/v1alpha1"
V2 = "/apis/aim.eai.amd.com/v1alpha2"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU time of each named process so far (/proc/PID/stat, clock ticks)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for name, pid in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        found[name] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def counters(metrics_url: str, by_kind: bool = False) -> dict[str, float]:
    """Controller metrics: API requests by verb (Lease renewals apart: leader election is not
    reconciling) or by verb and kind, reconciles."""
    values: dict[str, float] = {}
    for line in httpx.get(metrics_url).text.splitlines():
        if line.startswith("aim_controller_api_requests_total{"):
            verb = line.split('verb="')[1].split('"')[0]
            kind = line.split('kind="')[1].split('"')[0]
            if by_kind:
                verb = f"{verb} {kind}"
            elif kind == "Lease":
                verb = f"Lease {verb}"
            values[verb] = values.get(verb, 0.0) + float(line.split()[-1])
        elif line.startswith("aim_controller_reconciles_total{"):
            values["reconciles"] = values.get("reconciles", 0.0) + float(line.split()[-1])
    return values


def since(before: dict[str, float], now: dict[str, float]) -> dict[str, float]:
    """The counters' increase (counters that did not move are left out)."""
    return {k: v - before.get(k, 0.0) for k, v in now.items() if v - before.get(k, 0.0)}


def writes(values: dict[str, float]) -> float:
    return sum(v for k, v in values.items() if k in ("POST", "PUT", "PATCH", "DELETE"))


def prepare(client: httpx.Client, model_version: str = V2) -> None:
    """A model and a template the catalog controllers make Ready by themselves: the model's image
    metadata is given in its spec (no registry), the template's model source is inline (no
    discovery Job). Every service shares one template cache, downloaded once by a simulated Job.
    The upstream operator's CRDs serve v1alpha1 only (`model_version`)."""
    client.post("/api/v1/namespaces", json={"metadata": {"name": NAMESPACE}}).raise_for_status()
    model = {
        "apiVersion": f"aim.eai.amd.com/{model_version.rsplit('/', 1)[-1]}",
        "kind": "AIMModel",
        "metadata": {"name": "qwen"},
        "spec": {"image": IMAGE, "imageMetadata": {"model": {"canonicalName": "Qwen/Qwen3-32B"}}},
    }
    client.post(f"{model_version}/namespaces/{NAMESPACE}/aimmodels", json=model).raise_for_status()
    template = {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMServiceTemplate",
        "metadata": {"name": "qwen-mi300x"},
        "spec": {
            "modelName": "qwen",
            "metric": "latency",
            "precision": "fp8",
            "type": "optimized",
            "hardware": {"gpu": {"requests": 1, "models": ["MI300X"]}},
            "modelSources": [{"modelId": "Qwen/Qwen3-32B", "sourceUri": "hf://Qwen/Qwen3-32B", "size": "64Gi"}],
        },
    }
    client.post(f"{V1}/namespaces/{NAMESPACE}/aimservicetemplates", json=template).raise_for_status()


def as_expected(isvc: dict[str, Any]) -> bool:
    container = isvc["spec"]["predictor"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    return bool(
        container["image"] == IMAGE
        and env.get("AIM_MODEL_ID") == "Qwen/Qwen3-32B"
        and container["resources"]["requests"].get("amd.com/gpu") == "1"
        and isvc["metadata"]["ownerReferences"][0]["kind"] == "AIMService"
        and any(v.get("persistentVolumeClaim") for v in isvc["spec"]["predictor"].get("volumes", []))
    )


class ConvergenceWatch:
    """Follows the InferenceServices of the namespace through one watch and notes when `count`
    of them are as expected. Polling a full list instead (12 MB for 1,000 InferenceServices, every
    half second) loaded the API server the controller is measured against by a LIST per probe;
    a watch costs it what the controller's own watch costs, and times convergence to the event."""

    def __init__(
        self, client: httpx.Client, path: str, count: int, check: Callable[[dict[str, Any]], bool] | None = None
    ):
        self.client, self.path, self.count = client, path, count
        self.check = check or as_expected
        self.expected: dict[str, bool] = {}
        self.converged_at: float | None = None
        self.done = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        while not self.stopping.is_set():
            response = self.client.get(self.path)
            if response.status_code != 200:  # e.g. the CRD not served yet on a fresh API server
                self.stopping.wait(0.5)
                continue
            listed = response.json()
            self.expected = {i["metadata"]["name"]: self.check(i) for i in listed["items"]}
            self._check()
            params = {"watch": "1", "resourceVersion": listed["metadata"]["resourceVersion"], "timeoutSeconds": "60"}
            try:
                with self.client.stream("GET", self.path, params=params, timeout=None) as events:
                    for line in events.iter_lines():
                        if self.stopping.is_set():
                            return
                        event = json.loads(line)
                        if event["type"] == "ERROR":  # e.g. 410 Gone: list again
                            break
                        name = event["object"]["metadata"]["name"]
                        if event["type"] == "DELETED":
                            self.expected.pop(name, None)
                        else:
                            self.expected[name] = self.check(event["object"])
                        self._check()
            except httpx.HTTPError:
                continue

    def _check(self) -> None:
        if self.converged_at is None and sum(self.expected.values()) >= self.count:
            self.converged_at = time.perf_counter()
            self.done.set()

    def wait(self, timeout: float) -> float:
        if not self.done.wait(timeout):
            raise TimeoutError(f"{self.count} InferenceServices not as expected after {timeout:.0f}s")
        assert self.converged_at is not None
        return self.converged_at

    def stop(self) -> None:
        self.stopping.set()


def run(count: int, resync_seconds: float, store: bool = True, resync: bool = True) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="aim-bench-controller-") as tmp:
        crds = sorted((REPO / "crds").glob("*.yaml")) + third_party_crds()
        with ControlPlane(ControlPlaneOptions(workdir=Path(tmp), crd_paths=crds)) as plane:
            tls = ssl.create_default_context(cafile=plane.pki.path("ca.crt"))
            tls.load_cert_chain(plane.pki.path("admin.crt"), plane.pki.path("admin.key"))
            client = httpx.Client(base_url=plane.server, verify=tls, timeout=60)
            prepare(client)
            metrics_port = free_port()
            controller = plane.start_controller(
                env={
                    "KUBECONFIG": str(plane.service_account_kubeconfig("aim-bench-controller")),
                    "AIM_CONTROLLER_METRICS_PORT": str(metrics_port),
                    "AIM_CONTROLLER_RESYNC_SECONDS": str(resync_seconds),
                    "AIM_CONTROLLER_STORE": "true" if store else "false",
                }
            )
            metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
            idle_rss = rss_mib(controller.pid)
            peak = {"rss": idle_rss}
            sampling = threading.Event()

            def sample() -> None:
                while not sampling.wait(0.5):
                    peak["rss"] = max(peak["rss"], rss_mib(controller.pid))

            threading.Thread(target=sample, daemon=True).start()

            def create(index: int) -> None:
                body = {
                    "apiVersion": "aim.eai.amd.com/v1alpha2",
                    "kind": "AIMService",
                    "metadata": {"name": f"svc-{index:04d}"},
                    "spec": {"model": {"name": "qwen"}},
                }
                client.post(f"{V2}/namespaces/{NAMESPACE}/aimservices", json=body).raise_for_status()

            isvc_list = f"/apis/serving.kserve.io/v1beta1/namespaces/{NAMESPACE}/inferenceservices"
            watch = ConvergenceWatch(client, isvc_list, count)
            pids = {p.name: p.pid for p in plane.processes if p.running()} | {"benchmark client": os.getpid()}
            cpu_before = cpu_seconds(pids)
            # Requests from here on are the rollout's: the start-up lists of every watched kind
            # and the CRD checks came before (they are the same for 1 service or 10,000).
            requests_before = counters(metrics_url)
            by_kind_before = counters(metrics_url, by_kind=True)
            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(create, range(count)))
            admitted = time.perf_counter() - started
            convergence = watch.wait(max(600, count * 0.12)) - started
            at_convergence = since(requests_before, counters(metrics_url))
            by_kind = since(by_kind_before, counters(metrics_url, by_kind=True))
            cpu_after = cpu_seconds(pids)
            watch.stop()
            # The watch's verdict checked once more on a full list (not timed).
            items = client.get(isvc_list).json()["items"]
            if not (len(items) == count and all(as_expected(i) for i in items)):
                raise RuntimeError("the watch saw every InferenceService as expected; a list does not")

            # Let the tail of the rollout (status writes, events) settle, then watch a whole resync.
            def settled() -> bool:
                before = counters(metrics_url)
                time.sleep(2)
                return writes(counters(metrics_url)) == writes(before)

            wait_until(settled, 120, "the controller to go quiet")
            quiet = counters(metrics_url)
            if resync:
                wait_until(
                    lambda: counters(metrics_url).get("reconciles", 0) - quiet.get("reconciles", 0) >= count,
                    resync_seconds * 3 + 120,
                    "a full resync",
                )
                time.sleep(2)
            after_resync = counters(metrics_url)
            sampling.set()
            final_rss = rss_mib(controller.pid)
            controller.stop()
            client.close()

    resync_reconciles = after_resync.get("reconciles", 0) - quiet.get("reconciles", 0)
    resync_reads = after_resync.get("GET", 0) - quiet.get("GET", 0)
    return {
        "store": store,
        "services": count,
        "admitted_and_stored_s": round(admitted, 1),
        "converged_s": round(convergence, 1),
        "converged_over_admission": round(convergence / admitted, 2),
        "controller_rss_mib": {"idle": round(idle_rss), "peak": round(peak["rss"]), "after": round(final_rss)},
        "rollout": {
            "reconciles": at_convergence.get("reconciles", 0),
            "requests_by_verb": {k: v for k, v in at_convergence.items() if k != "reconciles"},
            "requests_by_verb_and_kind": {k: v for k, v in sorted(by_kind.items()) if k != "reconciles"},
            "requests_per_service": round(
                sum(v for k, v in at_convergence.items() if k in ("GET", "POST", "PUT", "PATCH")) / count, 2
            ),
            "requests_per_reconcile": round(
                sum(v for k, v in at_convergence.items() if k in ("GET", "POST", "PUT", "PATCH"))
                / max(1, at_convergence.get("reconciles", 1)),
                2,
            ),
        },
        "rollout_cpu_seconds": {
            name: round(cpu_after[name] - cpu_before[name], 1) for name in cpu_after if name in cpu_before
        },
        "idle_resync": {
            "reconciles": resync_reconciles,
            "write_requests": writes(after_resync) - writes(quiet),
            "reads_per_reconcile": round(resync_reads / max(1, resync_reconciles), 2),
        },
    }


UPSTREAM_MODULE = "github.com/amd-enterprise-ai/aim-engine"
UPSTREAM_VERSIONS = ("v0.2.4", "v0.2.2", "v0.2.0")
"""The upstream Go operator's releases to compare with, newest first (issue 19: build it from its
Go module like the other binaries, or say why the column is missing)."""


def upstream_operator() -> dict[str, str]:
    """Whether the upstream operator can run beside ours: built from the source checkout that
    AIM_UPSTREAM_SOURCE names (bench.upstream), else from its module, which the Go module proxy
    here refuses (the reason is the column's skip line)."""
    checkout = upstream.source()
    if checkout is not None:
        try:
            binary = upstream.build(checkout)
        except (OSError, subprocess.CalledProcessError) as error:
            return {"status": "skipped", "why": f"building the upstream operator from {checkout} failed: {error}"}
        return {"status": "available", "why": f"built from {checkout}", "binary": str(binary), "source": str(checkout)}
    refusals = []
    for version in UPSTREAM_VERSIONS:
        found = subprocess.run(
            ["go", "list", "-m", "-json", f"{UPSTREAM_MODULE}@{version}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if found.returncode == 0:
            return {
                "status": "skipped",
                "why": f"{version} is served; set {upstream.SOURCE_VARIABLE} to a checkout to build and run it",
            }
        status = re.search(r"\b(\d{3}) [A-Z][a-z]+", found.stderr)
        refusals.append(f"{version}: {status.group(0) if status else 'refused'}")
    return {
        "status": "skipped",
        "why": f"{UPSTREAM_MODULE} is not served by the Go module proxy here ({'; '.join(refusals)}) and "
        f"{upstream.SOURCE_VARIABLE} names no checkout; no column for the upstream operator",
    }


def upstream_service(index: int) -> dict[str, Any]:
    """The benchmark's service in upstream's API (v1alpha1, the only version its CRDs serve)."""
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMService",
        "metadata": {"name": f"svc-{index:04d}"},
        "spec": {"model": {"name": "qwen"}},
    }


def side_by_side(count: int, resync_seconds: float, found: dict[str, str], rounds: int = 2) -> dict[str, Any]:
    """Ours and the upstream operator alternated, `rounds` each, and the ratios of their means."""
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(run(count, resync_seconds))
        theirs.append(
            upstream.run(
                Path(found["binary"]),
                Path(found["source"]),
                count,
                NAMESPACE,
                lambda client: prepare(client, model_version=V1),
                upstream_service,
                IMAGE,
                ConvergenceWatch,
                rss_mib,
            )
        )

    def mean(runs: list[dict[str, Any]], *path: str) -> float:
        values = []
        for r in runs:
            value: Any = r
            for key in path:
                value = value[key]
            values.append(float(value))
        return sum(values) / len(values)

    converged = (mean(ours, "converged_s"), mean(theirs, "converged_s"))
    return {
        "runs": ours,
        "upstream_runs": theirs,
        "summary": {
            "converged_s": {"ours": round(converged[0], 1), "upstream": round(converged[1], 1)},
            "upstream_over_ours": round(converged[1] / converged[0], 2),
            "requests_per_service": {
                "ours": round(mean(ours, "rollout", "requests_per_service"), 2),
                "upstream": round(mean(theirs, "rollout", "requests_per_service"), 2),
            },
            "peak_rss_mib": {
                "ours": round(mean(ours, "controller_rss_mib", "peak")),
                "upstream": round(mean(theirs, "operator_rss_mib", "peak")),
            },
            "idle_writes": {
                "ours (a full resync)": mean(ours, "idle_resync", "write_requests"),
                f"upstream ({upstream.IDLE_WINDOW_SECONDS:.0f} s)": mean(theirs, "idle", "write_requests"),
            },
        },
        "upstream_operator": found,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--resync-seconds", type=float, default=30)
    parser.add_argument(
        "--compare-store",
        action="store_true",
        help="also run with every read from the API server (AIM_CONTROLLER_STORE=false), alternating",
    )
    parser.add_argument(
        "--memory-slope",
        action="store_true",
        help="the controller's RSS at 1,000 and at 10,000 services, and the cost per service (no resync)",
    )
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if args.memory_slope:
        small, large = (run(n, args.resync_seconds, resync=False) for n in (1000, 10000))
        slope = {
            key: round(
                1024
                * (large["controller_rss_mib"][key] - small["controller_rss_mib"][key])
                / (large["services"] - small["services"]),
                1,
            )
            for key in ("peak", "after")
        }
        emit({"runs": [small, large], "kib_per_service": slope}, args.output)
        return 0
    found = upstream_operator()
    print(f"upstream operator: {found['status']}: {found['why']}", file=sys.stderr)
    if not args.compare_store:
        if found["status"] == "available":
            emit(side_by_side(args.services, args.resync_seconds, found), args.output)
        else:
            emit(run(args.services, args.resync_seconds) | {"upstream_operator": found}, args.output)
        return 0
    runs = [run(args.services, args.resync_seconds, store) for store in (False, True, False, True)]
    server, memory = [r for r in runs if not r["store"]], [r for r in runs if r["store"]]

    def mean(rs: list[dict[str, Any]], *path: str) -> float:
        values = []
        for r in rs:
            value: Any = r
            for key in path:
                value = value[key]
            values.append(float(value))
        return sum(values) / len(values)

    summary = {
        "converged_over_admission": {
            "server_reads": mean(server, "converged_over_admission"),
            "store_reads": mean(memory, "converged_over_admission"),
        },
        "requests_per_service": {
            "server_reads": mean(server, "rollout", "requests_per_service"),
            "store_reads": mean(memory, "rollout", "requests_per_service"),
        },
        "peak_rss_mib": {
            "server_reads": mean(server, "controller_rss_mib", "peak"),
            "store_reads": mean(memory, "controller_rss_mib", "peak"),
        },
    }
    emit({"runs": runs, "summary": summary, "upstream_operator": found}, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())

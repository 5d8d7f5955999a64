"""`python -m bench.download`: the downloader's throughput and memory, each beside a baseline
measured in the same run on the same server (the machines are noisy; ratios matter).

1. S3: one 2 GiB object from the local moto server (tests/servers/s3.py): `aim-download` as a
   subprocess, as the download Job runs it, against boto3's own `download_file` (TransferManager
   with its default configuration) in this process.
2. Hugging Face over plain HTTP: one large file (2 GiB by default) from the Hub look-alike
   (tests/servers/hf.py): `aim-download` with AIM_DOWNLOADER_PROTOCOL=HTTP against `curl -o` of
   the same resolve URL. XET and HF_TRANSFER are measured too, for information.
3. Peak RSS of the downloader (supervisor + worker, sampled from /proc every 50 ms; each
   process's own VmHWM too).

Variants alternate (baseline, ours, baseline, ours, ...) so drift in machine load hits both.
Both write to the same place: a tmpfs by default (`--destination disk` for the work directory's
disk, whose write speed varies several-fold from run to run here).
Targets (issue): S3 and HTTP throughput >= 0.9x the baseline; peak RSS < 300 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from bench.report import emit
from tests.servers.fixtures import AIM_DOWNLOAD, HfServer, S3Server, download_env

MiB = 1024 * 1024
GiB = 1024 * MiB

MEMORY_FILESYSTEM = Path("/dev/shm")  # noqa: S108  # each run lands in a private mkdtemp directory there
"""Where downloads land by default. Writing 2 GiB to this VM's disk took anywhere from 0.6 to
3.4 s for the same bytes (page-cache allocation and write-back outside either client's control),
which swamps the difference between the clients; a tmpfs takes 1.1-1.4 s, every time."""


def write_data(path: Path, size: int) -> None:
    """Random 16 MiB blocks, repeated (fast to make; nothing on the path compresses)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(16 * MiB)
    with path.open("wb") as file:
        for offset in range(0, size, len(block)):
            file.write(block[: min(len(block), size - offset)])


# -- memory of a process tree ---------------------------------------------------------------------


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            found.extend(int(child) for child in text)
    except OSError:
        pass
    return found


class TreeMemory:
    """Samples the RSS of a process and its descendants until it exits."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak_tree_kib = 0
        self.peak_by_process: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = [self.pid]
            index = 0
            while index < len(pids):
                pids.extend(_children(pids[index]))
                index += 1
            total = 0
            for pid in pids:
                rss = _status_kib(pid, "VmRSS")
                hwm = _status_kib(pid, "VmHWM")
                total += rss
                self.peak_by_process[pid] = max(self.peak_by_process.get(pid, 0), hwm)
            self.peak_tree_kib = max(self.peak_tree_kib, total)
            time.sleep(0.05)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return {
            "peak_tree_rss_mib": round(self.peak_tree_kib / 1024, 1),
            "peak_process_hwm_mib": sorted((round(v / 1024, 1) for v in self.peak_by_process.values()), reverse=True),
        }


# -- runs -----------------------------------------------------------------------------------------


def run_downloader(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    target = Path(env["TARGET_DIR"])
    shutil.rmtree(target, ignore_errors=True)
    started = time.perf_counter()
    process = subprocess.Popen([str(AIM_DOWNLOAD), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    memory = TreeMemory(process.pid)
    _, stderr = process.communicate()
    seconds = time.perf_counter() - started
    result = {"seconds": round(seconds, 2), **memory.stop()}
    if process.returncode != 0:
        raise RuntimeError(f"aim-download failed ({process.returncode}): {stderr.decode()[-3000:]}")
    shutil.rmtree(target, ignore_errors=True)
    return result


def timed(action: Callable[[], None]) -> dict[str, Any]:
    started = time.perf_counter()
    action()
    return {"seconds": round(time.perf_counter() - started, 2)}


def summarise(samples: list[dict[str, Any]], size: int) -> dict[str, Any]:
    seconds = statistics.median(s["seconds"] for s in samples)
    summary: dict[str, Any] = {
        "median_seconds": round(seconds, 2),
        "median_mib_per_s": round(size / MiB / seconds, 1),
        "runs_seconds": [s["seconds"] for s in samples],
    }
    if "peak_tree_rss_mib" in samples[0]:
        summary["peak_tree_rss_mib"] = max(s["peak_tree_rss_mib"] for s in samples)
        summary["peak_process_hwm_mib"] = max(samples, key=lambda s: s["peak_tree_rss_mib"])["peak_process_hwm_mib"]
    return summary


def alternate(variants: dict[str, Callable[[], dict[str, Any]]], repetitions: int) -> dict[str, list[dict[str, Any]]]:
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for _ in range(repetitions):
        for name, action in variants.items():
            # Flush what the previous run left dirty in the page cache, so that its write-back is
            # not charged to the next run (2 GiB of dirty pages take seconds to write here).
            os.sync()
            samples[name].append(action())
    return samples


def bench_s3(workdir: Path, landing: Path, size: int, repetitions: int) -> dict[str, Any]:
    server = S3Server(workdir / "s3-server.log")
    try:
        client = server.client()
        client.create_bucket(Bucket="bench")
        data = workdir / "s3-object.bin"
        write_data(data, size)
        started = time.perf_counter()
        client.upload_file(str(data), "bench", "model/weights.bin")
        upload_seconds = time.perf_counter() - started
        data.unlink()
        baseline_file = landing / "boto3-download.bin"

        def boto3_download_file() -> dict[str, Any]:
            download_client = boto3.client(
                "s3", endpoint_url=server.url, region_name=server.REGION, **server.credentials
            )
            result = timed(lambda: download_client.download_file("bench", "model/weights.bin", str(baseline_file)))
            assert baseline_file.stat().st_size == size
            baseline_file.unlink()
            return result

        env = download_env(landing / "ours-s3", EXPECTED_SIZE_BYTES=str(size), STALL_TIMEOUT="120", **server.env())
        samples = alternate(
            {
                "boto3_download_file": boto3_download_file,
                "aim_download": lambda: run_downloader(["s3://bench/model"], env),
            },
            repetitions,
        )
    finally:
        server.stop()
    results: dict[str, Any] = {"object_bytes": size, "upload_seconds": round(upload_seconds, 1)}
    results.update({name: summarise(values, size) for name, values in samples.items()})
    results["throughput_ratio"] = round(
        results["boto3_download_file"]["median_seconds"] / results["aim_download"]["median_seconds"], 2
    )
    return results


def bench_hf(workdir: Path, landing: Path, size: int, repetitions: int) -> dict[str, Any]:
    root = workdir / "repos"
    write_data(root / "bench" / "large" / "weights.bin", size)
    server = HfServer(root, workdir / "hf-server.log")
    try:
        url = server.resolve_url("bench/large", "weights.bin")
        curl_file = landing / "curl-download.bin"
        run_downloader(
            ["--check-size", "hf://bench/large"], download_env(workdir / "warm-up", HF_ENDPOINT=server.url)
        )  # the server hashes once

        def curl() -> dict[str, Any]:
            result = timed(lambda: subprocess.run(["curl", "-sSf", "-o", str(curl_file), url], check=True))
            assert curl_file.stat().st_size == size
            curl_file.unlink()
            return result

        def ours(protocol: str) -> Callable[[], dict[str, Any]]:
            env = download_env(
                landing / f"ours-{protocol}",
                HF_ENDPOINT=server.url,
                AIM_DOWNLOADER_PROTOCOL=protocol,
                EXPECTED_SIZE_BYTES=str(size),
                STALL_TIMEOUT="120",
            )
            return lambda: run_downloader(["hf://bench/large"], env)

        samples = alternate({"curl": curl, "aim_download_http": ours("HTTP")}, repetitions)
        samples.update(alternate({"aim_download_xet": ours("XET"), "aim_download_hf_transfer": ours("HF_TRANSFER")}, 1))
    finally:
        server.stop()
    results: dict[str, Any] = {"file_bytes": size}
    results.update({name: summarise(values, size) for name, values in samples.items()})
    results["http_throughput_ratio"] = round(
        results["curl"]["median_seconds"] / results["aim_download_http"]["median_seconds"], 2
    )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--s3-gib", type=float, default=2.0, help="size of the S3 object")
    parser.add_argument("--hf-gib", type=float, default=2.0, help="size of the Hugging Face file")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--only", choices=["s3", "hf"], action="append")
    parser.add_argument(
        "--destination",
        choices=["memory", "disk"],
        default="memory",
        help="where both the baseline and aim-download write: a tmpfs (default; /dev/shm) or the work directory's disk",
    )
    parser.add_argument("--output", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    wanted = set(args.only or ["s3", "hf"])
    with contextlib.ExitStack() as stack:
        workdir = Path(
            stack.enter_context(
                tempfile.TemporaryDirectory(prefix="aim-bench-download-", dir=os.environ.get("AIM_BENCH_DIR"))
            )
        )
        landing_parent = MEMORY_FILESYSTEM if args.destination == "memory" and MEMORY_FILESYSTEM.is_dir() else None
        landing = (
            Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aim-bench-landing-", dir=landing_parent)))
            if landing_parent is not None
            else workdir / "landing"
        )
        landing.mkdir(exist_ok=True)
        results: dict[str, Any] = {
            "cpus": os.cpu_count(),
            "destination": "tmpfs" if landing_parent is not None else "disk",
        }
        if "s3" in wanted:
            results["s3"] = bench_s3(workdir, landing, int(args.s3_gib * GiB), args.repetitions)
        if "hf" in wanted:
            results["hf_http"] = bench_hf(workdir, landing, int(args.hf_gib * GiB), args.repetitions)
    emit(results, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())

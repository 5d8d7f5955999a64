"""The supervisor: runs each attempt in a worker process, measures the bytes on disk, reports
progress (terminal bar or log lines, AIMArtifact status), kills an attempt that stalls, falls
back to the next protocol, and verifies the result.

The byte count comes from the target directory, not from the protocol, so the same stall
detector watches huggingface_hub, hf_xet, hf_transfer and boto3 alike (as upstream's
progress-monitor.sh did with `du`).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.process
import os
import queue
import subprocess
import sys
import threading
import time
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from downloader.disk import (
    CGROUP_V1_MEMORY_LIMIT,
    CGROUP_V2_MEMORY_MAX,
    downloaded_bytes,
    model_bytes,
    read_text,
    remove_incomplete_files,
)
from downloader.failures import FailureKind, classify, describe
from downloader.job import WorkerJob, WorkerOutcome
from downloader.memory import MiB, container_memory_limit, xet_environment
from downloader.progress import RateLimiter, StallDetector, human_bytes, progress
from downloader.protocols import Attempt, Protocol, ProtocolPlan, protocol_environment
from downloader.settings import DownloaderSettings
from downloader.verify import size_mismatch
from downloader.worker import run_forked

if TYPE_CHECKING:
    from tqdm import tqdm

logger = logging.getLogger("downloader")

PERMANENT_FOR_ALL_PROTOCOLS = frozenset({FailureKind.NOT_FOUND, FailureKind.UNAUTHORIZED, FailureKind.NO_SPACE})
"""Failures another protocol cannot fix: stop trying."""


@dataclass(frozen=True)
class Result:
    kind: FailureKind | None
    message: str

    @property
    def exit_code(self) -> int:
        return 0 if self.kind is None else self.kind.exit_code


# -- reporting ------------------------------------------------------------------------------------


Patcher = Callable[[dict[str, Any]], bool]


class StatusPublisher:
    """Sends status patches from a thread of its own, newest first: a slow or absent API server
    never delays stall detection, and patches queued behind a slow one are coalesced. The
    connection is made in that thread too (loading the Kubernetes client takes a while), while
    the first attempt already runs. Patches published before `start` wait for it."""

    def __init__(self, connect: Callable[[], Patcher | None]):
        self._connect = connect
        self._latest: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="status", daemon=True)

    def start(self) -> None:
        if not self._thread.is_alive() and self._thread.ident is None:
            self._thread.start()

    def publish(self, status: dict[str, Any]) -> None:
        with self._lock:
            self._latest = _merge(self._latest or {}, status)
            self._idle.clear()
        self._wake.set()

    def flush(self, timeout: float) -> None:
        self.start()
        self._idle.wait(timeout)

    def _run(self) -> None:
        patch = self._connect()
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                status, self._latest = self._latest, None
            if status is not None and patch is not None:
                patch(status)
            with self._lock:
                if self._latest is None:
                    self._idle.set()


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for key, value in new.items():
        merged[key] = (
            _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


class Console:
    """A progress bar when stdout is a terminal, else a log line per PROGRESS_INTERVAL."""

    def __init__(self, interval: float, tty: bool | None = None):
        self.tty = sys.stdout.isatty() if tty is None else tty
        self._bar: tqdm[Any] | None = None
        self._limit = RateLimiter(interval)
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.write(line, file=sys.stderr)
            else:
                sys.stderr.write(line + "\n")
                sys.stderr.flush()

    def show(self, downloaded: int, total: int | None, label: str, now: float) -> None:
        if self.tty:
            with self._lock:
                if self._bar is None:
                    from tqdm import tqdm  # a tenth of a second to import: only for a terminal

                    self._bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stdout)
                self._bar.set_description(label, refresh=False)
                self._bar.n = downloaded
                self._bar.refresh()
        elif self._limit.allow(now):
            state = progress(downloaded, total)
            total_text = human_bytes(total) if total is not None else "unknown"
            logger.info(
                "Progress protocol=%s downloaded=%s total=%s percentage=%d",
                label,
                human_bytes(downloaded),
                total_text,
                state.percentage,
            )

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None


# -- attempts -------------------------------------------------------------------------------------


def worker_environment(protocol: Protocol) -> dict[str, str]:
    env = dict(os.environ)
    env.update(protocol_environment(protocol))
    if protocol is Protocol.XET:
        limit = container_memory_limit(read_text(CGROUP_V2_MEMORY_MAX), read_text(CGROUP_V1_MEMORY_LIMIT))
        env.update(xet_environment(limit, frozenset(os.environ)))
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Supervisor:
    def __init__(
        self,
        settings: DownloaderSettings,
        source_uri: str,
        plan: ProtocolPlan,
        total_bytes: int | None,
        console: Console,
        status: StatusPublisher | None,
        redact: Callable[[str], str],
        discover_size: Callable[[], int] | None = None,
    ):
        self.settings = settings
        self.source_uri = source_uri
        self.plan = plan
        self.total_bytes = total_bytes
        self._discover_size = discover_size
        self._size_failure: Result | None = None
        self.console = console
        self.status = status
        self.redact = redact
        self.target = settings.target_dir
        self._status_limit = RateLimiter(settings.progress_interval)
        self._poll = min(0.25, settings.stall_timeout / 4)
        self._background_started = False

    # status helpers

    def _publish(self, now: float, downloaded: int, force: bool = False, **download: Any) -> None:
        if self.status is None or not self._status_limit.allow(now, force=force):
            return
        body: dict[str, Any] = {"progress": progress(downloaded, self.total_bytes).as_status()}
        if download:
            body["download"] = download
        self.status.publish(body)

    def _download_state(self, attempt: Attempt, message: str) -> dict[str, Any]:
        return {
            "protocol": attempt.name,
            "attempt": attempt.number,
            "totalAttempts": self.plan.total_attempts,
            "protocolSequence": self.plan.sequence,
            "message": message,
        }

    # the run

    def _discover(self, discover: Callable[[], int]) -> None:
        """The source's size, for progress; a permanent failure here (no such repository, no
        access) ends the download without waiting for the attempt to find out."""
        try:
            self.total_bytes = discover()
            logger.info("Found source size source=%s bytes=%d", self.source_uri, self.total_bytes)
        except Exception as error:
            kind = classify(error)
            reason = self.redact(describe(error, kind))
            if kind.permanent:
                self._size_failure = Result(kind, reason)
            else:
                logger.warning("Could not find the source size; progress shows 0 %% reason=%s", reason)

    def _start_background_work(self) -> None:
        """Size discovery and the status connection run in threads, started once the first worker
        is: until then the supervisor stays single-threaded and free of the libraries they load,
        so that worker can be forked."""
        if self._background_started:
            return
        self._background_started = True
        if self.status is not None:
            self.status.start()
        if self._discover_size is not None:
            threading.Thread(target=self._discover, args=(self._discover_size,), name="size", daemon=True).start()

    def run(self) -> Result:
        self.target.mkdir(parents=True, exist_ok=True)
        if self.settings.debug_cause_failure:
            logger.warning("AIM_DEBUG_CAUSE_FAILURE is set: failing before any protocol")
            return Result(FailureKind.TRANSIENT, "failed on purpose: AIM_DEBUG_CAUSE_FAILURE is set")
        last = Result(FailureKind.TRANSIENT, "no protocol was tried")
        for attempt in self.plan.attempts:
            now = time.monotonic()
            if attempt.protocol is None:
                message = f"skipped unknown protocol {attempt.name}"
                logger.warning("Skipped unknown protocol protocol=%s attempt=%d", attempt.name, attempt.number)
                self._publish(now, downloaded_bytes(self.target), True, **self._download_state(attempt, message))
                continue
            message = f"downloading with {attempt.name} (attempt {attempt.number} of {self.plan.total_attempts})"
            logger.info(
                "Started attempt protocol=%s attempt=%d of=%d source=%s",
                attempt.name,
                attempt.number,
                self.plan.total_attempts,
                self.source_uri,
            )
            self._publish(now, downloaded_bytes(self.target), True, **self._download_state(attempt, message))
            result = self._run_attempt(attempt, attempt.protocol)
            if result.kind is None:
                finished = self._finish(attempt, time.monotonic() - now)
                if finished.kind is None and self.settings.debug_simulate_download:
                    return self._simulated_verification(attempt)
                return finished
            last = result
            logger.warning(
                "Attempt failed protocol=%s attempt=%d kind=%s reason=%s",
                attempt.name,
                attempt.number,
                result.kind.value,
                result.message,
            )
            if attempt.protocol is not Protocol.S3:
                removed = remove_incomplete_files(self.target)
                if removed:
                    logger.info("Removed partial files count=%d protocol=%s", len(removed), attempt.name)
            has_next = attempt.number < self.plan.total_attempts
            note = "; trying the next protocol" if has_next and result.kind not in PERMANENT_FOR_ALL_PROTOCOLS else ""
            self._publish(
                time.monotonic(),
                downloaded_bytes(self.target),
                True,
                **self._download_state(attempt, f"{attempt.name} failed: {result.message}{note}"),
            )
            if result.kind in PERMANENT_FOR_ALL_PROTOCOLS:
                return result
        if last.kind is FailureKind.NO_SPACE:
            return last
        if self.plan.total_attempts > 1:
            return Result(FailureKind.TRANSIENT, f"all protocols failed ({self.plan.sequence}); last: {last.message}")
        return last

    def _finish(self, attempt: Attempt, seconds: float) -> Result:
        remove_incomplete_files(self.target)
        actual = model_bytes(self.target)
        mismatch = size_mismatch(self.settings.expected_size_bytes, actual)
        now = time.monotonic()
        if mismatch is not None:
            self._publish(now, actual, True, **self._download_state(attempt, mismatch))
            return Result(FailureKind.SIZE_MISMATCH, mismatch)
        logger.info(
            "Downloaded source=%s bytes=%d protocol=%s seconds=%.2f MiB_per_second=%.1f",
            self.source_uri,
            actual,
            attempt.name,
            seconds,
            actual / MiB / max(seconds, 1e-3),
        )
        if self.status is not None:
            self._status_limit.allow(now, force=True)
            self.status.publish(
                {
                    "progress": progress(actual, actual, complete=True).as_status(),
                    "download": self._download_state(attempt, "download complete"),
                }
            )
        return Result(None, "download complete")

    def _simulated_verification(self, attempt: Attempt) -> Result:
        """AIM_DEBUG_SIMULATE_DOWNLOAD's verification: 100 % reported, the process (and with it
        the Job) still running for AIM_DEBUG_VERIFY_DURATION, then success or, with
        AIM_DEBUG_VERIFY_FAIL, a failure after the bytes were all there."""
        logger.info("Simulating verification seconds=%g", self.settings.debug_verify_duration)
        if self.status is not None:
            self.status.publish({"download": self._download_state(attempt, "verifying (simulated)")})
        time.sleep(self.settings.debug_verify_duration)
        if self.settings.debug_verify_fail:
            return Result(FailureKind.TRANSIENT, "verification failed on purpose: AIM_DEBUG_VERIFY_FAIL is set")
        return Result(None, "download complete")

    def _launch(self, job: WorkerJob, environment: dict[str, str], result_fd: int) -> tuple[WorkerProcess, int]:
        """Start the worker; returns it and the read end of its output. Forked when that is safe
        (saves a new interpreter and its imports: about a third of a second before the first
        byte), else a fresh interpreter."""
        output_read, output_write = os.pipe()
        try:
            if fork_is_safe(threading.active_count(), sys.modules):
                sys.stdout.flush()
                sys.stderr.flush()
                process = multiprocessing.get_context("fork").Process(
                    target=run_forked, args=(job, result_fd, output_write, environment), name="worker"
                )
                process.start()
                logger.info("Started worker pid=%s start=forked protocol=%s", process.pid, job.protocol.value)
                return ForkedWorker(process), output_read
            popen = subprocess.Popen(
                [sys.executable, "-m", "downloader.worker", job.model_dump_json(), str(result_fd)],
                env=environment,
                pass_fds=(result_fd,),
                stdin=subprocess.DEVNULL,
                stdout=output_write,
                stderr=output_write,
            )
            logger.info("Started worker pid=%s start=spawned protocol=%s", popen.pid, job.protocol.value)
            return SpawnedWorker(popen), output_read
        finally:
            os.close(output_write)

    def _run_attempt(self, attempt: Attempt, protocol: Protocol) -> Result:
        job = WorkerJob(source_uri=self.source_uri, protocol=protocol, target_dir=self.target)
        read_end, write_end = os.pipe()
        try:
            process, output = self._launch(job, worker_environment(protocol), write_end)
        finally:
            os.close(write_end)
        self._start_background_work()
        relay = threading.Thread(target=self._relay, args=(os.fdopen(output, "rb"),), name="worker-output", daemon=True)
        relay.start()
        outcome: queue.Queue[bytes] = queue.Queue()
        reader = threading.Thread(target=lambda: outcome.put(_read_all(read_end)), name="worker-result", daemon=True)
        reader.start()
        stall = StallDetector(self.settings.stall_timeout)
        try:
            while True:
                returncode = process.poll()
                now = time.monotonic()
                downloaded = downloaded_bytes(self.target)
                self.console.show(downloaded, self.total_bytes, attempt.name, now)
                self._publish(now, downloaded)
                if returncode is not None:
                    break
                if self._size_failure is not None:
                    return self._size_failure
                if stall.observe(downloaded, now):
                    process.kill()
                    message = (
                        f"download stalled: no progress for {self.settings.stall_timeout:g} s with {attempt.name}"
                        f" at {human_bytes(downloaded)}"
                    )
                    logger.warning("Killed stalled attempt protocol=%s downloaded=%d", attempt.name, downloaded)
                    return Result(FailureKind.TRANSIENT, message)
                process.wait(self._poll)
        finally:
            if process.poll() is None:
                process.kill()
            relay.join(timeout=5)
            reader.join(timeout=5)
        raw = outcome.get() if not outcome.empty() else b""
        if not raw:
            return Result(FailureKind.TRANSIENT, f"{attempt.name} worker exited with code {returncode} and no result")
        result = WorkerOutcome.model_validate_json(raw)
        if result.kind is None and returncode == 0:
            return Result(None, "ok")
        return Result(result.kind or FailureKind.TRANSIENT, self.redact(result.message))

    def _relay(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self.console.write(self.redact(raw.decode(errors="replace").rstrip("\n")))
        stream.close()


# -- worker processes -----------------------------------------------------------------------------

FORK_UNSAFE_MODULES = ("huggingface_hub", "hf_xet", "hf_transfer", "boto3", "botocore")
"""Libraries that read the environment when they are imported: a worker forked after the
supervisor loaded one would inherit the supervisor's settings, not its protocol's."""


def fork_is_safe(thread_count: int, loaded: Mapping[str, object]) -> bool:
    """Fork only a single-threaded supervisor (another thread could hold a lock, or be halfway
    through an import, that the child would inherit and never see released) that has not
    loaded a library configured at import."""
    return thread_count == 1 and not any(name in loaded for name in FORK_UNSAFE_MODULES)


class WorkerProcess(typing.Protocol):
    def poll(self) -> int | None: ...

    def wait(self, timeout: float) -> None:
        """Return when the worker exits or after `timeout` seconds."""

    def kill(self) -> None:
        """SIGKILL, then reap."""


class SpawnedWorker:
    def __init__(self, process: subprocess.Popen[bytes]):
        self._process = process

    def poll(self) -> int | None:
        return self._process.poll()

    def wait(self, timeout: float) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=timeout)

    def kill(self) -> None:
        self._process.kill()
        self._process.wait()


class ForkedWorker:
    def __init__(self, process: multiprocessing.process.BaseProcess):
        self._process = process

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float) -> None:
        self._process.join(timeout)

    def kill(self) -> None:
        self._process.kill()
        self._process.join()


def _read_all(fd: int) -> bytes:
    with os.fdopen(fd, "rb") as pipe, contextlib.suppress(OSError):
        return pipe.read()
    return b""

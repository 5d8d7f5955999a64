"""One download attempt with one protocol, in a child process of the supervisor: forked from
it (`run_forked`) or, when forking is not safe, a fresh interpreter
(`python -m downloader.worker <job JSON> <result fd>`).

A child process because it is the only reliable way to stop a stalled attempt: hf_xet and
hf_transfer run their transfers on Rust threads that Python cannot cancel, so the supervisor
kills the process. It also gives each protocol the environment huggingface_hub reads at import.
The outcome (a failure category and a one-line reason) goes back as JSON on the result pipe;
secrets come only from the environment and are never in the job.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from downloader.clients import hub_client, s3_client, s3_settings
from downloader.failures import classify, describe, redact
from downloader.job import WorkerJob, WorkerOutcome
from downloader.logs import configure
from downloader.protocols import Protocol
from downloader.settings import DownloaderSettings
from downloader.simulation import (
    SIMULATED_FILE,
    SimulatedWrite,
    failing_protocols,
    simulated_download,
    simulated_hf_attempt,
)
from downloader.source import S3Source, parse_source_uri

logger = logging.getLogger("downloader.worker")


def run(job: WorkerJob, settings: DownloaderSettings) -> None:
    source = parse_source_uri(job.source_uri)
    job.target_dir.mkdir(parents=True, exist_ok=True)
    if settings.debug_cause_hang:
        logger.warning("AIM_DEBUG_CAUSE_HANG is set: hanging until the stall detector stops this attempt")
        while True:
            time.sleep(3600)
    if settings.debug_simulate_download:
        logger.warning("AIM_DEBUG_SIMULATE_DOWNLOAD is set: simulating the download")
        write_simulated(
            job.target_dir, simulated_download(settings.expected_size_bytes, settings.debug_download_duration)
        )
        return
    if settings.debug_simulate_hf_download and not isinstance(source, S3Source):
        logger.warning("AIM_DEBUG_SIMULATE_HF_DOWNLOAD is set: simulating protocol %s", job.protocol.value)
        fail, duration = settings.debug_simulate_hf_fail_protocols, settings.debug_simulate_hf_duration
        if job.protocol.value in failing_protocols(fail):
            time.sleep(duration)
        write_simulated(job.target_dir, simulated_hf_attempt(job.protocol.value, fail, duration))
        return
    if isinstance(source, S3Source):
        from downloader.s3 import download_prefix  # only the protocol in use is loaded

        download_prefix(s3_client(settings), source, job.target_dir, s3_settings(settings), settings.download_filter)
        return
    from downloader.hub import download_files, download_snapshot

    client = hub_client(settings, job.protocol)
    if job.protocol is Protocol.XET:
        download_snapshot(client, source, job.target_dir, settings.download_filter)
    else:
        download_files(client, source, job.target_dir, job.protocol, settings.download_filter)


def write_simulated(target: Path, writes: tuple[SimulatedWrite, ...]) -> None:
    path = target / SIMULATED_FILE
    for write in writes:
        time.sleep(write.seconds)
        with path.open("ab") as file:  # zeros really written: the progress monitor counts blocks
            missing = write.size - file.tell()
            while missing > 0:
                chunk = min(missing, 1 << 20)
                file.write(bytes(chunk))
                missing -= chunk


def _exit_with_parent() -> None:
    """Do not outlive the supervisor, however it ended (SIGKILL included)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def attempt(job: WorkerJob, result_fd: int) -> int:
    """Run the job, write its outcome to `result_fd`, and return the exit code."""
    settings = DownloaderSettings.from_environment()
    secrets = settings.secrets()
    configure(lambda text: redact(text, secrets))
    _exit_with_parent()
    outcome = WorkerOutcome()
    try:
        run(job, settings)
    except Exception as error:
        kind = classify(error)
        outcome = WorkerOutcome(kind=kind, message=redact(describe(error, kind), secrets))
        logger.debug("Attempt failed", exc_info=True)
    with os.fdopen(result_fd, "w") as result:
        result.write(outcome.model_dump_json())
    return 0 if outcome.kind is None else outcome.kind.exit_code


def run_forked(job: WorkerJob, result_fd: int, output_fd: int, environment: dict[str, str]) -> None:
    """The body of a worker forked from the supervisor: the supervisor's imports are already
    loaded, so the attempt starts without a new interpreter. The supervisor forks only while
    it is single-threaded and has not imported huggingface_hub (which reads the protocol's
    environment once, at import)."""
    os.environ.clear()
    os.environ.update(environment)
    os.dup2(output_fd, sys.stdout.fileno())
    os.dup2(output_fd, sys.stderr.fileno())
    os.close(output_fd)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    code = attempt(job, result_fd)
    _exit(code)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return attempt(WorkerJob.model_validate_json(args[0]), int(args[1]))


def _exit(code: int) -> None:
    """Everything is on disk and reported: skip the interpreter's teardown (joining idle library
    threads, collecting modules), which costs a noticeable part of a second."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit(main())

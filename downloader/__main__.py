"""`aim-download [--check-size] <sourceUri>`: the command line (entry point of the download and
check-size Jobs).

Downloads hf://org/name[@revision] or s3://bucket/prefix into TARGET_DIR; with --check-size,
prints the source's size as the last line of stdout, `{"url": ..., "sizeBytes": N}`. Exit codes
are the EXIT_* constants of the `downloader` package; on failure the one-line reason is also
written to the termination-message file (AIM_TERMINATION_LOG, default /dev/termination-log).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
from functools import partial
from pathlib import Path
from types import FrameType
from typing import NoReturn

from pydantic import ValidationError

from downloader import EXIT_OK, EXIT_USAGE
from downloader.clients import hub_client, s3_client
from downloader.failures import classify, describe, one_line, redact
from downloader.logs import configure
from downloader.protocols import Protocol, ProtocolPlanError, plan_hf_protocols, s3_plan
from downloader.settings import DownloaderSettings
from downloader.source import S3Source, Source, SourceError, parse_source_uri
from downloader.supervisor import Console, Patcher, StatusPublisher, Supervisor

logger = logging.getLogger("downloader")

TERMINATION_MESSAGE_LIMIT = 4096  # what the kubelet keeps


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (usage: {self.format_usage().strip().removeprefix('usage: ')})")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="aim-download", description="Download a model into TARGET_DIR (default /cache).")
    parser.add_argument("source_uri", help="hf://org/name[@revision] or s3://bucket/prefix")
    parser.add_argument(
        "--check-size",
        action="store_true",
        help='print {"url": ..., "sizeBytes": N} as the last line of stdout instead of downloading',
    )
    return parser


def write_termination_message(path: Path, message: str) -> None:
    # Not in a pod, or not writable: the log line says the same.
    with contextlib.suppress(OSError):
        path.write_text(message[:TERMINATION_MESSAGE_LIMIT])


def source_size(settings: DownloaderSettings, source: Source) -> int:
    """The bytes the download writes: the files the download filter selects (--check-size, and
    the progress total when EXPECTED_SIZE_BYTES is unset)."""
    if isinstance(source, S3Source):
        from downloader.s3 import prefix_size  # the library of the other source stays unloaded

        return prefix_size(s3_client(settings), source, settings.download_filter)
    from downloader.hub import repository_size

    return repository_size(hub_client(settings, Protocol.HTTP), source, settings.download_filter)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    # Known before the settings are: a malformed variable must still reach the termination message.
    termination_log = Path(os.environ.get("AIM_TERMINATION_LOG") or "/dev/termination-log")
    secrets: list[str] = []
    try:
        settings = DownloaderSettings.from_environment()
        termination_log = settings.termination_log
        secrets = settings.secrets()
        args = build_parser().parse_args(argv)
        source = parse_source_uri(args.source_uri)
        plan = s3_plan() if isinstance(source, S3Source) else plan_hf_protocols(settings.protocol_sequence)
    except (UsageError, SourceError, ProtocolPlanError, ValidationError) as error:
        message = redact(f"usage error: {one_line(str(error))}", secrets)
        sys.stderr.write(message + "\n")
        write_termination_message(termination_log, message)
        return EXIT_USAGE

    scrub = partial(redact, secrets=secrets)
    console = Console(settings.progress_interval)
    configure(scrub, write=console.write)
    signal.signal(signal.SIGTERM, _terminate)
    if settings.download_filter.active:
        logger.info("Applied download filter %s", settings.download_filter.describe())

    if args.check_size:
        return check_size(settings, args.source_uri, source, scrub)

    status: StatusPublisher | None = None
    if settings.reports_status:
        name, namespace = settings.artifact_name or "", settings.artifact_namespace or ""

        def connect() -> Patcher | None:
            from downloader.status import connect  # the Kubernetes client only when there is something to report

            reporter = connect(name, namespace, scrub)
            return reporter.patch if reporter is not None else None

        status = StatusPublisher(connect)
    try:
        discover = None if settings.expected_size_bytes is not None else partial(source_size, settings, source)
        supervisor = Supervisor(
            settings, args.source_uri, plan, settings.expected_size_bytes, console, status, scrub, discover
        )
        result = supervisor.run()
        if result.kind is not None and status is not None:
            # The last word in the status is the termination message's.
            status.publish({"download": {"message": result.message}})
    finally:
        console.close()
        if status is not None:
            status.flush(timeout=10)
    if result.kind is not None:
        logger.error("Download failed source=%s kind=%s reason=%s", args.source_uri, result.kind.value, result.message)
        write_termination_message(termination_log, result.message)
    return result.exit_code


def check_size(settings: DownloaderSettings, uri: str, source: Source, scrub: partial[str]) -> int:
    try:
        size = source_size(settings, source)
    except Exception as error:
        kind = classify(error)
        reason = scrub(describe(error, kind))
        logger.error("Size check failed source=%s kind=%s reason=%s", uri, kind.value, reason)
        write_termination_message(settings.termination_log, reason)
        return kind.exit_code
    logger.info("Found source size source=%s bytes=%d", uri, size)
    print(json.dumps({"url": uri, "sizeBytes": size}), flush=True)
    return EXIT_OK


def command() -> NoReturn:
    """The `aim-download` command. Everything is on disk, reported and flushed when `main`
    returns, so exit without the interpreter's teardown (atexit hooks, collecting modules):
    a tenth of a second on every run."""
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    command()

"""One download attempt with one protocol, in a child process of the supervisor
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
import sys
import threading
import time
from pathlib import Path

from pydantic import BaseModel, SecretStr

from downloader.failures import FailureKind, classify, describe, redact
from downloader.hub import HubClient, download_files, download_snapshot
from downloader.logs import configure
from downloader.protocols import Protocol
from downloader.s3 import DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE, S3Settings, download_prefix, make_client
from downloader.settings import DownloaderSettings
from downloader.source import HfSource, S3Source, parse_source_uri

logger = logging.getLogger("downloader.worker")

USER_AGENT_NAME = "aim-download"
USER_AGENT_VERSION = "0.1.0"


class WorkerJob(BaseModel):
    source_uri: str
    protocol: Protocol
    target_dir: Path


class WorkerOutcome(BaseModel):
    kind: FailureKind | None = None
    """None on success."""
    message: str = ""


def hub_client(settings: DownloaderSettings, protocol: Protocol) -> HubClient:
    token = settings.hf_token.get_secret_value() if settings.hf_token else None
    # The protocol in the user agent lets a Hub (or a test server) tell the attempts apart.
    user_agent = {USER_AGENT_NAME: USER_AGENT_VERSION, "protocol": protocol.value}
    return HubClient(endpoint=settings.hf_endpoint, token=token, user_agent=user_agent)


def s3_settings(settings: DownloaderSettings) -> S3Settings:
    def secret(value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value is not None else None

    return S3Settings(
        endpoint_url=settings.aws_endpoint_url,
        region=settings.aws_default_region,
        access_key_id=secret(settings.aws_access_key_id),
        secret_access_key=secret(settings.aws_secret_access_key),
        session_token=secret(settings.aws_session_token),
        part_size=settings.s3_part_size_bytes or DEFAULT_PART_SIZE,
        concurrency=settings.s3_max_concurrency or DEFAULT_CONCURRENCY,
    )


def run(job: WorkerJob, settings: DownloaderSettings) -> None:
    source = parse_source_uri(job.source_uri)
    job.target_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(source, S3Source):
        s3 = s3_settings(settings)
        download_prefix(make_client(s3), source, job.target_dir, s3)
    elif isinstance(source, HfSource):
        client = hub_client(settings, job.protocol)
        if job.protocol is Protocol.XET:
            download_snapshot(client, source, job.target_dir)
        else:
            download_files(client, source, job.target_dir, job.protocol)


def _exit_with_parent() -> None:
    """The supervisor may be killed outright (SIGKILL of the container's main process in tests,
    or of the process group): do not outlive it."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    job = WorkerJob.model_validate_json(args[0])
    result_fd = int(args[1])
    settings = DownloaderSettings()
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


if __name__ == "__main__":
    sys.exit(main())

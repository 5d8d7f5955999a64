"""What the supervisor hands a worker and what the worker hands back (light: no I/O library,
so the supervisor does not pay for importing the protocols it does not run)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from downloader.failures import FailureKind
from downloader.protocols import Protocol


class WorkerJob(BaseModel):
    source_uri: str
    protocol: Protocol
    target_dir: Path


class WorkerOutcome(BaseModel):
    kind: FailureKind | None = None
    """None on success."""
    message: str = ""

"""Log lines on stderr, every one passed through the redactor (no secret leaves the process,
whatever a library put in an exception message)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _WriteHandler(logging.Handler):
    """Hands each formatted record to `write` (the console, which may be drawing a progress bar)."""

    def __init__(self, write: Callable[[str], None]):
        super().__init__()
        self._write = write

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._write(self.format(record))
        except Exception:
            self.handleError(record)


class RedactingFormatter(logging.Formatter):
    def __init__(self, redact: Callable[[str], str], fmt: str = FORMAT):
        super().__init__(fmt)
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


def adopt_hub_logging() -> None:
    """huggingface_hub installs a handler of its own when it is imported; route its records
    through ours (and the redactor) instead."""
    hub_root = logging.getLogger("huggingface_hub")
    hub_root.handlers.clear()
    hub_root.propagate = True


def write_stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def configure(
    redact: Callable[[str], str], level: int = logging.INFO, write: Callable[[str], None] = write_stderr
) -> None:
    handler = _WriteHandler(write)
    handler.setFormatter(RedactingFormatter(redact))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("botocore", "boto3", "urllib3", "httpx", "httpx2", "kubernetes", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

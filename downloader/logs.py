"""Log lines on stderr, every one passed through the redactor (no secret leaves the process,
whatever a library put in an exception message)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from huggingface_hub.utils import logging as hf_logging

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
    # huggingface_hub prints through a handler of its own; route it through ours instead.
    hf_root = logging.getLogger("huggingface_hub")
    hf_root.handlers.clear()
    hf_logging.enable_propagation()
    for noisy in ("botocore", "boto3", "urllib3", "httpx", "httpx2", "kubernetes", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

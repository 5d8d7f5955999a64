"""What went wrong, decided once from the libraries' exception types (pure: exceptions in,
categories and one-line reasons out), and secret redaction for everything we print.

Order matters: huggingface_hub raises RepositoryNotFoundError for HTTP 401 too (the Hub answers
401 for repositories that do not exist, to hide private ones), so not-found is decided before
the status code; GatedRepoError is a RepositoryNotFoundError but means "no access";
LocalEntryNotFoundError is an EntryNotFoundError but means "the Hub could not be reached".
"""

from __future__ import annotations

import enum
import errno
import re
from collections.abc import Iterable

from downloader import (
    EXIT_NO_SPACE,
    EXIT_NOT_FOUND,
    EXIT_SIZE_MISMATCH,
    EXIT_TRANSIENT,
    EXIT_UNAUTHORIZED,
    EXIT_USAGE,
)


class FailureKind(enum.StrEnum):
    TRANSIENT = "transient"
    USAGE = "usage"
    NOT_FOUND = "not-found"
    UNAUTHORIZED = "unauthorized"
    SIZE_MISMATCH = "size-mismatch"
    NO_SPACE = "no-space"

    @property
    def exit_code(self) -> int:
        return _EXIT_CODES[self]

    @property
    def permanent(self) -> bool:
        return self in {FailureKind.NOT_FOUND, FailureKind.UNAUTHORIZED, FailureKind.SIZE_MISMATCH, FailureKind.USAGE}


_EXIT_CODES = {
    FailureKind.TRANSIENT: EXIT_TRANSIENT,
    FailureKind.USAGE: EXIT_USAGE,
    FailureKind.NOT_FOUND: EXIT_NOT_FOUND,
    FailureKind.UNAUTHORIZED: EXIT_UNAUTHORIZED,
    FailureKind.SIZE_MISMATCH: EXIT_SIZE_MISMATCH,
    FailureKind.NO_SPACE: EXIT_NO_SPACE,
}

S3_NOT_FOUND_CODES = frozenset({"NoSuchBucket", "NoSuchKey", "NotFound", "404"})
S3_UNAUTHORIZED_CODES = frozenset(
    {
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "AllAccessDisabled",
        "AccountProblem",
        "403",
        "401",
    }
)
_NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# Rust libraries (hf_transfer, hf_xet) surface I/O errors as text only.
_NO_SPACE_TEXT = re.compile(r"no space left on device|os error 28|quota exceeded", re.IGNORECASE)


def _chain(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def classify(exc: BaseException) -> FailureKind:
    """The category of a failure, looking through the exception's causes."""
    for error in _chain(exc):
        kind = _classify_one(error)
        if kind is not None:
            return kind
    return FailureKind.TRANSIENT


def _classify_one(error: BaseException) -> FailureKind | None:
    # The libraries' exception modules are imported here, on the failure path only: a process
    # downloading from one kind of source does not pay for loading the other's client.
    from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError
    from botocore.exceptions import ConnectionError as BotocoreConnectionError
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    if isinstance(error, NothingToDownloadError):
        return FailureKind.NOT_FOUND
    if isinstance(error, HttpStatusError):
        if error.status in (401, 403):
            return FailureKind.UNAUTHORIZED
        return FailureKind.NOT_FOUND if error.status == 404 else FailureKind.TRANSIENT
    if isinstance(error, OSError) and error.errno in _NO_SPACE_ERRNOS:
        return FailureKind.NO_SPACE
    if _NO_SPACE_TEXT.search(str(error)):
        return FailureKind.NO_SPACE
    if isinstance(error, GatedRepoError):
        return FailureKind.UNAUTHORIZED
    if isinstance(error, (RepositoryNotFoundError, RevisionNotFoundError)):
        return FailureKind.NOT_FOUND
    if isinstance(error, LocalEntryNotFoundError):
        return None  # the Hub was unreachable: look at the cause, else transient
    if isinstance(error, EntryNotFoundError):
        return FailureKind.NOT_FOUND
    if isinstance(error, HfHubHTTPError):
        status = error.response.status_code if error.response is not None else None
        if status in (401, 403):
            return FailureKind.UNAUTHORIZED
        if status == 404:
            return FailureKind.NOT_FOUND
        return FailureKind.TRANSIENT
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in S3_NOT_FOUND_CODES:
            return FailureKind.NOT_FOUND
        if code in S3_UNAUTHORIZED_CODES:
            return FailureKind.UNAUTHORIZED
        return FailureKind.TRANSIENT
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return FailureKind.UNAUTHORIZED
    if isinstance(error, BotocoreConnectionError):
        return FailureKind.TRANSIENT
    return None


_REASONS = {
    FailureKind.TRANSIENT: "download failed",
    FailureKind.USAGE: "usage error",
    FailureKind.NOT_FOUND: "source not found",
    FailureKind.UNAUTHORIZED: "access denied",
    FailureKind.SIZE_MISMATCH: "size verification failed",
    FailureKind.NO_SPACE: "no space left on the volume",
}


def describe(exc: BaseException, kind: FailureKind) -> str:
    """One line: the category, then the library's own words (first lines, whitespace folded)."""
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    detail = one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, RepositoryNotFoundError) and not isinstance(exc, GatedRepoError):
        detail += " (a private repository without a valid token looks the same)"
    return f"{_REASONS[kind]}: {detail}"


def one_line(text: str, limit: int = 400) -> str:
    folded = " ".join(text.split())
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\",]+")
_HF_TOKEN = re.compile(r"\bhf_[A-Za-z0-9]{8,}\b")
MASK = "***"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every known secret value, bearer tokens and Hub-style tokens with ***."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    return _HF_TOKEN.sub(MASK, text)


class HttpStatusError(Exception):
    """An HTTP error status from a plain GET (the HTTP protocol's file transfer)."""

    def __init__(self, status: int, url: str):
        super().__init__(f"HTTP {status} for {url}")
        self.status = status


class NothingToDownloadError(Exception):
    """The source exists but holds no files (an empty or mistyped S3 prefix)."""


class StalledError(Exception):
    """The attempt made no progress for STALL_TIMEOUT seconds."""

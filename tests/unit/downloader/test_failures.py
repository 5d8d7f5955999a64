"""Failure categories from the libraries' exceptions, exit codes, and redaction."""

from __future__ import annotations

import errno

import httpx2
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from downloader import (
    EXIT_NO_SPACE,
    EXIT_NOT_FOUND,
    EXIT_SIZE_MISMATCH,
    EXIT_TRANSIENT,
    EXIT_UNAUTHORIZED,
    EXIT_USAGE,
)
from downloader.failures import (
    FailureKind,
    HttpStatusError,
    NothingToDownloadError,
    classify,
    describe,
    redact,
)


def response(status: int) -> httpx2.Response:
    return httpx2.Response(status, request=httpx2.Request("GET", "http://hub/api/models/org/name"))


def hub_error(cls: type[HfHubHTTPError], status: int) -> HfHubHTTPError:
    return cls(f"{status} Client Error.", response=response(status))


def s3_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "GetObject")


def caused(outer: Exception, cause: BaseException) -> Exception:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        pytest.param(hub_error(RepositoryNotFoundError, 401), FailureKind.NOT_FOUND, id="hf-repo-401-is-not-found"),
        pytest.param(hub_error(RepositoryNotFoundError, 404), FailureKind.NOT_FOUND, id="hf-repo-404"),
        pytest.param(hub_error(GatedRepoError, 403), FailureKind.UNAUTHORIZED, id="hf-gated"),
        pytest.param(hub_error(RevisionNotFoundError, 404), FailureKind.NOT_FOUND, id="hf-revision"),
        pytest.param(hub_error(RemoteEntryNotFoundError, 404), FailureKind.NOT_FOUND, id="hf-entry"),
        pytest.param(hub_error(HfHubHTTPError, 401), FailureKind.UNAUTHORIZED, id="hf-invalid-token"),
        pytest.param(hub_error(HfHubHTTPError, 403), FailureKind.UNAUTHORIZED, id="hf-forbidden"),
        pytest.param(hub_error(HfHubHTTPError, 503), FailureKind.TRANSIENT, id="hf-503"),
        pytest.param(hub_error(HfHubHTTPError, 429), FailureKind.TRANSIENT, id="hf-rate-limited"),
        pytest.param(LocalEntryNotFoundError("hub unreachable"), FailureKind.TRANSIENT, id="hf-offline"),
        pytest.param(
            caused(LocalEntryNotFoundError("hub unreachable"), hub_error(RepositoryNotFoundError, 401)),
            FailureKind.NOT_FOUND,
            id="hf-offline-caused-by-not-found",
        ),
        pytest.param(httpx2.ConnectError("refused"), FailureKind.TRANSIENT, id="hf-connect"),
        pytest.param(s3_error("NoSuchBucket"), FailureKind.NOT_FOUND, id="s3-no-bucket"),
        pytest.param(s3_error("NoSuchKey"), FailureKind.NOT_FOUND, id="s3-no-key"),
        pytest.param(s3_error("404"), FailureKind.NOT_FOUND, id="s3-head-404"),
        pytest.param(s3_error("AccessDenied"), FailureKind.UNAUTHORIZED, id="s3-access-denied"),
        pytest.param(s3_error("InvalidAccessKeyId"), FailureKind.UNAUTHORIZED, id="s3-unknown-key"),
        pytest.param(s3_error("SignatureDoesNotMatch"), FailureKind.UNAUTHORIZED, id="s3-wrong-secret"),
        pytest.param(s3_error("SlowDown"), FailureKind.TRANSIENT, id="s3-slow-down"),
        pytest.param(s3_error("InternalError"), FailureKind.TRANSIENT, id="s3-internal"),
        pytest.param(EndpointConnectionError(endpoint_url="http://x"), FailureKind.TRANSIENT, id="s3-endpoint-down"),
        pytest.param(NoCredentialsError(), FailureKind.UNAUTHORIZED, id="s3-no-credentials"),
        pytest.param(NothingToDownloadError("empty prefix"), FailureKind.NOT_FOUND, id="empty-prefix"),
        pytest.param(HttpStatusError(404, "u"), FailureKind.NOT_FOUND, id="http-get-404"),
        pytest.param(HttpStatusError(403, "u"), FailureKind.UNAUTHORIZED, id="http-get-403"),
        pytest.param(HttpStatusError(502, "u"), FailureKind.TRANSIENT, id="http-get-502"),
        pytest.param(OSError(errno.ENOSPC, "No space left on device"), FailureKind.NO_SPACE, id="enospc"),
        pytest.param(OSError(errno.EDQUOT, "Disk quota exceeded"), FailureKind.NO_SPACE, id="quota"),
        pytest.param(
            Exception("Error while downloading: No space left on device (os error 28)"),
            FailureKind.NO_SPACE,
            id="rust-enospc",
        ),
        pytest.param(caused(RuntimeError("wrapped"), OSError(errno.ENOSPC, "full")), FailureKind.NO_SPACE, id="cause"),
        pytest.param(RuntimeError("anything else"), FailureKind.TRANSIENT, id="unknown"),
    ],
)
def test_classify(error: BaseException, kind: FailureKind) -> None:
    assert classify(error) is kind


@pytest.mark.parametrize(
    ("kind", "code", "permanent"),
    [
        (FailureKind.TRANSIENT, EXIT_TRANSIENT, False),
        (FailureKind.USAGE, EXIT_USAGE, True),
        (FailureKind.NOT_FOUND, EXIT_NOT_FOUND, True),
        (FailureKind.UNAUTHORIZED, EXIT_UNAUTHORIZED, True),
        (FailureKind.SIZE_MISMATCH, EXIT_SIZE_MISMATCH, True),
        (FailureKind.NO_SPACE, EXIT_NO_SPACE, False),
    ],
)
def test_exit_codes(kind: FailureKind, code: int, permanent: bool) -> None:
    assert (kind.exit_code, kind.permanent) == (code, permanent)


def test_exit_codes_are_the_documented_numbers() -> None:
    assert (EXIT_TRANSIENT, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_UNAUTHORIZED, EXIT_SIZE_MISMATCH, EXIT_NO_SPACE) == (
        1,
        2,
        3,
        4,
        5,
        6,
    )


def test_describe_is_one_line() -> None:
    error = hub_error(RepositoryNotFoundError, 401)
    text = describe(error, classify(error))
    assert "\n" not in text
    assert text.startswith("source not found: 401 Client Error.")
    assert "private repository" in text


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        pytest.param("key AKIAEXAMPLE123 used", ["AKIAEXAMPLE123"], "key *** used", id="known-secret"),
        pytest.param("Authorization: Bearer abc.def", [], "Authorization: Bearer ***", id="bearer"),
        pytest.param("token hf_abcdefghijklmnop rejected", [], "token *** rejected", id="hub-token-shape"),
        pytest.param("short abc stays", ["abc"], "short abc stays", id="too-short-to-be-a-secret"),
        pytest.param("s3cr3t-long and s3cr3t", ["s3cr3t", "s3cr3t-long"], "*** and ***", id="longest-first"),
        pytest.param("nothing here", ["", "zzzzzz"], "nothing here", id="nothing"),
    ],
)
def test_redact(text: str, secrets: list[str], expected: str) -> None:
    assert redact(text, secrets) == expected

"""What can go wrong talking to a registry, classified once, here.

* RegistryUnauthorizedError: 401 or 403 (no, wrong or insufficient credentials).
  Upstream (E.12, E.14): AuthValid=False → Failed.
* ImageNotFoundError: 404 on a manifest, blob or tag list (MANIFEST_UNKNOWN, NAME_UNKNOWN, …).
  Upstream: an image that cannot be fetched → Degraded, retried.
* RegistryUnreachableError: no connection, DNS or TLS failure, timeout, 5xx. Temporary:
  Degraded, retried.
  * RegistryRateLimitedError, a kind of it: 429, or GitHub's 403 with X-RateLimit-Remaining: 0;
    `retry_after` says when asking again makes sense.
* RegistryProtocolError: the registry answered, but not as the distribution spec says (not JSON,
  digest mismatch, schema-1 manifest, no catalog API, another 4xx). MetadataExtractionFailed.

Messages name the registry, the repository and the user, never a password or a token.
"""

from __future__ import annotations

import requests

from controller.registry.http import root_cause


class RegistryError(Exception):
    """Base of every registry failure; `registry` is the host, `status` the HTTP status if any."""

    def __init__(self, message: str, *, registry: str, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.registry = registry
        self.status = status
        self.code = code
        """The first OCI error code of the response body (e.g. MANIFEST_UNKNOWN), if any."""


class RegistryUnauthorizedError(RegistryError):
    """The registry wants (other) credentials: 401 or 403."""


class ImageNotFoundError(RegistryError):
    """The repository, tag or digest does not exist (404)."""


class RegistryUnreachableError(RegistryError):
    """No usable answer: connection refused, DNS, TLS, timeout, a 5xx, or a rate limit
    (RegistryRateLimitedError). Temporary."""


class RegistryRateLimitedError(RegistryUnreachableError):
    """The registry or its listing API asked us to slow down (429, or GitHub's exhausted rate
    limit); `retry_after` is the seconds it asked for (controller.catalog.listing.rate_limit_delay)."""

    def __init__(
        self, message: str, *, registry: str, retry_after: float, status: int | None = None, code: str | None = None
    ):
        super().__init__(message, registry=registry, status=status, code=code)
        self.retry_after = retry_after


class RegistryProtocolError(RegistryError):
    """An answer that does not follow the OCI distribution spec, or content this client cannot read."""


def classify_answer(
    status: int,
    delay: float | None,
    *,
    what: str,
    server: str,
    registry: str,
    who: str,
    said: str = "",
    code: str | None = None,
    not_found: RegistryError,
    other: RegistryError,
) -> RegistryError:
    """The one reading of a refusal, for the distribution API and the listing APIs alike: `delay`
    (controller.catalog.listing.rate_limit_delay) first, then 401/403, 404 (`not_found`, which the
    caller words), 5xx, and anything else (`other`). `server` is how messages name the server
    ("registry ghcr.io", "hub.docker.com"), `who` whose access was refused, `said` the server's
    own words."""
    if delay is not None:
        return RegistryRateLimitedError(
            f"{what}: {server} answered HTTP {status}{said}: rate limited, retry in {delay:.0f} s",
            registry=registry,
            status=status,
            code=code,
            retry_after=delay,
        )
    if status in (401, 403):
        verb = "refused" if status == 401 else "denied"
        return RegistryUnauthorizedError(
            f"{what}: {server} {verb} {who} (HTTP {status}){said}", registry=registry, status=status, code=code
        )
    if status == 404:
        return not_found
    if status >= 500:
        return RegistryUnreachableError(
            f"{what}: {server} answered HTTP {status}{said}", registry=registry, status=status, code=code
        )
    return other


def transport_failure(
    error: requests.exceptions.RequestException, *, what: str, server: str, registry: str
) -> RegistryUnreachableError:
    """No usable answer from `server` (TLS, a timeout, no connection), worded once for the
    distribution and the listing APIs."""
    if isinstance(error, requests.exceptions.SSLError):
        message = f"{what}: TLS with {server} failed: {root_cause(error)}"
    elif isinstance(error, requests.exceptions.Timeout):
        message = f"{what}: {server} did not answer in time"
    else:
        message = f"{what}: cannot connect to {server}: {root_cause(error)}"
    return RegistryUnreachableError(message, registry=registry)

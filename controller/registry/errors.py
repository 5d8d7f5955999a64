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

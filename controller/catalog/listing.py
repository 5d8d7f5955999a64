"""Which API lists a registry's repositories for a wildcard filter, and how its answers read (pure).

Most registries serve the OCI catalog (`/v2/_catalog`). Docker Hub and GitHub's container
registry do not serve it to ordinary users; they list the repositories of one namespace through
their own HTTP APIs, as upstream does (E.14):

* Docker Hub: `GET <hub>/v2/namespaces/<namespace>/repositories?page_size=N`, each page naming the
  next one in `next`; anonymous (public repositories only), or with a bearer token that
  `POST <hub>/v2/auth/token` issues for the pull Secret's username and password or access token.
* ghcr.io: `GET <api.github.com>/orgs/<owner>/packages?package_type=container&per_page=N`, or
  `/users/<owner>/packages` when the owner is a user; pages linked by the `Link` header; always
  with a token (the password of the pull Secret's ghcr.io entry, as upstream).

Tags still come from the registry's own `/v2/<repository>/tags/list`. This module decides, builds
URLs and reads pages; `controller.registry` sends the requests.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from controller.catalog.imageref import DOCKER_HUB, normalise_registry

GHCR = "ghcr.io"
MAX_PAGE_SIZE = 100
"""The most either API returns per page (Docker Hub's page_size, GitHub's per_page)."""
DEFAULT_RETRY_AFTER_SECONDS = 60.0
"""Wait after a rate-limit answer that does not say how long."""
MAX_RETRY_AFTER_SECONDS = 3600.0
"""A longer wait is shortened to this (GitHub's primary limit resets within an hour)."""
GITHUB_API_VERSION = "2022-11-28"


class ListingApi(StrEnum):
    OCI_CATALOG = "oci-catalog"
    """`/v2/_catalog` of the registry itself."""
    DOCKER_HUB = "docker-hub"
    """Docker Hub's repositories of a namespace."""
    GITHUB_PACKAGES = "github-packages"
    """GitHub's container packages of an organisation or user (ghcr.io)."""


class OwnerKind(StrEnum):
    """Whose packages GitHub lists: an organisation's, else (after a 404) a user's."""

    ORGANISATION = "orgs"
    USER = "users"


class ListingPageError(ValueError):
    """A page that is not what the API documents (the caller reports it as a protocol error)."""


@dataclass(frozen=True)
class RepositoryPage:
    repositories: list[str]
    """Full repository names, `namespace/name`."""
    next_url: str | None = None
    """Docker Hub's `next`; GitHub's next page comes from the Link header instead."""


def listing_api(registry: str) -> ListingApi:
    """The API that lists this registry's repositories for a wildcard filter."""
    host = normalise_registry(registry)
    if host == DOCKER_HUB:
        return ListingApi.DOCKER_HUB
    if host == GHCR:
        return ListingApi.GITHUB_PACKAGES
    return ListingApi.OCI_CATALOG


def listing_namespace(pattern: str) -> str | None:
    """The namespace a repository pattern lists on Docker Hub or ghcr.io: its first component when
    that is written out (`amdenterpriseai/aim-*` → `amdenterpriseai`); None when the pattern does
    not name one (`*`, `aim-*`, `*/aim-x`, `org*/x`), since both APIs list one namespace at a time."""
    first, slash, rest = pattern.partition("/")
    if not slash or not first or not rest or "*" in first:
        return None
    return first


def namespace_problem(registry: str, pattern: str) -> str | None:
    """Why a wildcard cannot be listed on this registry, or None."""
    api = listing_api(registry)
    if api is ListingApi.OCI_CATALOG or listing_namespace(pattern) is not None:
        return None
    what = "Docker Hub" if api is ListingApi.DOCKER_HUB else "GitHub"
    return (
        f"{registry} lists repositories one namespace at a time ({what}'s API), so a wildcard must "
        f"start with its namespace, e.g. org/aim-*"
    )


# --- URLs -----------------------------------------------------------------------------------------


def _join(base: str, path: str) -> str:
    return f"{base.rstrip('/')}/{path}"


def docker_hub_token_url(api_url: str) -> str:
    return _join(api_url, "v2/auth/token")


def docker_hub_repositories_url(api_url: str, namespace: str, page_size: int) -> str:
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    return _join(api_url, f"v2/namespaces/{urllib.parse.quote(namespace, safe='')}/repositories?page_size={size}")


def github_packages_url(api_url: str, owner: str, kind: OwnerKind, page_size: int) -> str:
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    owner_path = urllib.parse.quote(owner, safe="")
    return _join(api_url, f"{kind.value}/{owner_path}/packages?package_type=container&per_page={size}")


def same_origin(base: str, url: str) -> bool:
    """Whether a next-page URL is on the API's own scheme, host and port: a page cannot send the
    listing (and its bearer token) elsewhere."""
    first, second = urllib.parse.urlsplit(base), urllib.parse.urlsplit(url)
    return (first.scheme, first.netloc.lower()) == (second.scheme, second.netloc.lower())


# --- pages ----------------------------------------------------------------------------------------


def _name(entry: Any, where: str) -> str:
    name = entry.get("name") if isinstance(entry, Mapping) else None
    if not isinstance(name, str) or not name:
        raise ListingPageError(f"{where}: an entry without a name")
    return name


def parse_docker_hub_page(document: Any, namespace: str) -> RepositoryPage:
    """`{"count": …, "next": url|null, "results": [{"name": …}, …]}` → `namespace/name`s and `next`."""
    if not isinstance(document, Mapping) or not isinstance(document.get("results"), list):
        raise ListingPageError("a Docker Hub page without a results list")
    names = [f"{namespace}/{_name(entry, 'results')}" for entry in document["results"]]
    next_url = document.get("next")
    if next_url is not None and not isinstance(next_url, str):
        raise ListingPageError("a Docker Hub page whose next is not a URL")
    return RepositoryPage(names, next_url or None)


def parse_github_packages_page(document: Any, owner: str) -> RepositoryPage:
    """`[{"name": …, "package_type": "container"}, …]` → `owner/name`s (a name may hold `/`)."""
    if not isinstance(document, list):
        raise ListingPageError("a GitHub packages page that is not a list")
    return RepositoryPage([f"{owner}/{_name(entry, 'packages')}" for entry in document])


# --- rate limits ----------------------------------------------------------------------------------


def _seconds_until(value: str, now: float) -> float | None:
    """Retry-After as delta-seconds or an HTTP date."""
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp() - now


def rate_limit_delay(status: int, headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait when an answer says the caller asked too often; None for any other answer.

    * 429 (Docker Hub, registries, GitHub's secondary limits): `Retry-After`, else
      `X-RateLimit-Reset` (a Unix time), else 60 s;
    * 403 with `X-RateLimit-Remaining: 0` (GitHub's primary limit): until `X-RateLimit-Reset`;
      403 with `Retry-After` (GitHub's secondary limits). Any other 403 is a refusal.

    Clamped to 1 s … 1 h. `now` is a Unix time."""
    lower = {key.lower(): value for key, value in headers.items()}
    retry_after = _seconds_until(lower["retry-after"], now) if "retry-after" in lower else None
    reset: float | None = None
    try:
        reset = float(lower["x-ratelimit-reset"]) - now if "x-ratelimit-reset" in lower else None
    except ValueError:
        reset = None
    exhausted = lower.get("x-ratelimit-remaining", "").strip() == "0"
    if status == 429 or (status == 403 and (exhausted or retry_after is not None)):
        wait = retry_after if retry_after is not None else reset
        return min(max(wait if wait is not None else DEFAULT_RETRY_AFTER_SECONDS, 1.0), MAX_RETRY_AFTER_SECONDS)
    return None

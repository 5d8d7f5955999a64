"""Docker Hub's and GitHub's repository listings for wildcard filters (the I/O edge).

What to ask and how to read the answers is `controller.catalog.listing` (pure); this module sends
the requests (the configured timeouts, CA bundle and user agent; no retries) and classifies what
goes wrong as the registry client does (`errors.py`): 429, or GitHub's 403 with an exhausted rate
limit, is RegistryRateLimitedError with the wait the API asked for.

Requests per listing: Docker Hub, one token request when the source has docker.io credentials,
then one per page; GitHub, one per page, plus the first page of `/users/<owner>/packages` when
`/orgs/<owner>/packages` answers 404. A next page on another host than the API's is refused
(the bearer token would go with it). Messages name the namespace, the API's host and the user,
never a password or a token.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests

from controller.catalog.credentials import RegistryCredentials
from controller.catalog.imageref import DOCKER_HUB
from controller.catalog.listing import (
    GHCR,
    GITHUB_API_VERSION,
    ListingPageError,
    OwnerKind,
    RepositoryPage,
    docker_hub_repositories_url,
    docker_hub_token_url,
    github_packages_url,
    parse_docker_hub_page,
    parse_github_packages_page,
    rate_limit_delay,
    same_origin,
)
from controller.registry.errors import (
    ImageNotFoundError,
    RegistryError,
    RegistryProtocolError,
    RegistryUnauthorizedError,
    RegistryUnreachableError,
    classify_answer,
    transport_failure,
)
from controller.registry.http import TimeoutSession, root_cause
from controller.registry.settings import RegistrySettings

log = logging.getLogger(__name__)

_DETAIL_CHARACTERS = 200


def docker_hub_repositories(
    settings: RegistrySettings, namespace: str, credentials: RegistryCredentials | None = None
) -> list[str]:
    """`namespace/name` of the namespace's repositories on Docker Hub: anonymously its public
    ones; with credentials (a password or an access token) logged in, private ones too."""
    with _api(settings, DOCKER_HUB, settings.docker_hub_api_url, namespace, credentials) as api:
        if credentials is not None:
            api.bearer = api.docker_hub_token(docker_hub_token_url(settings.docker_hub_api_url))
        first = docker_hub_repositories_url(settings.docker_hub_api_url, namespace, settings.listing_page_size)
        return api.collect(first, lambda document: parse_docker_hub_page(document, namespace), _next_in_body)


def github_packages(settings: RegistrySettings, owner: str, credentials: RegistryCredentials | None) -> list[str]:
    """`owner/name` of the container packages of a GitHub organisation (or, after a 404, user) on
    ghcr.io. GitHub's API wants a token: the password of the source's ghcr.io credentials."""
    with _api(settings, GHCR, settings.github_api_url, owner, credentials) as api:
        if credentials is None or not credentials.password:
            raise RegistryUnauthorizedError(
                f"{api.what}: GitHub's packages API needs a token: give the source a pull Secret with a "
                f"{GHCR} entry whose password is a GitHub token allowed to read packages",
                registry=GHCR,
            )
        api.bearer = credentials.password
        api.headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": GITHUB_API_VERSION}

        def parse(document: Any) -> RepositoryPage:
            return parse_github_packages_page(document, owner)

        size = settings.listing_page_size
        try:
            return api.collect(github_packages_url(api.base, owner, OwnerKind.ORGANISATION, size), parse, _next_link)
        except ImageNotFoundError:
            log.debug("No GitHub organisation %s; listing the user's packages", owner)
        return api.collect(github_packages_url(api.base, owner, OwnerKind.USER, size), parse, _next_link)


def _next_in_body(page: RepositoryPage, response: requests.Response) -> str | None:
    return page.next_url


def _next_link(page: RepositoryPage, response: requests.Response) -> str | None:
    # requests parses the Link header (RFC 8288) already.
    url = (response.links.get("next") or {}).get("url")
    return str(url) if url else None


@contextmanager
def _api(
    settings: RegistrySettings, registry: str, base: str, namespace: str, credentials: RegistryCredentials | None
) -> Iterator[_ListingApi]:
    api = _ListingApi(settings, registry, base, namespace, credentials)
    try:
        yield api
    finally:
        api.session.close()


class _ListingApi:
    """One listing: the session, who is asking, and how failures read."""

    def __init__(
        self,
        settings: RegistrySettings,
        registry: str,
        base: str,
        namespace: str,
        credentials: RegistryCredentials | None,
    ):
        self.settings = settings
        self.registry = registry
        self.base = base
        self.host = urllib.parse.urlsplit(base).netloc or base
        self.namespace = namespace
        self.username = credentials.username if credentials else None
        self.credentials = credentials
        self.what = f"repositories of {registry}/{namespace}"
        self.session = TimeoutSession((settings.connect_timeout, settings.read_timeout), settings.user_agent)
        self.verify: bool | str = settings.ca_bundle or True
        self.bearer: str | None = None
        self.headers: dict[str, str] = {"Accept": "application/json"}

    def docker_hub_token(self, url: str) -> str:
        assert self.credentials is not None
        body = {"identifier": self.credentials.username, "secret": self.credentials.password}
        response = self._send("POST", url, json_body=body)
        document = self._document(response)
        token = document.get("access_token") if isinstance(document, dict) else None
        if not isinstance(token, str) or not token:
            raise self._protocol(f"{self.host} answered the login without an access token")
        return token

    def collect(
        self,
        url: str,
        parse: Callable[[Any], RepositoryPage],
        next_of: Callable[[RepositoryPage, requests.Response], str | None],
    ) -> list[str]:
        limit = self.settings.max_repositories
        found: list[str] = []
        seen: set[str] = set()
        next_url: str | None = url
        while next_url is not None and len(found) < limit:
            if not same_origin(self.base, next_url):
                raise self._protocol(
                    f"{self.host} sent a next page on another host ({urllib.parse.urlsplit(next_url).netloc})"
                )
            if next_url in seen:
                raise self._protocol(f"{self.host} sent a next page that was already read")
            seen.add(next_url)
            response = self._send("GET", next_url)
            try:
                page = parse(self._document(response))
            except ListingPageError as error:
                raise self._protocol(f"{self.host}: {error}") from None
            found.extend(page.repositories)
            next_url = next_of(page, response)
        return found[:limit]

    def _send(self, method: str, url: str, json_body: Any = None) -> requests.Response:
        headers = dict(self.headers)
        if self.bearer:
            headers["Authorization"] = f"Bearer {self.bearer}"
        try:
            response = self.session.request(
                method, url, headers=headers, json=json_body, stream=True, verify=self.verify
            )
        except requests.exceptions.RequestException as error:
            raise transport_failure(error, what=self.what, server=self.host, registry=self.registry) from None
        log.debug("Listing API answered", extra={"method": method, "url": url, "status": response.status_code})
        if response.status_code != 200:
            failure = self._classify(response)
            response.close()
            raise failure
        return response

    def _classify(self, response: requests.Response) -> RegistryError:
        status = response.status_code
        detail = self._detail(response)
        kind = "token" if self.registry == GHCR else "credentials"
        return classify_answer(
            status,
            rate_limit_delay(status, response.headers, time.time()),
            what=self.what,
            server=self.host,
            registry=self.registry,
            who=f"the {kind} of user {self.username!r}" if self.username else "anonymous access",
            said=detail,
            not_found=ImageNotFoundError(
                f"{self.what}: {self.host} knows no namespace {self.namespace!r} (HTTP 404){detail}",
                registry=self.registry,
                status=status,
            ),
            other=self._protocol(f"{self.host} answered HTTP {status}{detail}", status),
        )

    def _detail(self, response: requests.Response) -> str:
        """The API's own words (`message` on GitHub, `detail` or `message` on Docker Hub)."""
        try:
            document = json.loads(response.raw.read(4096, decode_content=True) or b"null")
        except (ValueError, OSError, requests.exceptions.RequestException):
            return ""
        if not isinstance(document, dict):
            return ""
        said = document.get("message") or document.get("detail") or document.get("errinfo")
        return f": {str(said)[:_DETAIL_CHARACTERS]}" if isinstance(said, str) and said else ""

    def _document(self, response: requests.Response) -> Any:
        limit = self.settings.max_document_bytes
        chunks, total = [], 0
        try:
            for chunk in response.iter_content(chunk_size=65536):
                total += len(chunk)
                if total > limit:
                    raise self._protocol(f"a page of {self.host} is larger than {limit} bytes")
                chunks.append(chunk)
        except requests.exceptions.RequestException as error:
            raise RegistryUnreachableError(
                f"{self.what}: reading from {self.host} failed: {root_cause(error)}", registry=self.registry
            ) from None
        finally:
            response.close()
        try:
            return json.loads(b"".join(chunks))
        except ValueError:
            raise self._protocol(f"{self.host} answered something that is not JSON") from None

    def _protocol(self, message: str, status: int | None = None) -> RegistryProtocolError:
        return RegistryProtocolError(f"{self.what}: {message}", registry=self.registry, status=status)

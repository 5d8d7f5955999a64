"""RegistryClient: image configs, tags and catalogs over the OCI distribution API (the I/O edge).

Built on oras-py: its `Registry` builds the URLs, follows `Link` pagination for tag and catalog
lists, and its token backend does the Docker/OCI bearer-token exchange. Three of its edges are
replaced, for reasons a controller cannot live with:

* `do_request`: oras retries every failure five times with sleeps of 3 to 83 seconds, which would
  hold a reconcile for minutes when a registry is down, and sends no timeout. Ours sends the
  configured timeouts, retries only the one authentication round trip, and turns transport
  failures into RegistryUnreachableError.
* authentication: oras's token backend cannot answer a `Basic` challenge (htpasswd registries,
  Harbor robot accounts behind basic auth); ours answers it with the pull secret's username and
  password and leaves `Bearer` challenges to oras. oras's default of reading ~/.docker/config.json
  and credential helpers is switched off: only the model's pull secrets count.
* `_check_200_response`: oras raises ValueError for every non-2xx; ours classifies (errors.py).

Requests per call: `image_config` fetches the manifest (plus the chosen platform's manifest for a
multi-platform image) and the config blob, and nothing else; never a layer. With a bearer-token
registry add one token request. Calls are synchronous (requests); call them from asyncio with
`asyncio.to_thread`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import oras.auth
import oras.container
import oras.provider
import requests

from controller.catalog.credentials import RegistryCredentials
from controller.catalog.imageref import ImageReference, normalise_registry, parse_image_reference
from controller.catalog.listing import ListingApi, listing_api, rate_limit_delay
from controller.registry.errors import (
    ImageNotFoundError,
    RegistryError,
    RegistryProtocolError,
    classify_answer,
    transport_failure,
)
from controller.registry.http import TimeoutSession
from controller.registry.listing import docker_hub_repositories, github_packages
from controller.registry.manifests import (
    ACCEPTED_MANIFESTS,
    ManifestError,
    config_descriptor,
    config_labels_and_env,
    is_index,
    select_platform,
    sha256_digest,
    verify_digest,
)
from controller.registry.settings import RegistrySettings

log = logging.getLogger(__name__)

# An index may point at another index (rare); two hops is more than any real image needs.
MAX_INDEX_DEPTH = 2


@dataclass(frozen=True)
class ImageConfig:
    labels: dict[str, str]
    """config.Labels of the image (of its linux/amd64 image for a multi-platform one)."""
    env: dict[str, str]
    """config.Env as a dict."""
    digest: str
    """Digest of the manifest the reference resolved to (the index's, for a multi-platform image):
    `image@digest` pins exactly what was read."""
    config_digest: str
    platform: str | None = None
    """The platform read from a multi-platform image (e.g. linux/amd64); None for a single image."""


class RegistryClient:
    """Stateless between calls: every call opens its own session with the credentials it is given."""

    def __init__(self, settings: RegistrySettings | None = None):
        self.settings = settings or RegistrySettings()

    def image_config(
        self, reference: str | ImageReference, credentials: RegistryCredentials | None = None
    ) -> ImageConfig:
        """Labels and env of an image, from its manifest and config blob only.

        Raises InvalidImageReferenceError (a ValueError) for a malformed reference, else one of
        the RegistryError subclasses.
        """
        ref = reference if isinstance(reference, ImageReference) else parse_image_reference(reference)
        with self._session(ref.registry, credentials) as session:
            container = session.container(ref.api_repository)
            manifest, top_digest, content_type = session.manifest(container, ref.manifest_reference, str(ref))
            platform = None
            depth = 0
            while is_index(manifest, content_type):
                depth += 1
                if depth > MAX_INDEX_DEPTH:
                    raise session.protocol_error(f"{ref}: indexes nested deeper than {MAX_INDEX_DEPTH}")
                try:
                    entry, platform = select_platform(manifest.get("manifests") or [])
                except ManifestError as error:
                    raise session.protocol_error(f"{ref}: {error}") from None
                manifest, _, content_type = session.manifest(container, entry["digest"], str(ref))
            try:
                config_digest, size = config_descriptor(manifest, content_type)
            except ManifestError as error:
                raise session.protocol_error(f"{ref}: {error}") from None
            config = session.blob_json(container, config_digest, size, f"image config of {ref}")
            try:
                labels, env = config_labels_and_env(config)
            except ManifestError as error:
                raise session.protocol_error(f"{ref}: {error}") from None
        return ImageConfig(labels=labels, env=env, digest=top_digest, config_digest=config_digest, platform=platform)

    def list_tags(self, registry: str, repository: str, credentials: RegistryCredentials | None = None) -> list[str]:
        """Every tag of `registry/repository` (following the registry's pagination)."""
        api_repository = ImageReference(normalise_registry(registry), repository).api_repository
        with self._session(registry, credentials) as session:
            container = session.container(api_repository)
            with session.operation(f"tags of {registry}/{repository}"):
                tags: list[str] = session.get_tags(container)
        return tags

    def catalog(self, registry: str, credentials: RegistryCredentials | None = None) -> list[str]:
        """Repository names from `/v2/_catalog` (paged; at most settings.max_repositories).

        Docker Hub and GHCR do not serve the catalog to ordinary users (they answer 401/404, raised
        as RegistryUnauthorizedError or RegistryProtocolError): `namespace_repositories` lists them.
        """
        repositories: list[str] = []
        limit = self.settings.max_repositories

        def collect(response: requests.Response) -> bool:
            page = response.json().get("repositories") or []
            repositories.extend(str(name) for name in page)
            return bool(page) and len(repositories) < limit

        with self._session(registry, credentials) as session:
            url = f"{session.prefix}://{session.hostname}/v2/_catalog?n={self.settings.catalog_page_size}"
            with session.operation(f"catalog of {registry}", not_found=RegistryProtocolError):
                session._do_paginated_request(url, callable=collect)
        return repositories[:limit]

    def namespace_repositories(
        self, registry: str, namespace: str, credentials: RegistryCredentials | None = None
    ) -> list[str]:
        """`namespace/name` of every repository of a namespace on Docker Hub (its API; anonymous
        lists public repositories, credentials log in first) or ghcr.io (GitHub's packages API;
        needs a token: the credentials' password). Paged; at most settings.max_repositories.
        Other registries: the catalog, narrowed to the namespace."""
        api = listing_api(registry)
        if api is ListingApi.DOCKER_HUB:
            return docker_hub_repositories(self.settings, namespace, credentials)
        if api is ListingApi.GITHUB_PACKAGES:
            return github_packages(self.settings, namespace, credentials)
        return [name for name in self.catalog(registry, credentials) if name.startswith(f"{namespace}/")]

    @contextmanager
    def _session(self, registry: str, credentials: RegistryCredentials | None) -> Iterator[_RegistrySession]:
        session = _RegistrySession(self.settings, normalise_registry(registry), credentials)
        try:
            yield session
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            # oras and requests raise these for answers that are not the JSON they expect
            # (a list where an object belongs, a missing key).
            raise session.protocol_error(f"unexpected answer from {session.registry}: {error}") from None
        finally:
            session.session.close()


@dataclass
class _Operation:
    what: str
    not_found: type[RegistryError] = ImageNotFoundError


class _ChallengeAuth(oras.auth.TokenAuth):  # type: ignore[misc]
    """oras's bearer-token backend, plus answers to `Basic` challenges. Once a registry asked for
    basic auth, later requests of the call send it up front instead of being challenged again."""

    basic_scheme = False

    def get_auth_header(self) -> dict[str, str]:
        basic = getattr(self, "_basic_auth", None)
        if self.basic_scheme and basic:
            return {"Authorization": f"Basic {basic}"}
        header: dict[str, str] = super().get_auth_header()
        return header

    def authenticate_request(
        self, original: requests.Response, headers: dict[str, str], refresh: bool = False
    ) -> tuple[dict[str, str], bool]:
        challenge = original.headers.get("Www-Authenticate", "")
        scheme = challenge.split(" ", 1)[0].lower()
        if scheme == "basic":
            basic = getattr(self, "_basic_auth", None)
            if not basic or self.basic_scheme:  # nothing to offer, or already refused
                return headers, False
            self.basic_scheme = True
            return {**headers, "Authorization": f"Basic {basic}"}, True
        if scheme != "bearer" or "realm=" not in challenge:
            return headers, False
        result: tuple[dict[str, str], bool] = super().authenticate_request(original, headers, refresh)
        return result


class _RegistrySession(oras.provider.Registry):  # type: ignore[misc]
    """One oras Registry for one call: host, scheme, credentials and the operation in progress."""

    def __init__(self, settings: RegistrySettings, registry: str, credentials: RegistryCredentials | None):
        host = settings.endpoint(registry)
        insecure = settings.uses_plain_http(host)
        verify: bool | str = settings.ca_bundle or True
        super().__init__(hostname=host, insecure=insecure, tls_verify=verify, auth_backend="token")
        self.settings = settings
        self.registry = registry
        self.username = credentials.username if credentials else None
        self.session = TimeoutSession((settings.connect_timeout, settings.read_timeout), settings.user_agent)
        auth = _ChallengeAuth()
        auth.session = self.session
        auth.prefix = self.prefix
        auth._tls_verify = verify
        auth._auth_config = {"auths": {}}  # non-empty: oras then never reads ~/.docker/config.json
        if credentials is not None:
            auth.set_basic_auth(credentials.username, credentials.password)
        self.auth = auth
        self._operation = _Operation(f"registry {registry}")

    # --- what the client asks for ---

    def container(self, repository: str) -> oras.container.Container:
        container = oras.container.Container("placeholder", registry=self.hostname)
        namespace, _, name = repository.rpartition("/")
        container.namespace = namespace or None
        container.repository = name
        return container

    @contextmanager
    def operation(self, what: str, not_found: type[RegistryError] = ImageNotFoundError) -> Iterator[None]:
        previous = self._operation
        self._operation = _Operation(what, not_found)
        try:
            yield
        finally:
            self._operation = previous

    def manifest(
        self, container: oras.container.Container, reference: str, image: str
    ) -> tuple[dict[str, Any], str, str | None]:
        """A manifest by tag or digest → (document, its digest, Content-Type)."""
        url = f"{self.prefix}://{container.manifest_url(reference)}"
        with self.operation(f"manifest of {image}" + (f" ({reference})" if reference.startswith("sha") else "")):
            response = self.do_request(url, "GET", headers={"Accept": ", ".join(ACCEPTED_MANIFESTS)})
            self._check_200_response(response)
            content = self._bounded_content(response)
        digest = response.headers.get("Docker-Content-Digest") or sha256_digest(content)
        if ":" in reference and not verify_digest(content, reference):
            raise self.protocol_error(f"{image}: the manifest does not match digest {reference}")
        document = _json_object(content)
        if document is None:
            raise self.protocol_error(f"{image}: the manifest is not a JSON object")
        return document, digest, response.headers.get("Content-Type")

    def blob_json(
        self, container: oras.container.Container, digest: str, size: int | None, what: str
    ) -> dict[str, Any]:
        if size is not None and size > self.settings.max_document_bytes:
            raise self.protocol_error(f"{what} is {size} bytes, more than {self.settings.max_document_bytes}")
        with self.operation(what):
            response = self.get_blob(container, digest, stream=True)
            self._check_200_response(response)
            content = self._bounded_content(response)
        if not verify_digest(content, digest):
            raise self.protocol_error(f"{what} does not match its digest {digest}")
        document = _json_object(content)
        if document is None:
            raise self.protocol_error(f"{what} is not a JSON object")
        return document

    def protocol_error(self, message: str) -> RegistryProtocolError:
        return RegistryProtocolError(message, registry=self.registry)

    # --- oras edges replaced (see the module docstring) ---

    def do_request(
        self,
        url: str,
        method: str = "GET",
        data: dict[str, Any] | bytes | None = None,
        headers: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        request_headers = {**(headers or {}), **self.auth.get_auth_header()}
        send = self._sender(method, url, data, json, stream)
        response = send(request_headers)
        if response.status_code not in (401, 403):
            return response
        # Always a fresh token: one cached for another scope (say, the catalog) is no good here.
        with self._transport_errors():
            retry_headers, changed = self.auth.authenticate_request(response, dict(request_headers), refresh=True)
        if not changed:
            return response
        response.close()
        return send(retry_headers)

    def _sender(
        self, method: str, url: str, data: Any, json_body: Any, stream: bool
    ) -> Callable[[dict[str, str]], requests.Response]:
        def send(headers: dict[str, str]) -> requests.Response:
            with self._transport_errors():
                response: requests.Response = self.session.request(
                    method, url, data=data, json=json_body, headers=headers, stream=stream, verify=self._tls_verify
                )
            log.debug("Registry answered", extra={"method": method, "url": url, "status": response.status_code})
            return response

        return send

    def _check_200_response(self, response: requests.Response) -> None:
        if response.status_code in (200, 201, 202):
            return
        raise self._classify(response)

    def _classify(self, response: requests.Response) -> RegistryError:
        status = response.status_code
        code, detail = _oci_error(response)
        said = f" ({code}{': ' + detail if detail else ''})" if code else ""
        what, server = self._operation.what, f"registry {self.registry}"
        message = f"{what}: not found in {server} (HTTP 404){said}"
        if self._operation.not_found is RegistryProtocolError:
            message = f"{what}: {server} does not serve this API (HTTP 404){said}"
        return classify_answer(
            status,
            rate_limit_delay(status, response.headers, time.time()),
            what=what,
            server=server,
            registry=self.registry,
            who=f"the credentials of user {self.username!r}" if self.username else "anonymous access",
            said=said,
            code=code,
            not_found=self._operation.not_found(message, registry=self.registry, status=status, code=code),
            other=RegistryProtocolError(
                f"{what}: {server} answered HTTP {status}{said}", registry=self.registry, status=status, code=code
            ),
        )

    @contextmanager
    def _transport_errors(self) -> Iterator[None]:
        try:
            yield
        except requests.exceptions.RequestException as error:
            raise transport_failure(
                error, what=self._operation.what, server=f"registry {self.registry}", registry=self.registry
            ) from None

    def _bounded_content(self, response: requests.Response) -> bytes:
        limit = self.settings.max_document_bytes
        chunks, total = [], 0
        with self._transport_errors():
            for chunk in response.iter_content(chunk_size=65536):
                total += len(chunk)
                if total > limit:
                    response.close()
                    raise self.protocol_error(f"{self._operation.what}: larger than {limit} bytes")
                chunks.append(chunk)
        return b"".join(chunks)


def _json_object(content: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(content)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _oci_error(response: requests.Response) -> tuple[str | None, str | None]:
    """The first `errors[]` entry of an OCI error body: (code, message)."""
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return None, None
    first: Mapping[str, Any] = errors[0] if errors and isinstance(errors[0], Mapping) else {}
    code, message = first.get("code"), first.get("message")
    return (str(code) if code else None), (str(message) if message else None)

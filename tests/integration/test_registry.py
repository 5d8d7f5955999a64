"""RegistryClient against a real OCI registry (CNCF distribution on 127.0.0.1, images pushed with
crane): image labels to imageMetadata, error classification, pull-secret credentials over basic
and bearer-token auth, multi-platform images, and how many requests it takes.

No Kubernetes needed; the directory marks these `cluster` anyway.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from controller.catalog.credentials import RegistryCredentials, credentials_for_registry
from controller.catalog.imageref import InvalidImageReferenceError
from controller.catalog.labels import parse_image_labels
from controller.registry import (
    ImageNotFoundError,
    RegistryClient,
    RegistryProtocolError,
    RegistrySettings,
    RegistryUnauthorizedError,
    RegistryUnreachableError,
)
from tests.conftest import PRIVATE_REGISTRY_PASSWORD
from tests.registry import Crane, RegistryServer

QWEN_LABELS = {
    "com.amd.aim.model.canonicalName": "Qwen/Qwen3-32B",
    "com.amd.aim.model.source": "hf://Qwen/Qwen3-32B",
    "com.amd.aim.model.tags": "chat, reasoning",
    "com.amd.aim.hfToken.required": "false",
    "com.amd.aim.model.recommendedDeployments": (
        "[{'gpuModel': 'MI300X', 'gpuCount': 1, 'precision': 'fp8', 'metric': 'latency'}, "
        "{'gpuModel': 'MI300X', 'gpuCount': 8, 'precision': 'bf16', 'metric': 'throughput'}]"
    ),
    "org.opencontainers.image.title": "aim-qwen3-32b",
    "org.opencontainers.image.version": "0.8.5",
}
BASE_IMAGE = "docker.io/amdenterpriseai/aim-base:0.8"


def unique(name: str) -> str:
    """Repositories are per test: the registries live for the whole session."""
    return f"{name}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def client() -> RegistryClient:
    return RegistryClient()


def test_labels_become_image_metadata_from_manifest_and_config_only(
    client: RegistryClient, crane: Crane, oci_registry: RegistryServer
) -> None:
    repository = unique("amd/aim-qwen3-32b")
    digest = crane.push_image(repository, "0.8.5", labels=QWEN_LABELS, env={"AIM_BASE_IMAGE_REF": BASE_IMAGE})
    mark = oci_registry.access_log_mark()

    config = client.image_config(f"{oci_registry.host}/{repository}:0.8.5")

    requests = oci_registry.requests_since(mark)
    assert [(r.method, r.path.split("/")[-2]) for r in requests] == [("GET", "manifests"), ("GET", "blobs")]
    assert requests[1].path.endswith(config.config_digest)
    assert config.digest == digest
    assert config.platform is None
    parsed = parse_image_labels(config.labels, config.env)
    assert parsed.has_aim_labels
    assert parsed.error is None
    assert parsed.metadata is not None
    assert parsed.metadata["model"] == {
        "canonicalName": "Qwen/Qwen3-32B",
        "source": "hf://Qwen/Qwen3-32B",
        "tags": ["chat", "reasoning"],
        "hfTokenRequired": False,
        "recommendedDeployments": [
            {"gpuModel": "MI300X", "gpuCount": 1, "precision": "fp8", "metric": "latency"},
            {"gpuModel": "MI300X", "gpuCount": 8, "precision": "bf16", "metric": "throughput"},
        ],
    }
    assert parsed.metadata["oci"] == {"title": "aim-qwen3-32b", "version": "0.8.5"}
    assert parsed.metadata["baseImageRef"] == BASE_IMAGE
    assert parsed.metadata["originalLabels"] == QWEN_LABELS


def test_pinned_digest_reads_the_same_image(client: RegistryClient, crane: Crane, oci_registry: RegistryServer) -> None:
    repository = unique("amd/aim-pinned")
    digest = crane.push_image(repository, "1.0.0", labels={"com.amd.aim.model.canonicalName": "pinned/model"})
    config = client.image_config(f"{oci_registry.host}/{repository}@{digest}")
    assert config.digest == digest
    assert config.labels == {"com.amd.aim.model.canonicalName": "pinned/model"}


def test_image_without_aim_labels_is_found_but_has_none(
    client: RegistryClient, crane: Crane, oci_registry: RegistryServer
) -> None:
    repository = unique("library/plain")
    crane.push_image(repository, "1.0", labels={"maintainer": "someone"}, env={"PATH": "/usr/bin"})
    config = client.image_config(f"{oci_registry.host}/{repository}:1.0")
    parsed = parse_image_labels(config.labels, config.env)
    assert not parsed.has_aim_labels
    assert parsed.metadata == {"originalLabels": {"maintainer": "someone"}}


@pytest.mark.parametrize(
    ("docker_list", "media_type"),
    [
        (False, "application/vnd.oci.image.index.v1+json"),
        (True, "application/vnd.docker.distribution.manifest.list.v2+json"),
    ],
    ids=["oci-index", "docker-manifest-list"],
)
def test_multi_platform_image_reads_linux_amd64(
    client: RegistryClient, crane: Crane, oci_registry: RegistryServer, docker_list: bool, media_type: str
) -> None:
    repository = unique("amd/aim-multi")
    platforms = {
        "linux/arm64": {"com.amd.aim.model.canonicalName": "arm-build"},
        "linux/amd64": {"com.amd.aim.model.canonicalName": "amd-build"},
    }
    index_digest = crane.push_index(repository, "1.0.0", platforms, docker_media_types=docker_list)
    assert media_type in crane.run("manifest", crane.ref(repository, "1.0.0"))
    mark = oci_registry.access_log_mark()

    config = client.image_config(f"{oci_registry.host}/{repository}:1.0.0")

    assert config.labels == {"com.amd.aim.model.canonicalName": "amd-build"}
    assert config.platform == "linux/amd64"
    assert config.digest == index_digest
    paths = [r.path for r in oci_registry.requests_since(mark)]
    assert [p.split("/")[-2] for p in paths] == ["manifests", "manifests", "blobs"]
    assert paths[2].endswith(config.config_digest)


def test_index_without_amd64_reads_the_first_image(
    client: RegistryClient, crane: Crane, oci_registry: RegistryServer
) -> None:
    repository = unique("amd/aim-arm-only")
    platforms = {"linux/arm64": {"build": "arm64"}, "linux/ppc64le": {"build": "ppc64le"}}
    crane.push_index(repository, "1", platforms)
    config = client.image_config(f"{oci_registry.host}/{repository}:1")
    assert (config.labels, config.platform) == ({"build": "arm64"}, "linux/arm64")


@pytest.mark.parametrize(
    "reference",
    ["{host}/{repository}:9.9.9", "{host}/{repository}-missing:1.0", "{host}/{repository}@sha256:" + "0" * 64],
)
def test_missing_image_is_not_found(
    client: RegistryClient, crane: Crane, oci_registry: RegistryServer, reference: str
) -> None:
    repository = unique("amd/aim-exists")
    crane.push_image(repository, "1.0.0")
    with pytest.raises(ImageNotFoundError) as raised:
        client.image_config(reference.format(host=oci_registry.host, repository=repository))
    assert raised.value.status == 404
    assert raised.value.registry == oci_registry.host
    assert "not found" in str(raised.value)
    with pytest.raises(ImageNotFoundError):
        client.list_tags(oci_registry.host, f"{repository}-missing")


def test_malformed_reference_is_a_value_error(client: RegistryClient) -> None:
    with pytest.raises(InvalidImageReferenceError):
        client.image_config("Not A/Reference")


@pytest.fixture(params=["basic", "bearer-token"])
def private(
    request: pytest.FixtureRequest,
    private_oci_registry: RegistryServer,
    private_crane: Crane,
    token_oci_registry: RegistryServer,
    token_crane: Crane,
) -> tuple[RegistryServer, Crane]:
    """The same tests against htpasswd basic auth and against a token service."""
    if request.param == "basic":
        return private_oci_registry, private_crane
    return token_oci_registry, token_crane


@pytest.mark.parametrize("password", [None, "wrong-password"], ids=["anonymous", "wrong-password"])
def test_private_registry_refuses_without_the_right_credentials(
    client: RegistryClient, private: tuple[RegistryServer, Crane], password: str | None
) -> None:
    server, pusher = private
    repository = unique("private/aim-model")
    pusher.push_image(repository, "1.0.0", labels={"com.amd.aim.model.canonicalName": "private/model"})
    credentials = None
    if password is not None:
        credentials = credentials_for_registry(
            [server.dockerconfigjson_secret(password=password)], server.host
        ).credentials
        assert credentials is not None
    for call in (
        lambda: client.image_config(f"{server.host}/{repository}:1.0.0", credentials),
        lambda: client.list_tags(server.host, repository, credentials),
        lambda: client.catalog(server.host, credentials),
    ):
        with pytest.raises(RegistryUnauthorizedError) as raised:
            call()
        message = str(raised.value)
        assert raised.value.status in (401, 403)
        assert ("anonymous access" if password is None else "credentials of user 'aim-puller'") in message
        assert PRIVATE_REGISTRY_PASSWORD not in message
        assert "wrong-password" not in message


def test_private_registry_with_dockerconfigjson_credentials(
    client: RegistryClient, private: tuple[RegistryServer, Crane]
) -> None:
    server, pusher = private
    repository = unique("private/aim-model")
    pusher.push_image(repository, "1.0.0", labels={"com.amd.aim.model.canonicalName": "private/model"})
    pusher.tag(pusher.ref(repository, "1.0.0"), "1.1.0")
    lookup = credentials_for_registry(
        [{"metadata": {"name": "unrelated"}, "data": {}}, server.dockerconfigjson_secret("pull-secret")], server.host
    )
    assert lookup.source == "pull-secret"
    mark = server.access_log_mark()

    config = client.image_config(f"{server.host}/{repository}:1.0.0", lookup.credentials)

    assert config.labels == {"com.amd.aim.model.canonicalName": "private/model"}
    # One challenge, then the credentials (a token, for a token registry) are sent up front.
    assert [r.status for r in server.requests_since(mark)] == [401, 200, 200]
    if server.tokens is not None:
        assert server.tokens.issued[-1] == ("aim-puller", (f"repository:{repository}:pull",))
    assert client.list_tags(server.host, repository, lookup.credentials) == ["1.0.0", "1.1.0"]
    assert repository in client.catalog(server.host, lookup.credentials)


def test_unreachable_registry_fails_fast(client: RegistryClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: connections are refused
        started = time.monotonic()
        with pytest.raises(RegistryUnreachableError) as raised:
            client.image_config(f"127.0.0.1:{port}/org/model:1.0")
    assert time.monotonic() - started < 5, "no retries with sleeps"
    assert "Connection refused" in str(raised.value)
    with pytest.raises(RegistryUnreachableError):
        client.list_tags(f"127.0.0.1:{port}", "org/model")


def test_registry_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel accepts the connection; nobody ever answers
        host = f"127.0.0.1:{silent.getsockname()[1]}"
        client = RegistryClient(RegistrySettings(read_timeout=0.5))
        started = time.monotonic()
        with pytest.raises(RegistryUnreachableError, match="did not answer in time"):
            client.image_config(f"{host}/org/model:1.0")
    assert time.monotonic() - started < 5


class _Answer(BaseHTTPRequestHandler):
    status = 503
    body = b'{"errors": [{"code": "UNAVAILABLE", "message": "maintenance"}]}'

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def answering() -> Iterator[type[_Answer]]:
    """A stand-in registry on 127.0.0.1 answering every request with `status` and `body`."""

    class Handler(_Answer):
        pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Handler.host = f"127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield Handler
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (503, _Answer.body, RegistryUnreachableError, "HTTP 503 (UNAVAILABLE: maintenance)"),
        (429, b'{"errors": [{"code": "TOOMANYREQUESTS"}]}', RegistryUnreachableError, "HTTP 429 (TOOMANYREQUESTS)"),
        (400, b"{}", RegistryProtocolError, "HTTP 400"),
        (200, b"<html>not a registry</html>", RegistryProtocolError, "not a JSON object"),
        (200, b'{"schemaVersion": 1, "fsLayers": []}', RegistryProtocolError, "schema 1"),
    ],
    ids=["unavailable", "rate-limited", "bad-request", "not-json", "schema-1"],
)
def test_answers_that_are_not_images(
    client: RegistryClient, answering: type[_Answer], status: int, body: bytes, error: type[Exception], words: str
) -> None:
    answering.status, answering.body = status, body
    host = answering.host  # type: ignore[attr-defined]
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        client.image_config(f"{host}/org/model:1.0")


def test_catalog_not_served(client: RegistryClient, answering: type[_Answer]) -> None:
    answering.status, answering.body = 404, b'{"errors": [{"code": "UNSUPPORTED"}]}'
    with pytest.raises(RegistryProtocolError, match="does not serve this API"):
        client.catalog(answering.host)  # type: ignore[attr-defined]


def test_anonymous_registry_ignores_credentials_it_does_not_ask_for(
    client: RegistryClient, crane: Crane, oci_registry: RegistryServer
) -> None:
    repository = unique("amd/aim-open")
    crane.push_image(repository, "2.0.0")
    credentials = RegistryCredentials("someone", "irrelevant")
    assert client.list_tags(oci_registry.host, repository, credentials) == ["2.0.0"]


def test_catalog_follows_pages_and_stops_at_the_limit(crane: Crane, oci_registry: RegistryServer) -> None:
    prefix = unique("paged")
    for index in range(5):
        crane.push_image(f"{prefix}/repo-{index}", "1")
    mark = oci_registry.access_log_mark()
    everything = RegistryClient(RegistrySettings(catalog_page_size=2)).catalog(oci_registry.host)
    assert {f"{prefix}/repo-{index}" for index in range(5)} <= set(everything)
    pages = [r for r in oci_registry.requests_since(mark) if r.path.startswith("/v2/_catalog")]
    # Two per page; a registry may link one empty page after a full last one.
    full_pages = -(-len(everything) // 2)
    assert full_pages <= len(pages) <= full_pages + 1
    limited = RegistryClient(RegistrySettings(catalog_page_size=2, max_repositories=3)).catalog(oci_registry.host)
    assert limited == everything[:3]

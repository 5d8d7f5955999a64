"""AIMClusterModelSource discovery against a real registry: filter plans run by
list_source_images (catalog, tag lists, static images), semver constraints, excludes, maxModels and
the AIMClusterModels that would be created. Wildcards on docker.io and ghcr.io list repositories
through the Docker Hub and GitHub look-alikes (tests/servers/registry_apis.py) while tags and
images come from the local registry standing in for them (`AIM_REGISTRY_ENDPOINTS`); one test runs
that through the controller on the real API server."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from controller.catalog.credentials import RegistryCredentials, credentials_for_registry
from controller.catalog.sources import (
    RegistryImage,
    Strategy,
    cluster_model_name,
    plan_cluster_model,
    plan_filters,
    select_models,
)
from controller.registry import RegistryClient, RegistryRateLimitedError, RegistrySettings, RegistryUnauthorizedError
from controller.registry.sources import list_source_images
from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.conftest import Kubectl
from tests.registry import Crane, RegistryServer, push_images
from tests.servers.registry_apis import DockerHubLookalike, GitHubPackagesLookalike

AIM_LABELS = {"com.amd.aim.model.canonicalName": "test/model"}


@pytest.fixture(scope="module")
def org(crane: Crane) -> str:
    """An organisation of repositories, pushed once for the module:

    <org>/aim-qwen   0.8.3 0.8.4 0.9 v0.9.1 1.0.0 latest
    <org>/aim-llama  0.9.0 1.2.0
    <org>/aim-old    0.9.5           (excluded by the filters below)
    <org>/tools      0.9.0           (no aim- prefix)
    """
    name = f"org-{uuid.uuid4().hex[:6]}"
    push_images(crane, f"{name}/aim-qwen", ["0.8.3", "0.8.4", "0.9", "v0.9.1", "1.0.0", "latest"], AIM_LABELS)
    push_images(crane, f"{name}/aim-llama", ["0.9.0", "1.2.0"], AIM_LABELS)
    push_images(crane, f"{name}/aim-old", ["0.9.5"], AIM_LABELS)
    push_images(crane, f"{name}/tools", ["0.9.0"])
    return name


def discover(registry: RegistryServer, spec: dict[str, Any], secrets: list[dict[str, Any]] | None = None) -> set[str]:
    plans = plan_filters(spec)
    assert [p.problem for p in plans] == [None] * len(plans)
    listing = list_source_images(
        RegistryClient(), plans, lambda host: credentials_for_registry(secrets or [], host).credentials
    )
    assert listing.failures == []
    return {image.image for image in listing.images}


def test_list_tags_with_semver_constraints(oci_registry: RegistryServer, org: str) -> None:
    spec = {"registry": oci_registry.host, "filters": [{"image": f"{org}/aim-qwen"}], "versions": [">=0.8.4, <1.0"]}
    assert plan_filters(spec)[0].strategy is Strategy.LIST_TAGS
    assert discover(oci_registry, spec) == {
        f"{oci_registry.host}/{org}/aim-qwen:0.8.4",
        f"{oci_registry.host}/{org}/aim-qwen:0.9",
        f"{oci_registry.host}/{org}/aim-qwen:v0.9.1",
    }


def test_filter_versions_override_the_source_versions(oci_registry: RegistryServer, org: str) -> None:
    spec = {
        "registry": oci_registry.host,
        "filters": [{"image": f"{org}/aim-qwen", "versions": [">=1.0"]}, {"image": f"{org}/aim-llama"}],
        "versions": ["<1.0"],
    }
    assert discover(oci_registry, spec) == {
        f"{oci_registry.host}/{org}/aim-qwen:1.0.0",
        f"{oci_registry.host}/{org}/aim-llama:0.9.0",
    }


def test_catalog_with_wildcard_and_exclude(oci_registry: RegistryServer, org: str) -> None:
    spec = {
        "registry": oci_registry.host,
        "filters": [{"image": f"{org}/aim-*", "exclude": [f"{org}/aim-old"]}],
        "versions": [">=0.9.0"],
    }
    assert plan_filters(spec)[0].strategy is Strategy.CATALOG
    assert discover(oci_registry, spec) == {
        f"{oci_registry.host}/{org}/aim-qwen:0.9",
        f"{oci_registry.host}/{org}/aim-qwen:v0.9.1",
        f"{oci_registry.host}/{org}/aim-qwen:1.0.0",
        f"{oci_registry.host}/{org}/aim-llama:0.9.0",
        f"{oci_registry.host}/{org}/aim-llama:1.2.0",
    }


def test_registry_prefix_in_the_filter_wins(oci_registry: RegistryServer, org: str) -> None:
    spec = {"registry": "registry.invalid", "filters": [{"image": f"{oci_registry.host}/{org}/aim-llama:1.*"}]}
    assert discover(oci_registry, spec) == {f"{oci_registry.host}/{org}/aim-llama:1.2.0"}


def test_static_filters_need_no_registry() -> None:
    spec = {"registry": "127.0.0.1:1", "filters": [{"image": "org/aim-x:1.0.0"}, {"image": "ghcr.io/org/aim-y:2"}]}
    listing = list_source_images(RegistryClient(), plan_filters(spec), lambda host: None)
    assert (listing.requests, listing.failures) == (0, [])
    assert [i.image for i in listing.images] == ["127.0.0.1:1/org/aim-x:1.0.0", "ghcr.io/org/aim-y:2"]


def test_catalog_and_tags_listed_once_per_sync(oci_registry: RegistryServer, org: str) -> None:
    spec = {
        "registry": oci_registry.host,
        "filters": [{"image": f"{org}/aim-*"}, {"image": f"{org}/aim-q*"}, {"image": f"{org}/aim-qwen"}],
    }
    mark = oci_registry.access_log_mark()
    listing = list_source_images(RegistryClient(), plan_filters(spec), lambda host: None)
    paths = [r.path.split("?")[0] for r in oci_registry.requests_since(mark)]
    assert paths.count("/v2/_catalog") == 1
    assert sorted(p for p in paths if p.endswith("/tags/list")) == sorted(
        f"/v2/{org}/{repo}/tags/list" for repo in ("aim-llama", "aim-old", "aim-qwen")
    )
    assert listing.requests == 4


def test_max_models_caps_new_models_newest_first(oci_registry: RegistryServer, org: str) -> None:
    spec: dict[str, Any] = {"registry": oci_registry.host, "filters": [{"image": f"{org}/aim-qwen"}], "maxModels": 3}
    images = list_source_images(RegistryClient(), plan_filters(spec), lambda host: None).images
    existing = [f"{oci_registry.host}/{org}/aim-qwen:1.0.0"]
    selection = select_models(images, existing, max_models=spec["maxModels"])
    assert [i.tag for i in selection.existing] == ["1.0.0"]
    assert [i.tag for i in selection.create] == ["v0.9.1", "0.9"]
    assert selection.limit_reached
    model = plan_cluster_model("catalog", selection.create[0], [{"name": "pull-secret"}])
    assert model["spec"] == {
        "image": f"{oci_registry.host}/{org}/aim-qwen:v0.9.1",
        "imagePullSecrets": [{"name": "pull-secret"}],
    }


def test_private_registry_source(private_oci_registry: RegistryServer, private_crane: Crane) -> None:
    org = f"private-{uuid.uuid4().hex[:6]}"
    push_images(private_crane, f"{org}/aim-secret", ["1.0.0", "2.0.0"], AIM_LABELS)
    spec = {"registry": private_oci_registry.host, "filters": [{"image": f"{org}/aim-*"}], "versions": ["<2"]}
    secret = private_oci_registry.dockerconfigjson_secret()
    assert discover(private_oci_registry, spec, [secret]) == {f"{private_oci_registry.host}/{org}/aim-secret:1.0.0"}

    listing = list_source_images(RegistryClient(), plan_filters(spec), lambda host: None)
    assert listing.images == []
    (failure,) = listing.failures
    assert isinstance(failure.error, RegistryUnauthorizedError)
    assert failure.repository is None  # the catalog itself was refused
    assert RegistryImage(private_oci_registry.host, f"{org}/aim-secret", "1.0.0").image.startswith("127.0.0.1:")


# --- Docker Hub and GHCR: their listing APIs (look-alikes), tags from the local registry ----------

GITHUB_TOKEN = "ghp_lookalike0123456789"
WILDCARD_MATCHES = ["aim-qwen:0.9", "aim-qwen:v0.9.1", "aim-qwen:1.0.0", "aim-llama:0.9.0", "aim-llama:1.2.0"]
"""What `<org>/aim-*` without aim-old at >=0.9.0 accepts of the `org` fixture's repositories."""


def hub_spec(org: str, registry: str = "docker.io") -> dict[str, Any]:
    return {
        "registry": registry,
        "filters": [{"image": f"{org}/aim-*", "exclude": [f"{org}/aim-old"]}],
        "versions": [">=0.9.0"],
    }


def hub_lookalike(org: str) -> DockerHubLookalike:
    """Docker Hub with the `org` fixture's repositories in namespace <org> (plus one elsewhere)."""
    return DockerHubLookalike({org: ["aim-qwen", "aim-llama", "aim-old", "tools"], "other": ["aim-qwen"]})


def test_docker_hub_wildcard_lists_the_namespace_through_hub_api(oci_registry: RegistryServer, org: str) -> None:
    with hub_lookalike(org) as hub:
        settings = RegistrySettings(
            docker_hub_api_url=hub.url, endpoints={"docker.io": oci_registry.host}, listing_page_size=3
        )
        mark = oci_registry.access_log_mark()
        listing = list_source_images(RegistryClient(settings), plan_filters(hub_spec(org)), lambda host: None)
        assert [r.path for r in hub.requests] == [
            f"/v2/namespaces/{org}/repositories?page_size=3",
            f"/v2/namespaces/{org}/repositories?page_size=3&page=2",
        ]
    assert listing.failures == []
    # Docker Hub images are written without the registry, as in the product's own examples.
    assert sorted(image.image for image in listing.images) == sorted(f"{org}/{match}" for match in WILDCARD_MATCHES)
    paths = [entry.path.split("?")[0] for entry in oci_registry.requests_since(mark)]
    assert "/v2/_catalog" not in paths
    assert sorted(p for p in paths if p.endswith("/tags/list")) == [
        f"/v2/{org}/aim-llama/tags/list",
        f"/v2/{org}/aim-qwen/tags/list",
    ]


def test_ghcr_wildcard_lists_the_owner_through_github(oci_registry: RegistryServer, org: str) -> None:
    with GitHubPackagesLookalike({org: ["aim-qwen", "aim-llama", "aim-old", "tools"]}, tokens=[GITHUB_TOKEN]) as api:
        settings = RegistrySettings(github_api_url=api.url, endpoints={"ghcr.io": oci_registry.host})
        credentials = RegistryCredentials("aim-bot", GITHUB_TOKEN)
        listing = list_source_images(
            RegistryClient(settings), plan_filters(hub_spec(org, "ghcr.io")), lambda host: credentials
        )
        assert len(api.requests) == 1
    assert listing.failures == []
    assert sorted(image.image for image in listing.images) == sorted(
        f"ghcr.io/{org}/{match}" for match in WILDCARD_MATCHES
    )


def test_rate_limited_listing_is_a_failure_as_data(oci_registry: RegistryServer, org: str) -> None:
    with hub_lookalike(org) as hub:
        hub.rate_limit(1, retry_after=120)
        settings = RegistrySettings(docker_hub_api_url=hub.url, endpoints={"docker.io": oci_registry.host})
        spec = hub_spec(org) | {"filters": [{"image": f"{org}/aim-*"}, {"image": f"{org}/aim-qwen:1.0.0"}]}
        listing = list_source_images(RegistryClient(settings), plan_filters(spec), lambda host: None)
    (failure,) = listing.failures
    assert isinstance(failure.error, RegistryRateLimitedError)
    assert (failure.error.retry_after, failure.repository) == (120.0, None)
    assert [image.image for image in listing.images] == [f"{org}/aim-qwen:1.0.0"]  # the static filter still counts


def test_controller_creates_the_models_a_docker_hub_wildcard_matches(
    control_plane: ControlPlane, oci_registry: RegistryServer, org: str
) -> None:
    """The whole path on the real API server: the controller lists the namespace through the Docker
    Hub look-alike, the tags from the registry standing in for docker.io, and creates exactly the
    matching AIMClusterModels."""
    kubectl = Kubectl(control_plane)
    name = f"hub-{uuid.uuid4().hex[:8]}"
    expected = {
        cluster_model_name(RegistryImage("docker.io", f"{org}/{m.split(':')[0]}", m.split(":")[1]))
        for m in WILDCARD_MATCHES
    }
    with hub_lookalike(org) as hub:
        env = {
            "AIM_REGISTRY_DOCKER_HUB_API_URL": hub.url,
            "AIM_REGISTRY_ENDPOINTS": json.dumps({"docker.io": oci_registry.host}),
            "AIM_REGISTRY_LISTING_PAGE_SIZE": "2",
        }
        process = control_plane.start_controller("controller-hub-listing", env)
        try:
            source = {"apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMClusterModelSource"}
            kubectl.apply(source | {"metadata": {"name": name}, "spec": hub_spec(org) | {"syncInterval": "1h"}})

            def models() -> dict[str, dict[str, Any]]:
                found = kubectl.get_json("aimclustermodels", "-l", f"aim.eai.amd.com/model-source={name}")["items"]
                return {m["metadata"]["name"]: m for m in found}

            def synced() -> bool:
                status = kubectl.get_json("aimclustermodelsource", name).get("status") or {}
                return status.get("status") == "Ready" and set(models()) == expected

            wait_until(synced, 60, f"source {name}: Ready with {len(expected)} models")
            created = models()
            assert {m["spec"]["image"] for m in created.values()} == {f"{org}/{m}" for m in WILDCARD_MATCHES}
            assert all(m["metadata"]["ownerReferences"][0]["name"] == name for m in created.values())
            pages = [r.path for r in hub.requests if r.path.startswith(f"/v2/namespaces/{org}/")]
            assert pages[:2] == [
                f"/v2/namespaces/{org}/repositories?page_size=2",
                f"/v2/namespaces/{org}/repositories?page_size=2&page=2",
            ]
        finally:
            kubectl("delete", "aimclustermodelsource", name, "--ignore-not-found", "--wait=false")
            process.stop()

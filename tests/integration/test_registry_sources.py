"""AIMClusterModelSource discovery against a real registry: filter plans run by
list_source_images (catalog, tag lists, static images), semver constraints, excludes, maxModels and
the AIMClusterModels that would be created."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from controller.catalog.credentials import credentials_for_registry
from controller.catalog.sources import RegistryImage, Strategy, plan_cluster_model, plan_filters, select_models
from controller.registry import RegistryClient, RegistryUnauthorizedError
from controller.registry.sources import list_source_images
from tests.registry import Crane, RegistryServer, push_images

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

"""AIMClusterModelSource rules (upstream E.14): filter plans, version constraints, selection,
maxModels and the AIMClusterModels created."""

from __future__ import annotations

from typing import Any

import pytest

from controller.catalog.sources import (
    FilterPlan,
    RegistryImage,
    Strategy,
    cluster_model_name,
    constraint_problem,
    matches_pattern,
    plan_cluster_model,
    plan_filters,
    satisfies_constraints,
    select_images,
    select_models,
    select_repositories,
    static_image,
    tag_version,
)


def spec(*filters: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"filters": list(filters), **fields}


def one_plan(image: str, **fields: Any) -> FilterPlan:
    (plan,) = plan_filters(spec({"image": image, **fields}))
    return plan


@pytest.mark.parametrize(
    ("image", "strategy", "registry", "repository", "tag"),
    [
        ("amdenterpriseai/aim-*", Strategy.CATALOG, "docker.io", "amdenterpriseai/aim-*", None),
        ("ghcr.io/silogen/*", Strategy.CATALOG, "ghcr.io", "silogen/*", None),
        ("127.0.0.1:5000/org/aim-*", Strategy.CATALOG, "127.0.0.1:5000", "org/aim-*", None),
        ("localhost/aim-*", Strategy.CATALOG, "localhost", "aim-*", None),
        ("registry.example.com/*", Strategy.CATALOG, "registry.example.com", "*", None),
        ("org/aim-*:1.*", Strategy.CATALOG, "docker.io", "org/aim-*", "1.*"),
        ("ghcr.io/org/model:1.2.*", Strategy.LIST_TAGS, "ghcr.io", "org/model", "1.2.*"),
        ("amdenterpriseai/aim-qwen", Strategy.LIST_TAGS, "docker.io", "amdenterpriseai/aim-qwen", None),
        ("ghcr.io/silogen/aim-llama", Strategy.LIST_TAGS, "ghcr.io", "silogen/aim-llama", None),
        ("silogen/aim-llama:1.0.0", Strategy.STATIC, "docker.io", "silogen/aim-llama", "1.0.0"),
        ("ghcr.io/silogen/aim-llama:1.0.0", Strategy.STATIC, "ghcr.io", "silogen/aim-llama", "1.0.0"),
        ("docker.io/org/model:latest", Strategy.STATIC, "docker.io", "org/model", "latest"),
    ],
    ids=[
        "wildcard",
        "wildcard-with-registry",
        "wildcard-with-registry-port",
        "wildcard-localhost",
        "whole-catalog",
        "wildcard-tag-too",
        "tag-pattern-one-repository",
        "exact-repository",
        "exact-repository-with-registry",
        "static",
        "static-with-registry",
        "explicit-docker-hub",
    ],
)
def test_plan_filter(image: str, strategy: Strategy, registry: str, repository: str, tag: str | None) -> None:
    plan = one_plan(image)
    assert plan.problem is None
    assert (plan.strategy, plan.registry, plan.repository, plan.tag) == (strategy, registry, repository, tag)


def test_plan_defaults_and_overrides() -> None:
    plans = plan_filters(
        spec(
            {"image": "org/a-*", "exclude": ["org/a-old"]},
            {"image": "org/b", "versions": [">=2.0"]},
            registry="Registry.Example.com",
            versions=[">=0.8.4"],
        )
    )
    assert [p.registry for p in plans] == ["registry.example.com", "registry.example.com"]
    assert plans[0].exclude == frozenset({"org/a-old"})
    assert plans[0].constraints == (">=0.8.4",)
    assert plans[1].constraints == (">=2.0",)
    assert plan_filters(spec({"image": "x/y"}))[0].registry == "docker.io"


@pytest.mark.parametrize(
    ("image", "versions", "problem"),
    [
        ("Org/Model", None, "spec.filters[0].image: 'Org/Model': repository component 'Org'"),
        ("org/model@sha256:" + "a" * 64, None, "a filter names a tag, not a digest"),
        ("org/*:", None, "has an empty repository or tag"),
        ("org/model", [">=abc"], "spec.filters[0]: version constraint '>=abc': cannot read '>=abc'"),
        ("org/model", ["~1.0"], "cannot read '~1.0'"),
        ("org/model", [" "], "is empty"),
        ("*", None, "docker.io lists repositories one namespace at a time (Docker Hub's API)"),
        ("ghcr.io/*/aim-x", None, "ghcr.io lists repositories one namespace at a time (GitHub's API)"),
    ],
    ids=[
        "upper-case",
        "digest",
        "empty-tag-pattern",
        "bad-constraint",
        "tilde-unsupported",
        "blank-constraint",
        "docker-hub-wildcard-without-namespace",
        "ghcr-wildcard-without-owner",
    ],
)
def test_unusable_filters_list_nothing(image: str, versions: list[str] | None, problem: str) -> None:
    plan = one_plan(image, versions=versions)
    assert plan.problem is not None
    assert problem in plan.problem
    assert select_images(plan, plan.repository, ["1.0.0"]) == []
    assert select_repositories(plan, [plan.repository]) == []
    assert static_image(plan) is None


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("org/aim-*", "org/aim-qwen", True),
        ("org/aim-*", "org/aim-", True),
        ("org/aim-*", "other/aim-qwen", False),
        ("*/aim-*", "a/b/aim-x", True),
        ("org/*-instruct", "org/llama-instruct", True),
        ("org/*-instruct", "org/llama-instruct-v2", False),
        ("org/a.b*", "org/aXb", False),
        ("exact", "exact", True),
        ("1.2.*", "1.2.10", True),
    ],
    ids=[
        "prefix",
        "empty-star",
        "other-org",
        "star-spans-slashes",
        "suffix",
        "suffix-mismatch",
        "dot-is-literal",
        "exact",
        "tag",
    ],
)
def test_matches_pattern(pattern: str, value: str, matches: bool) -> None:
    assert matches_pattern(pattern, value) is matches


@pytest.mark.parametrize(
    ("tag", "version"),
    [
        ("1.2.3", "1.2.3"),
        ("v1.2.3", "1.2.3"),
        ("0.9", "0.9.0"),
        ("v0.11-rc21", "0.11.0-rc21"),
        ("1.0.0+build.5", "1.0.0+build.5"),
        ("latest", None),
        ("1", None),
        ("sha-abc123", None),
        ("1.2.3.4", None),
    ],
    ids=["semver", "v-prefix", "two-part", "two-part-prerelease", "build", "latest", "major-only", "sha", "four-parts"],
)
def test_tag_version(tag: str, version: str | None) -> None:
    parsed = tag_version(tag)
    assert (str(parsed) if parsed else None) == version


@pytest.mark.parametrize(
    ("tag", "constraints", "satisfied"),
    [
        ("0.8.4", [">=0.8.4"], True),
        ("0.8.3", [">=0.8.4"], False),
        ("v0.9.0", [">=0.8.4"], True),
        ("0.9", [">=0.9"], True),
        ("0.9.5", [">=0.8.4, <1.0"], True),
        ("1.0.0", [">=0.8.4, <1.0"], False),
        ("0.9.5", [">=0.8.4 <1.0"], True),
        ("0.9.5", [">= 0.8.4", "< 1"], True),
        ("0.9.5", [">=0.8.4", "<0.9"], False),
        ("2.1.0", ["<1.0 || >=2.0"], True),
        ("1.5.0", ["<1.0 || >=2.0"], False),
        ("1.0.0", ["1.0.0"], True),
        ("1.0.0", ["=1.0"], True),
        ("1.0.1", ["!=1.0.1"], False),
        ("0.9.0-rc1", [">=0.9.0"], False),
        ("0.9.0-rc1", [">=0.9.0-rc0"], True),
        ("latest", [">=0.0.0"], False),
    ],
    ids=[
        "equal-bound",
        "below",
        "v-prefixed-tag",
        "two-part-both-sides",
        "comma-range-inside",
        "comma-range-upper-bound",
        "space-range",
        "separate-constraints",
        "every-constraint-must-hold",
        "alternatives-second",
        "alternatives-neither",
        "bare-version-is-equality",
        "single-equals-two-part",
        "not-equal",
        "prerelease-below-release",
        "prerelease-bound",
        "non-version-tag-skipped",
    ],
)
def test_satisfies_constraints(tag: str, constraints: list[str], satisfied: bool) -> None:
    assert satisfies_constraints(tag, constraints) is satisfied


@pytest.mark.parametrize(
    ("constraint", "problem"),
    [(">=0.8", None), (">=1.2.3-rc.1", None), (">=x", "cannot read"), ("", "is empty"), (">=1.0 ||", "is empty")],
    ids=["two-part", "prerelease", "not-a-version", "empty", "empty-alternative"],
)
def test_constraint_problem(constraint: str, problem: str | None) -> None:
    found = constraint_problem(constraint)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_select_repositories_from_catalog() -> None:
    plan = one_plan("org/aim-*", exclude=["org/aim-old"])
    catalog = ["org/aim-qwen", "org/aim-old", "org/other", "org/aim-llama", "else/aim-x", "org/aim-qwen"]
    assert select_repositories(plan, catalog) == ["org/aim-llama", "org/aim-qwen"]
    assert select_repositories(one_plan("org/aim-qwen"), catalog) == []


@pytest.mark.parametrize(
    ("image", "fields", "repository", "tags", "accepted"),
    [
        ("org/m", {}, "org/m", ["1.0.0", "latest", "dev"], ["1.0.0", "dev", "latest"]),
        ("org/m", {"versions": [">=0.9"]}, "org/m", ["0.8.9", "0.9", "1.0.0", "latest"], ["0.9", "1.0.0"]),
        ("org/m", {"versions": [">=0.9"]}, "org/other", ["1.0.0"], []),
        ("org/m", {"exclude": ["org/m"]}, "org/m", ["1.0.0"], []),
        ("org/m:1.2.*", {}, "org/m", ["1.2.0", "1.2.7", "1.3.0", "1.2"], ["1.2.0", "1.2.7"]),
        ("org/m:1.*", {"versions": ["<1.5"]}, "org/m", ["1.2.0", "1.7.0", "2.0.0"], ["1.2.0"]),
        ("org/a-*", {"versions": [">=1.0"]}, "org/a-x", ["0.1.0", "1.1.0"], ["1.1.0"]),
    ],
    ids=[
        "no-constraints-all-tags",
        "constraints-skip-non-versions",
        "other-repository",
        "excluded-repository",
        "tag-pattern",
        "tag-pattern-and-constraint",
        "catalog-repository",
    ],
)
def test_select_images(
    image: str, fields: dict[str, Any], repository: str, tags: list[str], accepted: list[str]
) -> None:
    plan = one_plan(image, **fields)
    assert [i.tag for i in select_images(plan, repository, tags)] == accepted
    assert all(i.repository == repository and i.registry == "docker.io" for i in select_images(plan, repository, tags))


def test_static_image_ignores_versions_but_not_excludes() -> None:
    assert static_image(one_plan("org/m:0.1.0", versions=[">=1.0"])) == RegistryImage("docker.io", "org/m", "0.1.0")
    assert static_image(one_plan("org/m:0.1.0", exclude=["org/m"])) is None
    assert static_image(one_plan("org/m")) is None


def image(tag: str, repository: str = "org/m", registry: str = "r.io") -> RegistryImage:
    return RegistryImage(registry, repository, tag)


@pytest.mark.parametrize(
    ("images", "existing", "max_models", "create", "skipped"),
    [
        ([image("1.0.0"), image("1.1.0")], [], 10, ["1.1.0", "1.0.0"], []),
        ([image("1.0.0"), image("1.1.0"), image("0.9.0")], [], 2, ["1.1.0", "1.0.0"], ["0.9.0"]),
        ([image("1.0.0"), image("1.1.0")], ["r.io/org/m:1.0.0"], 2, ["1.1.0"], []),
        ([image("1.0.0"), image("1.1.0")], ["r.io/org/m:1.0.0", "r.io/org/gone:1"], 2, [], ["1.1.0"]),
        (
            [image("latest"), image("v2.0.0"), image("dev"), image("10.0.0")],
            [],
            10,
            ["10.0.0", "v2.0.0", "dev", "latest"],
            [],
        ),
        ([image("1.0.0"), image("1.0.0")], [], 10, ["1.0.0"], []),
    ],
    ids=[
        "room-for-all",
        "capped-newest-first",
        "existing-are-kept-not-recreated",
        "existing-models-count-towards-the-cap",
        "versions-before-other-tags",
        "duplicates-across-filters",
    ],
)
def test_select_models(
    images: list[RegistryImage], existing: list[str], max_models: int, create: list[str], skipped: list[str]
) -> None:
    selection = select_models(images, existing, max_models)
    assert [i.tag for i in selection.create] == create
    assert [i.tag for i in selection.skipped] == skipped
    assert selection.limit_reached is bool(skipped)


@pytest.mark.parametrize(
    ("registry", "repository", "tag", "spec_image"),
    [
        ("docker.io", "amdenterpriseai/aim-qwen3-32b", "0.8.5", "amdenterpriseai/aim-qwen3-32b:0.8.5"),
        ("ghcr.io", "silogen/aim-llama", "v1.2.0", "ghcr.io/silogen/aim-llama:v1.2.0"),
        ("127.0.0.1:5000", "org/m", "1", "127.0.0.1:5000/org/m:1"),
    ],
    ids=["docker-hub-without-registry", "ghcr", "registry-with-port"],
)
def test_plan_cluster_model(registry: str, repository: str, tag: str, spec_image: str) -> None:
    found = RegistryImage(registry, repository, tag)
    model = plan_cluster_model("aim-catalog", found, [{"name": "pull"}])
    assert model["apiVersion"] == "aim.eai.amd.com/v1alpha2"
    assert model["kind"] == "AIMClusterModel"
    assert model["spec"] == {"image": spec_image, "imagePullSecrets": [{"name": "pull"}]}
    assert model["metadata"]["labels"] == {
        "aim.eai.amd.com/model-source": "aim-catalog",
        "aim.eai.amd.com/origin": "auto-generated",
        "aim.eai.amd.com/cluster-model-source.name": "aim-catalog",
    }
    assert model["metadata"]["annotations"] == {
        "aim.eai.amd.com/source-registry": registry,
        "aim.eai.amd.com/source-repository": repository,
        "aim.eai.amd.com/source-tag": tag,
    }
    assert model["metadata"]["name"] == cluster_model_name(found)
    assert "imagePullSecrets" not in plan_cluster_model("s", found)["spec"]


@pytest.mark.parametrize(
    ("found", "name"),
    [
        (RegistryImage("ghcr.io", "silogen/llama-3-8b", "v1.2.0"), "silogen-llama-3-8b-v1-2-0-"),
        (RegistryImage("docker.io", "library/nginx", "latest"), "library-nginx-latest-"),
        (RegistryImage("docker.io", "org/" + "x" * 80, "1.0.0"), "org-" + "x" * 46 + "-1-0-0-"),
    ],
    ids=["upstream-example", "docker-official", "long-repository-shortened"],
)
def test_cluster_model_name(found: RegistryImage, name: str) -> None:
    derived = cluster_model_name(found)
    assert derived.startswith(name)
    assert len(derived) <= 63
    assert len(derived.rsplit("-", 1)[1]) == 6
    # The registry is part of the hash: the same repository elsewhere is another model.
    assert cluster_model_name(RegistryImage("other.io", found.repository, found.tag)) != derived

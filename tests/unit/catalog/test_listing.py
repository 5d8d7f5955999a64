"""controller.catalog.listing: which API lists a registry's repositories for a wildcard (the OCI
catalog, Docker Hub's, GitHub's packages), the URLs, the pages and the rate-limit answers."""

from __future__ import annotations

import email.utils
from typing import Any

import pytest

from controller.catalog.listing import (
    DEFAULT_RETRY_AFTER_SECONDS,
    MAX_RETRY_AFTER_SECONDS,
    ListingApi,
    ListingPageError,
    OwnerKind,
    RepositoryPage,
    docker_hub_repositories_url,
    docker_hub_token_url,
    github_packages_url,
    listing_api,
    listing_namespace,
    namespace_problem,
    parse_docker_hub_page,
    parse_github_packages_page,
    rate_limit_delay,
    same_origin,
)

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("registry", "api"),
    [
        ("docker.io", ListingApi.DOCKER_HUB),
        ("index.docker.io", ListingApi.DOCKER_HUB),
        ("registry-1.docker.io", ListingApi.DOCKER_HUB),
        ("Docker.IO", ListingApi.DOCKER_HUB),
        ("ghcr.io", ListingApi.GITHUB_PACKAGES),
        ("GHCR.io", ListingApi.GITHUB_PACKAGES),
        ("ghcr.io:443", ListingApi.OCI_CATALOG),
        ("quay.io", ListingApi.OCI_CATALOG),
        ("127.0.0.1:5000", ListingApi.OCI_CATALOG),
    ],
    ids=["docker-io", "index-alias", "registry-1-alias", "case", "ghcr", "ghcr-case", "ghcr-port", "quay", "local"],
)
def test_listing_api(registry: str, api: ListingApi) -> None:
    assert listing_api(registry) is api


@pytest.mark.parametrize(
    ("pattern", "namespace"),
    [
        ("amdenterpriseai/aim-*", "amdenterpriseai"),
        ("org/team/aim-*", "org"),
        ("org/*", "org"),
        ("*", None),
        ("aim-*", None),
        ("*/aim-x", None),
        ("org*/aim-x", None),
        ("org/", None),
        ("/aim-*", None),
    ],
    ids=[
        "namespace",
        "nested",
        "whole-namespace",
        "star",
        "no-slash",
        "star-namespace",
        "namespace-prefix",
        "empty-rest",
        "empty-namespace",
    ],
)
def test_listing_namespace(pattern: str, namespace: str | None) -> None:
    assert listing_namespace(pattern) == namespace


@pytest.mark.parametrize(
    ("registry", "pattern", "words"),
    [
        ("docker.io", "org/aim-*", None),
        ("ghcr.io", "org/aim-*", None),
        ("quay.io", "*", None),
        ("docker.io", "aim-*", "docker.io lists repositories one namespace at a time (Docker Hub's API)"),
        ("ghcr.io", "*/aim-*", "ghcr.io lists repositories one namespace at a time (GitHub's API)"),
    ],
    ids=["docker-hub", "ghcr", "catalog-needs-none", "docker-hub-without", "ghcr-without"],
)
def test_namespace_problem(registry: str, pattern: str, words: str | None) -> None:
    problem = namespace_problem(registry, pattern)
    assert (problem is None) is (words is None)
    assert words is None or (problem is not None and words in problem and "e.g. org/aim-*" in problem)


@pytest.mark.parametrize(
    ("url", "wanted"),
    [
        (
            docker_hub_repositories_url("https://hub.docker.com", "amdenterpriseai", 100),
            "https://hub.docker.com/v2/namespaces/amdenterpriseai/repositories?page_size=100",
        ),
        (
            docker_hub_repositories_url("http://127.0.0.1:9/", "a b", 500),
            "http://127.0.0.1:9/v2/namespaces/a%20b/repositories?page_size=100",
        ),
        (
            docker_hub_repositories_url("https://hub.docker.com", "org", 0),
            "https://hub.docker.com/v2/namespaces/org/repositories?page_size=1",
        ),
        (docker_hub_token_url("https://hub.docker.com/"), "https://hub.docker.com/v2/auth/token"),
        (
            github_packages_url("https://api.github.com", "silogen", OwnerKind.ORGANISATION, 100),
            "https://api.github.com/orgs/silogen/packages?package_type=container&per_page=100",
        ),
        (
            github_packages_url("https://ghe.example/api/v3/", "someone", OwnerKind.USER, 2),
            "https://ghe.example/api/v3/users/someone/packages?package_type=container&per_page=2",
        ),
    ],
    ids=[
        "docker-hub",
        "quoted-and-clamped",
        "at-least-one",
        "docker-hub-token",
        "github-org",
        "github-user-enterprise",
    ],
)
def test_urls(url: str, wanted: str) -> None:
    assert url == wanted


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("https://hub.docker.com/v2/namespaces/x/repositories?page=2", True),
        ("https://HUB.docker.com/v2/x", True),
        ("http://hub.docker.com/v2/x", False),
        ("https://hub.docker.com:8443/v2/x", False),
        ("https://evil.example/v2/x", False),
    ],
    ids=["same", "host-case", "other-scheme", "other-port", "other-host"],
)
def test_same_origin(url: str, same: bool) -> None:
    assert same_origin("https://hub.docker.com", url) is same


@pytest.mark.parametrize(
    ("document", "page"),
    [
        (
            {"count": 3, "next": "https://hub.docker.com/p2", "results": [{"name": "aim-a"}, {"name": "aim-b"}]},
            RepositoryPage(["ns/aim-a", "ns/aim-b"], "https://hub.docker.com/p2"),
        ),
        ({"count": 1, "next": None, "results": [{"name": "aim-c", "is_private": True}]}, RepositoryPage(["ns/aim-c"])),
        ({"results": []}, RepositoryPage([])),
        ({"results": [], "next": ""}, RepositoryPage([])),
    ],
    ids=["with-next", "last-page", "empty", "empty-next"],
)
def test_parse_docker_hub_page(document: dict[str, Any], page: RepositoryPage) -> None:
    assert parse_docker_hub_page(document, "ns") == page


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ([], "without a results list"),
        ({"detail": "nope"}, "without a results list"),
        ({"results": [{"slug": "x"}]}, "results: an entry without a name"),
        ({"results": [{"name": ""}]}, "results: an entry without a name"),
        ({"results": [], "next": 3}, "next is not a URL"),
    ],
    ids=["list", "no-results", "no-name", "empty-name", "next-not-text"],
)
def test_unreadable_docker_hub_pages(document: Any, words: str) -> None:
    with pytest.raises(ListingPageError, match=words):
        parse_docker_hub_page(document, "ns")


def test_parse_github_packages_page() -> None:
    document = [{"name": "aim-llama", "package_type": "container"}, {"name": "repo/aim-qwen"}]
    assert parse_github_packages_page(document, "silogen") == RepositoryPage(
        ["silogen/aim-llama", "silogen/repo/aim-qwen"]
    )


@pytest.mark.parametrize(
    ("document", "words"),
    [({"message": "Not Found"}, "not a list"), ([{"id": 1}], "packages: an entry without a name")],
    ids=["object", "no-name"],
)
def test_unreadable_github_pages(document: Any, words: str) -> None:
    with pytest.raises(ListingPageError, match=words):
        parse_github_packages_page(document, "org")


@pytest.mark.parametrize(
    ("status", "headers", "delay"),
    [
        (429, {"Retry-After": "7"}, 7.0),
        (429, {"retry-after": email.utils.formatdate(NOW + 30, usegmt=True)}, 30.0),
        (429, {}, DEFAULT_RETRY_AFTER_SECONDS),
        (429, {"X-RateLimit-Reset": str(int(NOW) + 42)}, 42.0),
        (429, {"Retry-After": "soon", "X-RateLimit-Reset": str(int(NOW) + 42)}, 42.0),
        (429, {"Retry-After": "0"}, 1.0),
        (429, {"Retry-After": "86400"}, MAX_RETRY_AFTER_SECONDS),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 600)}, 600.0),
        (403, {"X-RateLimit-Remaining": "0"}, DEFAULT_RETRY_AFTER_SECONDS),
        (403, {"retry-after": "120"}, 120.0),
        (403, {"x-ratelimit-remaining": "4999", "x-ratelimit-reset": str(int(NOW) + 600)}, None),
        (403, {}, None),
        (401, {"Retry-After": "5"}, None),
        (503, {"Retry-After": "5"}, None),
        (200, {"x-ratelimit-remaining": "0"}, None),
    ],
    ids=[
        "retry-after-seconds",
        "retry-after-date",
        "429-says-nothing",
        "429-reset-only",
        "unreadable-retry-after",
        "at-least-a-second",
        "at-most-an-hour",
        "github-primary-limit",
        "github-limit-without-reset",
        "github-secondary-limit",
        "403-with-budget-left-is-a-refusal",
        "plain-403",
        "401",
        "503",
        "200",
    ],
)
def test_rate_limit_delay(status: int, headers: dict[str, str], delay: float | None) -> None:
    assert rate_limit_delay(status, headers, NOW) == delay

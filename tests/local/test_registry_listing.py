"""`RegistryClient.namespace_repositories` against the Docker Hub and GitHub packages look-alikes
(tests/servers/registry_apis.py): paging (`next`, `Link`), tokens, refusals, rate limits, and the
requests each listing costs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from controller.catalog.credentials import RegistryCredentials
from controller.registry import (
    ImageNotFoundError,
    RegistryClient,
    RegistryProtocolError,
    RegistryRateLimitedError,
    RegistrySettings,
    RegistryUnauthorizedError,
    RegistryUnreachableError,
)
from devcluster.controlplane import free_port
from tests.servers.registry_apis import DockerHubLookalike, GitHubPackagesLookalike

HUB_USER, HUB_PASSWORD = "aim-bot", "dckr_pat_not-a-real-one"
GITHUB_TOKEN = "ghp_lookalike0123456789"
PUBLIC = ["aim-llama", "aim-qwen", "aim-gemma", "aim-old", "tools"]


@pytest.fixture(scope="module")
def hub() -> Iterator[DockerHubLookalike]:
    namespaces = {"amdenterpriseai": PUBLIC, "team": ["aim-secret", "aim-hidden"]}
    with DockerHubLookalike(namespaces, private=["team"], users={HUB_USER: HUB_PASSWORD}) as server:
        yield server


@pytest.fixture(scope="module")
def github() -> Iterator[GitHubPackagesLookalike]:
    orgs = {"silogen": ["aim-llama", "aim-qwen", "aim-gemma", "base/aim-base", "tools"]}
    with GitHubPackagesLookalike(orgs, users={"someone": ["aim-mine"]}, tokens=[GITHUB_TOKEN]) as server:
        yield server


@pytest.fixture
def client(hub: DockerHubLookalike, github: GitHubPackagesLookalike) -> Iterator[RegistryClient]:
    hub.requests.clear()
    github.requests.clear()
    hub.next_base = None
    yield RegistryClient(RegistrySettings(docker_hub_api_url=hub.url, github_api_url=github.url, listing_page_size=2))
    hub.rate_limit(0, 60)
    github.rate_limit(0, 600)


def test_docker_hub_pages_follow_next(client: RegistryClient, hub: DockerHubLookalike) -> None:
    found = client.namespace_repositories("docker.io", "amdenterpriseai")
    assert found == [f"amdenterpriseai/{name}" for name in sorted(PUBLIC)]
    assert [(r.method, r.path, r.authorization) for r in hub.requests] == [
        ("GET", "/v2/namespaces/amdenterpriseai/repositories?page_size=2", None),
        ("GET", "/v2/namespaces/amdenterpriseai/repositories?page_size=2&page=2", None),
        ("GET", "/v2/namespaces/amdenterpriseai/repositories?page_size=2&page=3", None),
    ]


def test_docker_hub_private_namespace_needs_a_login(client: RegistryClient, hub: DockerHubLookalike) -> None:
    assert client.namespace_repositories("index.docker.io", "team") == []  # anonymous: public ones only
    hub.requests.clear()
    found = client.namespace_repositories("docker.io", "team", RegistryCredentials(HUB_USER, HUB_PASSWORD))
    assert found == ["team/aim-hidden", "team/aim-secret"]
    login, listing = hub.requests
    assert (login.method, login.path) == ("POST", "/v2/auth/token")
    assert str(listing.authorization).startswith("Bearer hub-")


def test_docker_hub_refuses_a_wrong_password(client: RegistryClient, hub: DockerHubLookalike) -> None:
    wrong = "Wr0ng-pa55word"
    with pytest.raises(RegistryUnauthorizedError) as raised:
        client.namespace_repositories("docker.io", "team", RegistryCredentials(HUB_USER, wrong))
    assert f"refused the credentials of user '{HUB_USER}' (HTTP 401)" in raised.value.message
    assert wrong not in str(raised.value)
    assert raised.value.registry == "docker.io"
    assert [r.method for r in hub.requests] == ["POST"]  # nothing listed with a failed login


def test_docker_hub_rate_limit_says_when_to_ask_again(client: RegistryClient, hub: DockerHubLookalike) -> None:
    hub.rate_limit(1, retry_after=7)
    with pytest.raises(RegistryRateLimitedError) as raised:
        client.namespace_repositories("docker.io", "amdenterpriseai")
    assert raised.value.retry_after == 7.0
    assert raised.value.status == 429
    assert "repositories of docker.io/amdenterpriseai: 127.0.0.1" in raised.value.message
    assert "HTTP 429: Rate limit exceeded: rate limited, retry in 7 s" in raised.value.message
    assert len(client.namespace_repositories("docker.io", "amdenterpriseai")) == len(PUBLIC)  # later: fine


def test_docker_hub_unknown_namespace(client: RegistryClient) -> None:
    with pytest.raises(ImageNotFoundError, match="knows no namespace 'nobody' \\(HTTP 404\\)"):
        client.namespace_repositories("docker.io", "nobody")


def test_docker_hub_next_page_elsewhere_is_refused(client: RegistryClient, hub: DockerHubLookalike) -> None:
    elsewhere = f"http://127.0.0.1:{free_port()}"
    hub.next_base = elsewhere
    with pytest.raises(RegistryProtocolError, match="sent a next page on another host"):
        client.namespace_repositories("docker.io", "amdenterpriseai", RegistryCredentials(HUB_USER, HUB_PASSWORD))
    assert len(hub.requests) == 2  # the login and the first page; the token never left for elsewhere


def test_github_pages_follow_the_link_header(client: RegistryClient, github: GitHubPackagesLookalike) -> None:
    found = client.namespace_repositories("ghcr.io", "silogen", RegistryCredentials("aim-bot", GITHUB_TOKEN))
    assert found == [
        "silogen/aim-gemma",
        "silogen/aim-llama",
        "silogen/aim-qwen",
        "silogen/base/aim-base",
        "silogen/tools",
    ]
    assert [r.path for r in github.requests] == [
        "/orgs/silogen/packages?package_type=container&per_page=2",
        "/orgs/silogen/packages?package_type=container&per_page=2&page=2",
        "/orgs/silogen/packages?package_type=container&per_page=2&page=3",
    ]
    assert {r.authorization for r in github.requests} == {f"Bearer {GITHUB_TOKEN}"}


def test_github_owner_that_is_a_user(client: RegistryClient, github: GitHubPackagesLookalike) -> None:
    found = client.namespace_repositories("ghcr.io", "someone", RegistryCredentials("someone", GITHUB_TOKEN))
    assert found == ["someone/aim-mine"]
    assert [r.path.split("?")[0] for r in github.requests] == ["/orgs/someone/packages", "/users/someone/packages"]
    with pytest.raises(ImageNotFoundError, match="knows no namespace 'ghost'"):
        client.namespace_repositories("ghcr.io", "ghost", RegistryCredentials("someone", GITHUB_TOKEN))


def test_github_needs_a_token(client: RegistryClient, github: GitHubPackagesLookalike) -> None:
    with pytest.raises(RegistryUnauthorizedError, match="GitHub's packages API needs a token"):
        client.namespace_repositories("ghcr.io", "silogen")
    assert github.requests == []  # not asked: it would answer 401
    with pytest.raises(RegistryUnauthorizedError) as raised:
        client.namespace_repositories("ghcr.io", "silogen", RegistryCredentials("aim-bot", "ghp_revoked"))
    assert "refused the token of user 'aim-bot' (HTTP 401): Bad credentials" in raised.value.message
    assert "ghp_revoked" not in str(raised.value)


def test_github_rate_limit_is_a_403_with_no_requests_left(
    client: RegistryClient, github: GitHubPackagesLookalike
) -> None:
    github.rate_limit(1, reset_in=900)
    with pytest.raises(RegistryRateLimitedError) as raised:
        client.namespace_repositories("ghcr.io", "silogen", RegistryCredentials("aim-bot", GITHUB_TOKEN))
    assert raised.value.status == 403
    assert 890 <= raised.value.retry_after <= 900
    assert "API rate limit exceeded" in raised.value.message


def test_api_down_is_unreachable() -> None:
    settings = RegistrySettings(docker_hub_api_url=f"http://127.0.0.1:{free_port()}", connect_timeout=2)
    with pytest.raises(RegistryUnreachableError, match=r"cannot connect to 127\.0\.0\.1"):
        RegistryClient(settings).namespace_repositories("docker.io", "amdenterpriseai")

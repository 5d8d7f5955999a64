"""The registry listings an AIMClusterModelSource needs (the fetch step of its controller).

`list_source_images` runs each filter's plan (controller.catalog.sources) against the registry:
the repository listing at most once per registry (the catalog) or per namespace (Docker Hub's and
GitHub's APIs, controller.catalog.listing), the tags of each repository at most once, and returns
the accepted images with the failures as data, so one unreachable repository does not hide the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from controller.catalog.credentials import RegistryCredentials
from controller.catalog.listing import ListingApi, listing_api, listing_namespace
from controller.catalog.sources import (
    FilterPlan,
    RegistryImage,
    Strategy,
    select_images,
    select_repositories,
    static_image,
)
from controller.registry.client import RegistryClient
from controller.registry.errors import RegistryError


@dataclass(frozen=True)
class ListingFailure:
    plan: FilterPlan
    error: RegistryError
    repository: str | None = None
    """The repository whose tags could not be listed; None when the repository listing failed."""


@dataclass
class SourceListing:
    images: list[RegistryImage] = field(default_factory=list)
    """Accepted images of all filters, in filter order (duplicates possible across filters)."""
    failures: list[ListingFailure] = field(default_factory=list)
    requests: int = 0
    """Repository-listing and tag-list calls made (each may be several pages)."""


def list_source_images(
    client: RegistryClient,
    plans: Sequence[FilterPlan],
    credentials_for: Callable[[str], RegistryCredentials | None],
) -> SourceListing:
    """Images the plans accept. `credentials_for(registry)` gives the pull-secret credentials for a
    registry (None: anonymous). Plans with a problem are skipped; the caller reports them."""
    listing = SourceListing()
    catalogs: dict[tuple[str, str | None], list[str] | RegistryError] = {}
    tags: dict[tuple[str, str], list[str] | RegistryError] = {}

    def repositories_of(registry: str, pattern: str) -> list[str] | RegistryError:
        # The OCI catalog lists the whole registry; Docker Hub and GitHub one namespace (the plan
        # made sure the pattern names it).
        namespace = None if listing_api(registry) is ListingApi.OCI_CATALOG else listing_namespace(pattern)
        key = (registry, namespace)
        if key not in catalogs:
            listing.requests += 1
            try:
                if namespace is None:
                    catalogs[key] = client.catalog(registry, credentials_for(registry))
                else:
                    catalogs[key] = client.namespace_repositories(registry, namespace, credentials_for(registry))
            except RegistryError as error:
                catalogs[key] = error
        return catalogs[key]

    def tags_of(registry: str, repository: str) -> list[str] | RegistryError:
        key = (registry, repository)
        if key not in tags:
            listing.requests += 1
            try:
                tags[key] = client.list_tags(registry, repository, credentials_for(registry))
            except RegistryError as error:
                tags[key] = error
        return tags[key]

    for plan in plans:
        if plan.problem is not None:
            continue
        if plan.strategy is Strategy.STATIC:
            image = static_image(plan)
            listing.images += [image] if image is not None else []
            continue
        repositories = [plan.repository]
        if plan.strategy is Strategy.CATALOG:
            catalog = repositories_of(plan.registry, plan.repository)
            if isinstance(catalog, RegistryError):
                listing.failures.append(ListingFailure(plan, catalog))
                continue
            repositories = select_repositories(plan, catalog)
        elif plan.repository in plan.exclude:
            continue
        for repository in repositories:
            found = tags_of(plan.registry, repository)
            if isinstance(found, RegistryError):
                listing.failures.append(ListingFailure(plan, found, repository))
                continue
            listing.images += select_images(plan, repository, found)
    return listing

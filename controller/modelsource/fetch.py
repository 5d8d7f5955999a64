"""Fetch step of the AIMClusterModelSource reconciler (edge layer).

Always: the source's AIMClusterModels. When a sync is due (controller.modelsource.plan decides
from the status): every AIMClusterModel (to see names held by others), the pull Secrets in the
operator namespace and the registry listings. The listings are blocking HTTP on the worker thread
that runs this reconcile; other objects are reconciled by the other workers meanwhile.

Credentials go from the Secrets straight into the registry client; only Secret names come back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from api import labels
from api.stored import read_model_source
from controller.catalog.credentials import RegistryCredentials, credentials_for_registry
from controller.catalog.sources import plan_filters
from controller.clock import utc_now
from controller.kube.client import Kube
from controller.modelsource.observe import (
    ListingFailureCategory,
    ListingProblem,
    ModelSourceObservation,
    SyncResult,
)
from controller.modelsource.plan import is_source_model, pull_secret_names, sync_due
from controller.registry import (
    ImageNotFoundError,
    RegistryClient,
    RegistryError,
    RegistryRateLimitedError,
    RegistryUnauthorizedError,
    RegistryUnreachableError,
)
from controller.registry.sources import list_source_images

log = logging.getLogger(__name__)


def failure_category(error: RegistryError) -> ListingFailureCategory:
    if isinstance(error, RegistryUnauthorizedError):
        return ListingFailureCategory.UNAUTHORIZED
    if isinstance(error, ImageNotFoundError):
        return ListingFailureCategory.NOT_FOUND
    if isinstance(error, RegistryRateLimitedError):
        return ListingFailureCategory.RATE_LIMITED
    if isinstance(error, RegistryUnreachableError):
        return ListingFailureCategory.UNREACHABLE
    return ListingFailureCategory.PROTOCOL


def _pull_secrets(kube: Kube, names: list[str], namespace: str) -> tuple[list[dict[str, Any]], list[str]]:
    secrets, problems = [], []
    for name in names:
        secret = kube.get("v1", "Secret", name, namespace)
        if secret is None:
            problems.append(f'pull Secret "{name}" not found in namespace {namespace}')
        else:
            secrets.append(secret)
    return secrets, problems


def fetch_model_source(
    kube: Kube,
    stored: dict[str, Any],
    client: RegistryClient,
    operator_namespace: str,
    clock: Callable[[], str] = utc_now,
) -> ModelSourceObservation:
    source = read_model_source(stored)
    name = source.name
    if not sync_due(source, clock()):
        models = kube.list(labels.V1ALPHA2, "AIMClusterModel", label_selector=f"{labels.MODEL_SOURCE}={name}")
        return ModelSourceObservation(source, models)

    every = kube.list(labels.V1ALPHA2, "AIMClusterModel")
    models = [m for m in every if is_source_model(m, name)]
    taken = {
        m["metadata"]["name"]: (m["metadata"].get("labels") or {}).get(labels.MODEL_SOURCE, "")
        for m in every
        if not is_source_model(m, name)
    }
    filters = plan_filters(source.spec)
    secrets, secret_problems = _pull_secrets(kube, pull_secret_names(source.spec), operator_namespace)
    credential_sources: dict[str, str] = {}

    def credentials_for(registry: str) -> RegistryCredentials | None:
        lookup = credentials_for_registry(secrets, registry)
        secret_problems.extend(p for p in lookup.problems if p not in secret_problems)
        if lookup.credentials is not None and lookup.source:
            credential_sources[registry] = lookup.source
        return lookup.credentials

    listing = list_source_images(client, filters, credentials_for)
    problems = [
        ListingProblem(
            failure_category(f.error),
            f.error.registry,
            f.error.message,
            f.plan.index,
            f.repository,
            f.error.retry_after if isinstance(f.error, RegistryRateLimitedError) else None,
        )
        for f in listing.failures
    ]
    log.info(
        "Listed registries for AIMClusterModelSource %s: %d image(s), %d failure(s), %d listing(s)",
        name,
        len(listing.images),
        len(problems),
        listing.requests,
    )
    return ModelSourceObservation(
        source,
        models,
        SyncResult(
            filters=filters,
            images=listing.images,
            problems=problems,
            secret_problems=secret_problems,
            credential_sources=credential_sources,
            taken_names=taken,
        ),
    )

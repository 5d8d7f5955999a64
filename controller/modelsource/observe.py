"""What the AIMClusterModelSource reconciler observed (pure data filled by controller.modelsource.fetch).

A registry sync is I/O, so its outcome arrives here as data: the images the filters accepted and
each listing that failed, already classified. Credentials never do: only the names of the Secrets
they came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from api.v1alpha1.aimclustermodelsource import AIMClusterModelSource
from controller.catalog.sources import FilterPlan, RegistryImage


class ListingFailureCategory(StrEnum):
    """The registry error classes of controller.registry.errors, as data."""

    UNAUTHORIZED = "Unauthorized"
    """401/403 after the credentials were tried (or none were found)."""
    NOT_FOUND = "NotFound"
    """The repository does not exist."""
    UNREACHABLE = "Unreachable"
    """No usable answer: connection, DNS, TLS, timeout, 5xx. Temporary."""
    RATE_LIMITED = "RateLimited"
    """429, or GitHub's exhausted rate limit: asked too often; `ListingProblem.retry_after` says
    when to ask again. Temporary."""
    PROTOCOL = "Protocol"
    """An answer outside the distribution spec, e.g. a registry without a catalog API."""


@dataclass(frozen=True)
class ListingProblem:
    category: ListingFailureCategory
    registry: str
    message: str
    """The registry error's message: names the registry, repository and user, never a password."""
    filter_index: int
    repository: str | None = None
    """The repository whose tags could not be listed; None when the repository listing failed."""
    retry_after: float | None = None
    """RATE_LIMITED: the seconds the registry asked us to wait."""


@dataclass
class SyncResult:
    """One registry sync: what the filters asked for and what the registries answered."""

    filters: list[FilterPlan]
    images: list[RegistryImage] = field(default_factory=list)
    """Accepted images of every filter, in filter order (duplicates possible)."""
    problems: list[ListingProblem] = field(default_factory=list)
    secret_problems: list[str] = field(default_factory=list)
    """Pull Secrets that are missing or unreadable (names only)."""
    credential_sources: dict[str, str] = field(default_factory=dict)
    """Registry → the pull Secret whose credentials were used for it (absent: anonymous)."""
    taken_names: dict[str, str] = field(default_factory=dict)
    """AIMClusterModel names held by a model that is not this source's → the holder's source
    label ("" for a model nobody's source created). The source never takes such a model over."""


@dataclass
class ModelSourceObservation:
    source: AIMClusterModelSource
    models: list[dict[str, Any]] = field(default_factory=list)
    """The AIMClusterModels labelled with this source's name (v1alpha2), as stored: the source
    applies them and the apply diff compares them with what it plans."""
    sync: SyncResult | None = None
    """The registry sync of this reconcile; None when no sync was due (the registry was not asked)."""

    def existing(self, kind: str, name: str) -> dict[str, Any] | None:
        if kind != "AIMClusterModel":
            return None
        return next((m for m in self.models if m["metadata"]["name"] == name), None)

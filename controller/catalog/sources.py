"""AIMClusterModelSource rules (upstream E.14), pure: which registry listings a source needs, which
of the listed images it accepts, and the AIMClusterModels it creates for them.

The controller drives it in three steps, doing the I/O between them with `controller.registry`:

1. `plan_filters(spec)` → one FilterPlan per filter: a static image (`org/model:1.2`, nothing to
   list), the tags of one repository (`org/model`), or the catalog (`org/aim-*`).
2. For a catalog plan, `select_repositories(plan, catalog)`; then for each repository
   `select_images(plan, repository, tags)` (a static plan has `static_image(plan)`).
3. `select_models(images, existing, max_models)` caps what is new, and `plan_cluster_model`
   writes each new AIMClusterModel.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import semver

from api import labels, naming
from api.v1alpha1.aimclustermodelsource import AIMClusterModelSourceSpec
from controller.catalog.imageref import (
    DOCKER_HUB,
    InvalidImageReferenceError,
    is_registry_component,
    normalise_registry,
    parse_image_reference,
)
from controller.catalog.listing import namespace_problem


class Strategy(StrEnum):
    STATIC = "static"
    """The filter names a tag: that one image, no registry listing."""
    LIST_TAGS = "list-tags"
    """An exact repository: list its tags."""
    CATALOG = "catalog"
    """A wildcard: list the registry's repositories (its catalog, or on Docker Hub and ghcr.io the
    namespace's repositories through their own APIs: controller.catalog.listing), then the tags of
    each match."""


@dataclass(frozen=True)
class FilterPlan:
    index: int
    """Position in spec.filters (for messages: `spec.filters[2]`)."""
    image: str
    """The filter's image as written."""
    strategy: Strategy
    registry: str
    """The registry to list: the filter's own prefix, else spec.registry."""
    repository: str
    """The exact repository, or the `*` pattern repositories must match (CATALOG)."""
    tag: str | None = None
    """STATIC: the tag. Otherwise a `*` pattern tags must match, or None for any tag."""
    exclude: frozenset[str] = frozenset()
    constraints: tuple[str, ...] = ()
    """Semver constraints every accepted tag satisfies (filter.versions, else spec.versions)."""
    problem: str | None = None
    """Why this filter is unusable (bad image pattern or version constraint); nothing is listed."""


@dataclass(frozen=True, order=True)
class RegistryImage:
    registry: str
    repository: str
    tag: str

    @property
    def image(self) -> str:
        """spec.image of the model: `repository:tag` on Docker Hub, `registry/repository:tag` elsewhere."""
        if self.registry == DOCKER_HUB:
            return f"{self.repository}:{self.tag}"
        return f"{self.registry}/{self.repository}:{self.tag}"


@dataclass(frozen=True)
class ModelSelection:
    create: tuple[RegistryImage, ...]
    """New images that get a model now, newest versions first."""
    existing: tuple[RegistryImage, ...]
    """Accepted images that already have a model."""
    skipped: tuple[RegistryImage, ...]
    """New images left out because maxModels is reached."""

    @property
    def limit_reached(self) -> bool:
        return bool(self.skipped)


# --- step 1: what to list -------------------------------------------------------------------------


def plan_filters(spec: AIMClusterModelSourceSpec | Mapping[str, Any]) -> list[FilterPlan]:
    """One plan per spec.filters entry, in order."""
    source = spec if isinstance(spec, AIMClusterModelSourceSpec) else AIMClusterModelSourceSpec.model_validate(spec)
    default_registry = normalise_registry(source.registry or DOCKER_HUB)
    plans = []
    for index, entry in enumerate(source.filters):
        constraints = tuple(entry.versions or source.versions or ())
        plan = plan_filter(index, entry.image, default_registry, frozenset(entry.exclude or ()), constraints)
        plans.append(plan)
    return plans


def plan_filter(
    index: int, image: str, default_registry: str, exclude: frozenset[str], constraints: tuple[str, ...]
) -> FilterPlan:
    base = FilterPlan(index, image, Strategy.STATIC, default_registry, image, None, exclude, constraints)
    for constraint in constraints:
        if (problem := constraint_problem(constraint)) is not None:
            return _with(base, problem=f"spec.filters[{index}]: version constraint {constraint!r}: {problem}")
    text = image.strip()
    if "*" in text:
        return _plan_pattern(base, text)
    try:
        reference = parse_image_reference(text)
    except InvalidImageReferenceError as error:
        return _with(base, problem=f"spec.filters[{index}].image: {error}")
    if reference.digest:
        return _with(base, problem=f"spec.filters[{index}].image: a filter names a tag, not a digest")
    first = text.split("/", 1)[0]
    registry = reference.registry if "/" in text and is_registry_component(first) else default_registry
    strategy = Strategy.STATIC if reference.tag else Strategy.LIST_TAGS
    return _with(base, strategy=strategy, registry=registry, repository=reference.repository, tag=reference.tag)


def _plan_pattern(base: FilterPlan, text: str) -> FilterPlan:
    registry, rest = base.registry, text
    first, slash, remainder = text.partition("/")
    if slash and "*" not in first and is_registry_component(first):
        registry, rest = normalise_registry(first), remainder
    repository, tag = rest, None
    last_colon = rest.rfind(":")
    if last_colon > rest.rfind("/"):
        repository, tag = rest[:last_colon], rest[last_colon + 1 :]
    if not repository or tag == "":
        return _with(base, problem=f"spec.filters[{base.index}].image: {text!r} has an empty repository or tag")
    if "*" not in repository:
        # Only the tag is a pattern: one repository's tags are enough.
        return _with(base, strategy=Strategy.LIST_TAGS, registry=registry, repository=repository, tag=tag)
    plan = _with(base, strategy=Strategy.CATALOG, registry=registry, repository=repository, tag=tag)
    if (problem := namespace_problem(registry, repository)) is not None:
        return _with(plan, problem=f"spec.filters[{base.index}].image: {text!r}: {problem}")
    return plan


def _with(plan: FilterPlan, **changes: Any) -> FilterPlan:
    return dataclasses.replace(plan, **changes)


# --- step 2: what to accept -----------------------------------------------------------------------


def matches_pattern(pattern: str, value: str) -> bool:
    """`*` matches any run of characters, `/` included (as upstream); everything else is literal."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value) is not None


def select_repositories(plan: FilterPlan, catalog: Iterable[str]) -> list[str]:
    """The catalog's repositories this plan lists tags of (pattern matched, excludes dropped)."""
    if plan.problem is not None or plan.strategy is not Strategy.CATALOG:
        return []
    return sorted(repo for repo in set(catalog) if matches_pattern(plan.repository, repo) and repo not in plan.exclude)


def static_image(plan: FilterPlan) -> RegistryImage | None:
    """The image of a STATIC plan (a filter's exact tag ignores version constraints, as upstream)."""
    if plan.problem is not None or plan.strategy is not Strategy.STATIC or plan.repository in plan.exclude:
        return None
    assert plan.tag is not None
    return RegistryImage(plan.registry, plan.repository, plan.tag)


def select_images(plan: FilterPlan, repository: str, tags: Iterable[str]) -> list[RegistryImage]:
    """The tags of `repository` this plan accepts: tag pattern, then the version constraints
    (a tag that is not a version is skipped when there are constraints)."""
    if plan.problem is not None or plan.strategy is Strategy.STATIC or repository in plan.exclude:
        return []
    if plan.strategy is Strategy.LIST_TAGS and repository != plan.repository:
        return []
    accepted = []
    for tag in sorted(set(tags)):
        if plan.tag is not None and not matches_pattern(plan.tag, tag):
            continue
        if plan.constraints and not satisfies_constraints(tag, plan.constraints):
            continue
        accepted.append(RegistryImage(plan.registry, repository, tag))
    return accepted


# --- versions -------------------------------------------------------------------------------------

_TAG_VERSION = re.compile(r"^v?(?P<core>\d+\.\d+(?:\.\d+)?)(?P<rest>[-+].*)?$")
_CLAUSE = re.compile(r"\s*(?P<op><=|>=|==|!=|<|>|=|!)?\s*v?(?P<version>\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?)\s*")
_OPERATORS = {None: "==", "=": "==", "!": "!=", "==": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}


def tag_version(tag: str) -> semver.Version | None:
    """The version a tag names: `v1.2.3` → 1.2.3, `0.9` → 0.9.0, `0.9-rc1` → 0.9.0-rc1; None for
    `latest`, `1`, `sha-abc` and anything else."""
    match = _TAG_VERSION.match(tag)
    if match is None:
        return None
    core = match["core"] if match["core"].count(".") == 2 else f"{match['core']}.0"
    try:
        return semver.Version.parse(core + (match["rest"] or ""))
    except ValueError:
        return None


def _clauses(constraint: str) -> list[list[tuple[str, str]]] | str:
    """`>=0.8.4, <1.0 || 2.x`-style text → alternatives of (operator, version) clauses, or a problem.
    Clauses are separated by commas or spaces (all must hold); `||` separates alternatives."""
    alternatives = []
    for alternative in constraint.split("||"):
        clauses = []
        for part in alternative.split(","):
            text = part.strip()
            position = 0
            while position < len(text):
                match = _CLAUSE.match(text, position)
                if match is None or match.end() == position:
                    return f"cannot read {text[position:]!r} (write e.g. >=0.8.4, <1.0)"
                version = match["version"]
                core, _, pre = version.partition("-")
                core += ".0" * (2 - core.count("."))
                clauses.append((_OPERATORS[match["op"]], core + (f"-{pre}" if pre else "")))
                position = match.end()
        if not clauses:
            return "is empty"
        alternatives.append(clauses)
    return alternatives


def constraint_problem(constraint: str) -> str | None:
    parsed = _clauses(constraint)
    if isinstance(parsed, str):
        return parsed
    for alternative in parsed:
        for _, version in alternative:
            if not semver.Version.is_valid(version):
                return f"{version!r} is not a version"
    return None


def satisfies_constraints(tag: str, constraints: Sequence[str]) -> bool:
    """Whether the tag's version satisfies every constraint (each may hold `||` alternatives)."""
    version = tag_version(tag)
    if version is None:
        return False
    for constraint in constraints:
        parsed = _clauses(constraint)
        if isinstance(parsed, str):
            return False
        if not any(all(version.match(op + bound) for op, bound in alternative) for alternative in parsed):
            return False
    return True


# --- step 3: what to create -----------------------------------------------------------------------


def _newest_first(image: RegistryImage) -> tuple[Any, ...]:
    version = tag_version(image.tag)
    # Versions newest first, then other tags alphabetically; stable across syncs.
    return (image.registry, image.repository, version is None, _Descending(version) if version else image.tag)


class _Descending:
    def __init__(self, version: semver.Version):
        self.version = version

    def __lt__(self, other: _Descending) -> bool:
        return self.version > other.version

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.version == other.version

    def __hash__(self) -> int:
        return hash(self.version)


def select_models(images: Iterable[RegistryImage], existing_images: Iterable[str], max_models: int) -> ModelSelection:
    """Accepted images split into those with a model already (matched by spec.image), those to
    create, and those maxModels leaves out. Existing models count towards maxModels; models are
    never deleted (upstream E.14 step 6)."""
    existing_set = set(existing_images)
    unique = sorted(set(images), key=_newest_first)
    existing = tuple(image for image in unique if image.image in existing_set)
    new = [image for image in unique if image.image not in existing_set]
    room = max(0, max_models - len(existing_set))
    return ModelSelection(create=tuple(new[:room]), existing=existing, skipped=tuple(new[room:]))


def cluster_model_name(image: RegistryImage) -> str:
    """The AIMClusterModel of a discovered image (the rule: api.naming.cluster_model_name)."""
    return naming.cluster_model_name(image.registry, image.repository, image.tag)


def plan_cluster_model(
    source_name: str, image: RegistryImage, image_pull_secrets: Sequence[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The AIMClusterModel a source creates for an image (the caller adds the owner reference)."""
    spec: dict[str, Any] = {"image": image.image}
    if image_pull_secrets:
        spec["imagePullSecrets"] = [dict(secret) for secret in image_pull_secrets]
    return {
        "apiVersion": labels.V1ALPHA2,
        "kind": "AIMClusterModel",
        "metadata": {
            "name": cluster_model_name(image),
            "labels": {
                labels.MODEL_SOURCE: source_name,
                labels.ORIGIN: labels.ORIGIN_AUTO_GENERATED,
                labels.OWNER_NAME["AIMClusterModelSource"]: naming.name_label_value(source_name),
            },
            "annotations": {
                labels.SOURCE_REGISTRY: image.registry,
                labels.SOURCE_REPOSITORY: image.repository,
                labels.SOURCE_TAG: image.tag,
            },
        },
        "spec": spec,
    }

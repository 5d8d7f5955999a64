"""AIMProfileSet (namespaced) and AIMClusterProfileSet (cluster): derive profiles from the visible
copyable profiles a selector picks, with overrides applied (upstream's profile derivation).

A set creates one derived AIMProfile (AIMClusterProfile for the cluster kind) per selected source
profile, owned by the set, and deletes the ones no longer selected. Served as v1alpha2 only: these
kinds are new in v1alpha2 upstream, without a v1alpha1 counterpart to convert from.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from api.core import Conditions, EnvList, LocalObjectReference
from api.objects import ObjectRoot
from api.schema import CEL, CRDModel, PreserveUnknownFields, SchemaDefault
from api.v1alpha1.common import LifecycleStatus, Metric
from api.v1alpha2.aimprofile import ACCELERATOR_MODEL_PATTERN, AcceleratorType, AIMProfileSpecCommon
from api.v1alpha2.common import ModelSource, Precision, ProfileType


class ProfileVersionPolicy(StrEnum):
    """Which versions (a source profile's status.version, its image tag) of the matches to derive."""

    PINNED = "pinned"
    LATEST = "latest"
    ALL = "all"


class ProfileTypeFloor(StrEnum):
    """A minimum optimisation level: the tier or better; `any` accepts every tier."""

    OPTIMIZED = "optimized"
    GENERAL = "general"
    PREVIEW = "preview"
    UNOPTIMIZED = "unoptimized"
    ANY = "any"


class AcceleratorVendor(StrEnum):
    AMD = "amd"
    NVIDIA = "nvidia"


class ModelRefScope(StrEnum):
    """Auto: either scope (namespace profiles first); Namespace: an AIMModel's; Cluster: an AIMClusterModel's."""

    AUTO = "Auto"
    NAMESPACE = "Namespace"
    CLUSTER = "Cluster"


class SourceModelScope(StrEnum):
    """The `aim.eai.amd.com/source-model-scope` label: the scope of the model that produced a profile."""

    NAMESPACE = "namespace"
    CLUSTER = "cluster"


class ProfileRole(StrEnum):
    """The `aim.eai.amd.com/profile-role` label: base profiles are derivation material, deployable ones serve."""

    BASE = "base"
    DEPLOYABLE = "deployable"


class ProfileOrigin(StrEnum):
    """The `aim.eai.amd.com/profile-origin` label: how a profile was produced."""

    DISCOVERED = "discovered"
    DERIVED = "derived"
    GENERATED = "generated"
    USER_AUTHORED = "user-authored"


class ProfileSourceRef(CRDModel):
    name: Annotated[str, Field(min_length=1)]
    """Name is the discovery cache ConfigMap name."""


class ProfileSelectorModelRef(CRDModel):
    name: Annotated[str, Field(min_length=1)]
    """The AIMModel or AIMClusterModel whose profiles to select (label aim.eai.amd.com/source-model)."""
    scope: Annotated[ModelRefScope, SchemaDefault("Auto")] = ModelRefScope.AUTO
    """Auto, Namespace or Cluster (label aim.eai.amd.com/source-model-scope)."""


class ProfileSelector(CRDModel):
    """Narrows the source profiles selected for derivation. Every field set must match (strict
    equality); an unset field matches anything."""

    aim_id: str | None = None
    """Model architecture identifier, e.g. qwen/qwen3-32b."""
    model_id: str | None = None
    """The source profile's specific model identifier."""
    profile_id: str | None = None
    """The source profile's profile identifier."""
    engine: str | None = None
    """Inference engine."""
    metric: Metric | None = None
    """Optimisation target."""
    precision: Precision | None = None
    """Numeric precision."""
    type: ProfileType | None = None
    """Optimisation level (exact match)."""
    minimum_type: ProfileTypeFloor | None = None
    """Minimum optimisation level (optimized > general > preview > unoptimized; a profile without
    a type counts as unoptimized); unset or `any` accepts every tier."""
    accelerator_model: str | None = None
    """Accelerator identifier, e.g. MI300X."""
    accelerator_vendor: AcceleratorVendor | None = None
    """Accelerator vendor (the source profile's spec.acceleratorVendor)."""
    accelerator_partitioning_mode: str | None = None
    """Partitioning: `unpartitioned` (no mode or unpartitioned), `partitioned` (any real mode),
    `<C>` (modes `<C>-*`, e.g. CPX) or `<C>-<M>` (exactly, e.g. CPX-NPS4); case-insensitive."""
    accelerator_type: AcceleratorType | None = None
    """gpu or cpu."""
    accelerator_count: Annotated[int | None, Field(ge=0)] = None
    """Accelerator units per replica."""
    engine_args: Annotated[dict[str, Any] | None, PreserveUnknownFields()] = None
    """Partial match: every top-level key given must exist in the source's engineArgs with an equal value."""
    model_ref: ProfileSelectorModelRef | None = None
    """Only profiles produced by this AIM(Cluster)Model (labels aim.eai.amd.com/source-model[-scope])."""
    role: Annotated[ProfileRole, SchemaDefault("deployable")] = ProfileRole.DEPLOYABLE
    """Label aim.eai.amd.com/profile-role: `deployable` (default) excludes profiles labelled base;
    `base` requires the label base."""
    origin: ProfileOrigin | None = None
    """Label aim.eai.amd.com/profile-origin must equal this; unset does not filter."""


class ProfileOverrides(CRDModel):
    """Written onto every derived profile after selection and version filtering (the selector
    filters, overrides write)."""

    aim_id: Annotated[str | None, Field(min_length=1)] = None
    """Stamps spec.aimId; required with selector.role=base."""
    model_id: str | None = None
    """Stamps spec.modelId; wins over the source's and over modelSources[0].modelId."""
    profile_id: str | None = None
    """Stamps spec.profileId."""
    model_sources: list[ModelSource] | None = None
    """Replaces the source's modelSources; spec.modelId becomes modelSources[0].modelId unless
    overrides.modelId is set."""
    features: Annotated[list[str] | None, Field(json_schema_extra={"x-kubernetes-list-type": "set"})] = None
    """Unioned with the source's features. Refused while AIMProfile has no spec.features (see docs/profiles.md)."""
    image: str | None = None
    """Deployment image of the derived profiles; wins over spec.image."""
    accelerator_model: Annotated[str | None, Field(max_length=63, pattern=ACCELERATOR_MODEL_PATTERN)] = None
    """Replaces spec.acceleratorModel."""
    accelerator_vendor: AcceleratorVendor | None = None
    """Replaces spec.acceleratorVendor. Refused while AIMProfile has no such field."""
    accelerator_count: Annotated[int | None, Field(ge=0)] = None
    """Replaces spec.acceleratorCount."""
    accelerator_partitioning_mode: str | None = None
    """Replaces spec.acceleratorPartitioningMode. Refused while AIMProfile has no such field."""
    container_env: EnvList | None = None
    """Merged by name over the source's containerEnv."""
    engine_env: dict[str, str] | None = None
    """Merged by key over the source's engineEnv."""
    engine_args: Annotated[dict[str, Any] | None, PreserveUnknownFields()] = None
    """Merged over the source's engineArgs, top-level keys replaced (not deep-merged)."""


SELECTOR_SCALAR_FIELDS = (
    "aimId",
    "modelId",
    "profileId",
    "engine",
    "metric",
    "precision",
    "type",
    "acceleratorModel",
    "acceleratorVendor",
    "acceleratorType",
)
"""Selector fields matched by equality with the source profile's spec field of the same name."""
_SELECTOR_MATCHING_FIELDS = (
    *SELECTOR_SCALAR_FIELDS,
    "acceleratorCount",
    "engineArgs",
    "modelRef",
    "origin",
)
PROFILE_SET_RULES = (
    CEL(
        "has(self.sourceRef) || " + " || ".join(f"has(self.selector.{f})" for f in _SELECTOR_MATCHING_FIELDS),
        "selector must set at least one matching field, or set sourceRef",
    ),
    CEL(
        "has(self.version) || (has(self.versionPolicy) && self.versionPolicy != 'pinned')",
        "version is required when versionPolicy is pinned",
    ),
    CEL(
        "!has(self.versionPolicy) || (self.versionPolicy != 'latest' && self.versionPolicy != 'all') || "
        "!has(self.version)",
        "latest/all versionPolicy must not set version",
    ),
    CEL(
        "!(has(self.selector.role) && self.selector.role == 'base') || "
        "(!has(self.selector.aimId) && !has(self.selector.modelId) && !has(self.selector.profileId))",
        "selector.aimId/modelId/profileId are not allowed when selector.role=base; set overrides.aimId/modelId/"
        "profileId instead (base profiles have no source identity to filter on)",
    ),
    CEL(
        "!(has(self.selector.role) && self.selector.role == 'base') || "
        "(has(self.overrides) && has(self.overrides.aimId) && has(self.overrides.modelId))",
        "selector.role=base requires overrides.aimId and overrides.modelId (base profiles carry no identity of "
        "their own; overrides supply it)",
    ),
    CEL(
        "!has(self.overrides) || !has(self.overrides.acceleratorPartitioningMode) || "
        "size(self.overrides.acceleratorPartitioningMode) == 0 || has(self.overrides.acceleratorCount)",
        "overrides.acceleratorCount must be specified together with any overrides.acceleratorPartitioningMode; "
        "partition mode changes the per-unit interpretation of acceleratorCount",
    ),
)
"""Upstream's rules and messages (AIMProfileSetSpec). Not counted as a matching field, as upstream:
role, minimumType and acceleratorPartitioningMode."""


class AIMProfileSetSpec(CRDModel):
    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": [r.as_rule() for r in PROFILE_SET_RULES]})

    source_ref: ProfileSourceRef | None = None
    """An alternate discovery cache source (a ConfigMap). Not supported by this AIM Engine: a set
    naming one reports DerivationReady=False SourceLoadFailed. When omitted, derivation uses the
    visible AIMProfile and AIMClusterProfile objects."""
    selector: Annotated[ProfileSelector, SchemaDefault({})] = Field(default_factory=ProfileSelector)
    """Which copyable source profiles (annotation aim.eai.amd.com/profile-copyable: "true") to derive from."""
    version_policy: Annotated[ProfileVersionPolicy, SchemaDefault("pinned")] = ProfileVersionPolicy.PINNED
    """pinned: the source's status.version equals spec.version; latest: only the highest
    (semantic) version among the matches; all: every match."""
    version: str | None = None
    """The source profile version (image tag) to derive from when versionPolicy is pinned."""
    image: str | None = None
    """Deployment image of the derived profiles (overrides.image wins)."""
    overrides: ProfileOverrides | None = None
    """Changes written onto every derived profile."""
    image_pull_secrets: list[LocalObjectReference] | None = None
    """Pull secrets of the derived profiles (else the source's)."""
    service_account_name: str | None = None
    """Service account of the derived profiles (else the source's)."""


class ManagedProfileCounts(CRDModel):
    """The derived profiles this set wants, and how many of them are Ready or NotAvailable."""

    total: Annotated[int, Field(ge=0)]
    """Derived profiles the set wants (one per selected source profile)."""
    ready: Annotated[int, Field(ge=0)]
    """Of those, existing and Ready."""
    not_available: Annotated[int, Field(ge=0)]
    """Of those, existing and NotAvailable (no node has their accelerator)."""
    deployable: Annotated[int, Field(ge=0)]
    """Of those, with an aimId and model sources."""
    base: Annotated[int, Field(ge=0)]
    """Of those, without model sources (derivation material)."""


class AIMProfileSetStatus(CRDModel):
    observed_generation: Annotated[int | None, Field(ge=0)] = None
    """The metadata.generation the controller last acted on."""
    status: Annotated[LifecycleStatus, SchemaDefault("Pending")] = LifecycleStatus.PENDING
    """Pending, Progressing, Ready, Degraded, Failed or NotAvailable."""
    conditions: Conditions | None = None
    """DerivationReady, Ready (and ConfigValid while the spec cannot be used)."""
    managed_profiles: ManagedProfileCounts | None = None
    """The derived profiles, counted."""


class AIMProfileSet(ObjectRoot):
    """Derives AIMProfiles in its namespace from the copyable profiles its selector picks (this
    namespace's, else the cluster's), with overrides applied."""

    spec: AIMProfileSetSpec
    """Desired state."""
    status: AIMProfileSetStatus | None = None
    """Observed state."""


class AIMClusterProfileSet(ObjectRoot):
    """Derives AIMClusterProfiles from the copyable AIMClusterProfiles its selector picks, with overrides applied."""

    spec: AIMProfileSetSpec
    """Desired state."""
    status: AIMProfileSetStatus | None = None
    """Observed state."""


PROFILE_FIELDS: frozenset[str] = frozenset(
    field.alias or name for name, field in AIMProfileSpecCommon.model_fields.items()
)
"""The spec fields a derived profile can carry (AIMProfileSpecCommon's, on the wire)."""
PROFILE_ONLY_OVERRIDES = ("features", "acceleratorVendor", "acceleratorPartitioningMode")
"""Overrides of upstream's API that write profile fields this project's AIMProfile may not have."""


def unsupported_overrides(spec: dict[str, Any]) -> list[str]:
    """The `spec.overrides.<field>` paths that are set but name a field AIMProfile has no place for
    (a derived profile would silently lose them). Empty once AIMProfile gains the field."""
    overrides = spec.get("overrides")
    if not isinstance(overrides, dict):
        return []
    return [
        f"spec.overrides.{name}"
        for name in PROFILE_ONLY_OVERRIDES
        if overrides.get(name) not in (None, "", []) and name not in PROFILE_FIELDS
    ]


AnyProfileSet = AIMProfileSet | AIMClusterProfileSet
"""Either scope of profile set, as the controller reads it."""

"""AIMProfileSet / AIMClusterProfileSet: the profiles a set can see in; the profiles it derives
(applied and pruned) and its status out (pure). Upstream: internal/v1alpha2/aimprofileset.

1. Sources: profiles annotated `aim.eai.amd.com/profile-copyable: "true"` that match the selector
   (every field set must be equal, engineArgs top-level keys, role/origin/modelRef by label). A
   namespaced set takes its namespace's matches, else the cluster's (only the cluster's with
   modelRef.scope=Cluster, never with Namespace); a cluster set the cluster's.
2. The version policy (status.version, the image tag): pinned equal to spec.version, latest the
   highest semantic version, all.
3. One derived profile per source, of the set's own scope: the source's spec with the overrides
   written over it, annotated with the set, owned by it, not copyable itself.
4. Derived profiles no longer wanted are deleted, only when the sources could be read and every
   derived profile built (a set whose spec cannot be used deletes nothing).
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from api import labels
from api.conditions import ConditionType, Reason
from api.naming import derived_profile_name
from api.objects import wire
from api.v1alpha1.common import LifecycleStatus
from api.v1alpha2.aimprofile import AIMProfileSpecCommon, AnyProfile
from api.v1alpha2.aimprofileset import (
    PROFILE_FIELDS,
    SELECTOR_SCALAR_FIELDS,
    AIMProfileSetSpec,
    ModelRefScope,
    ProfileOrigin,
    ProfileOverrides,
    ProfileRole,
    ProfileSelector,
    ProfileTypeFloor,
    ProfileVersionPolicy,
    SourceModelScope,
    unsupported_overrides,
)
from api.v1alpha2.common import ProfileType
from controller.catalog.sources import tag_version
from controller.pipeline.components import Component, component_status
from controller.pipeline.objects import child_labels, managed, manifest
from controller.pipeline.plan import Event, ObjectRef, Plan, object_ref
from controller.profileset.observe import ProfileSetObservation

TRUE_WORDS = frozenset({"1", "t", "T", "TRUE", "true", "True"})
"""What upstream's strconv.ParseBool reads as true on the copyable annotation."""
UNPARTITIONED = "UNPARTITIONED"
PARTITIONED = "PARTITIONED"
TYPE_RANK: dict[str, int] = {
    ProfileType.OPTIMIZED: 0,
    ProfileType.GENERAL: 1,
    ProfileType.PREVIEW: 2,
    ProfileType.UNOPTIMIZED: 3,
}
"""Lower is better; a profile without a type counts as unoptimized, an unknown type below that."""


def _attributes(model: type[BaseModel]) -> dict[str, str]:
    """A model's attribute names by their wire names."""
    return {field.alias or name: name for name, field in model.model_fields.items()}


_SELECTOR_ATTRIBUTES = _attributes(ProfileSelector)
_PROFILE_ATTRIBUTES = _attributes(AIMProfileSpecCommon)


# --- selection -------------------------------------------------------------------------------------


def is_copyable(profile: AnyProfile) -> bool:
    return profile.annotations.get(labels.PROFILE_COPYABLE) in TRUE_WORDS


def provenance_matches(profile: AnyProfile, selector: ProfileSelector) -> bool:
    """role, modelRef and origin, read from the profile's labels: role base requires the label
    `base`, deployable (the default) excludes it (unlabelled profiles match); modelRef requires the
    source-model label (and the scope label unless Auto); origin requires the origin label."""
    found = profile.labels
    is_base = found.get(labels.PROFILE_ROLE) == ProfileRole.BASE
    if is_base != (selector.role == ProfileRole.BASE):
        return False
    model_ref = selector.model_ref
    if model_ref is not None and model_ref.name:
        if found.get(labels.SOURCE_MODEL) != model_ref.name:
            return False
        wanted = {
            ModelRefScope.NAMESPACE: SourceModelScope.NAMESPACE,
            ModelRefScope.CLUSTER: SourceModelScope.CLUSTER,
        }.get(model_ref.scope)
        if wanted is not None and found.get(labels.SOURCE_MODEL_SCOPE) != wanted:
            return False
    return not selector.origin or found.get(labels.PROFILE_ORIGIN) == selector.origin


def partitioning_matches(wanted: str | None, mode: str | None) -> bool:
    """`unpartitioned`: no mode or unpartitioned; `partitioned`: any other mode; `<C>`: modes
    `<C>-*`; `<C>-<M>`: exactly that mode (case-insensitive)."""
    selector, candidate = (wanted or "").strip().upper(), (mode or "").strip().upper()
    if not selector:
        return True
    if selector == UNPARTITIONED:
        return candidate in ("", UNPARTITIONED)
    if selector == PARTITIONED:
        return candidate not in ("", UNPARTITIONED)
    return candidate == selector if "-" in selector else candidate.startswith(f"{selector}-")


def meets_minimum_type(profile_type: str | None, minimum: str | None) -> bool:
    if not minimum or minimum == ProfileTypeFloor.ANY:
        return True
    return TYPE_RANK.get(profile_type or ProfileType.UNOPTIMIZED, len(TYPE_RANK)) <= TYPE_RANK[minimum]


def engine_args_match(source: dict[str, Any] | None, wanted: dict[str, Any] | None) -> bool:
    """Every top-level key of `wanted` is in the source's engineArgs with an equal value."""
    if not wanted:
        return True
    source = source or {}
    return all(key in source and source[key] == value for key, value in wanted.items())


def spec_field(profile: AnyProfile, name: str) -> Any:
    """The profile's spec field of wire name `name`. Fields of upstream's profiles that AIMProfile
    has no place for yet (acceleratorVendor, acceleratorPartitioningMode) are not on the model: they
    are read from the object as stored, where the API server's pruning leaves them None until
    AIMProfile gains them (then they are read as fields)."""
    attribute = _PROFILE_ATTRIBUTES.get(name)
    if attribute is None:
        return (profile.stored.get("spec") or {}).get(name)
    return getattr(profile.spec, attribute)


def selector_matches(profile: AnyProfile, selector: ProfileSelector) -> bool:
    """Every selector field that is set equals the profile's (an unset one matches anything)."""
    spec = profile.spec
    for name in SELECTOR_SCALAR_FIELDS:
        wanted = getattr(selector, _SELECTOR_ATTRIBUTES[name])
        if wanted and spec_field(profile, name) != wanted:
            return False
    if selector.accelerator_count is not None and spec.accelerator_count != selector.accelerator_count:
        return False
    return (
        meets_minimum_type(spec.type, selector.minimum_type)
        and partitioning_matches(
            selector.accelerator_partitioning_mode, spec_field(profile, "acceleratorPartitioningMode")
        )
        and engine_args_match(spec.engine_args, selector.engine_args)
        and provenance_matches(profile, selector)
    )


def select_sources(observed: ProfileSetObservation) -> list[AnyProfile]:
    """The copyable profiles the selector matches, of the scope the set reads (see the module doc)."""
    selector = observed.profile_set.spec.selector

    def matching(profiles: list[AnyProfile]) -> list[AnyProfile]:
        found = [p for p in profiles if is_copyable(p) and selector_matches(p, selector)]
        return sorted(found, key=lambda p: p.name)

    scope = selector.model_ref.scope if selector.model_ref is not None else ModelRefScope.AUTO
    if observed.cluster_scoped or scope == ModelRefScope.CLUSTER:
        return matching(observed.cluster_profiles)
    in_namespace = matching(observed.profiles)
    if in_namespace or scope == ModelRefScope.NAMESPACE:
        return in_namespace
    return matching(observed.cluster_profiles)


def profile_version(profile: AnyProfile) -> str:
    return (profile.status.version if profile.status else None) or ""


def apply_version_policy(sources: list[AnyProfile], policy: str | None, version: str | None) -> list[AnyProfile]:
    """pinned: status.version equals `version`; latest: the highest semantic version among the
    sources (versions that are not one, such as `latest`, never are); all: every source."""
    if policy == ProfileVersionPolicy.ALL:
        return sources
    if policy == ProfileVersionPolicy.LATEST:
        versions = {id(s): tag_version(profile_version(s)) for s in sources}
        known = [v for v in versions.values() if v is not None]
        if not known:
            return []
        best = max(known)
        return [s for s in sources if versions[id(s)] == best]
    return [s for s in sources if profile_version(s) == (version or "")]


# --- derivation ------------------------------------------------------------------------------------


def merge_env(base: list[dict[str, Any]] | None, overrides: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """By name: an override replaces the entry of its name in place, new names are appended."""
    result = [copy.deepcopy(e) for e in base or []]
    for entry in overrides or []:
        at = next((i for i, e in enumerate(result) if e.get("name") == entry.get("name")), None)
        if at is None:
            result.append(copy.deepcopy(entry))
        else:
            result[at] = copy.deepcopy(entry)
    return result or None


def merge_features(base: list[str] | None, overrides: list[str] | None) -> list[str] | None:
    """The union, in order: an override cannot remove a capability the source has."""
    return list(dict.fromkeys([*(base or []), *(overrides or [])])) or None


def derive_spec(source: AIMProfileSpecCommon, set_spec: AIMProfileSetSpec) -> dict[str, Any]:
    """The source's spec (the fields every profile has; not a namespaced profile's caching) with
    the set's overrides written over it, in wire form (the derived profile's spec). Image:
    overrides.image, else spec.image, else the source's (upstream's rebasing onto the source's base
    image is not done). Pull secrets and service account: the set's when given, else the source's."""
    spec = {key: value for key, value in wire(source).items() if key in PROFILE_FIELDS}
    overrides = set_spec.overrides or ProfileOverrides()
    spec["image"] = overrides.image or set_spec.image or source.image
    for key, value in (
        ("aimId", overrides.aim_id),
        ("modelId", overrides.model_id),
        ("profileId", overrides.profile_id),
        ("acceleratorModel", overrides.accelerator_model),
        ("acceleratorVendor", overrides.accelerator_vendor),
        ("acceleratorPartitioningMode", overrides.accelerator_partitioning_mode),
    ):
        if value:
            spec[key] = str(value)
    if overrides.model_sources is not None:
        spec["modelSources"] = wire(overrides.model_sources)
        if not overrides.model_id and overrides.model_sources:
            spec["modelId"] = overrides.model_sources[0].model_id
    if overrides.accelerator_count is not None:
        spec["acceleratorCount"] = overrides.accelerator_count
    if overrides.features:
        spec["features"] = merge_features(spec.get("features"), overrides.features)
    spec["containerEnv"] = merge_env(wire(source.container_env), wire(overrides.container_env))
    spec["engineEnv"] = (source.engine_env or {}) | (overrides.engine_env or {}) or None
    spec["engineArgs"] = copy.deepcopy(source.engine_args or {}) | (overrides.engine_args or {}) or None
    spec["imagePullSecrets"] = wire(set_spec.image_pull_secrets or source.image_pull_secrets)
    spec["serviceAccountName"] = set_spec.service_account_name or source.service_account_name
    return {key: value for key, value in spec.items() if value is not None}


def is_deployable(spec: dict[str, Any]) -> bool:
    """Upstream's rule: an aimId and model sources (else a base profile, derivation material)."""
    return bool(spec.get("aimId") and spec.get("modelSources"))


def plan_derived_profile(observed: ProfileSetObservation, source: AnyProfile) -> dict[str, Any]:
    profile_set = observed.profile_set
    spec = derive_spec(source.spec, profile_set.spec)
    name = derived_profile_name(
        profile_set.name,
        source.kind or "",
        source.name,
        source.spec.profile_id or "",
        str(spec.get("aimId") or ""),
    )
    annotations = {
        labels.PROFILE_SET_UID: profile_set.uid,
        labels.PROFILE_SET_NAME: profile_set.name,
        labels.PROFILE_SOURCE: labels.PROFILE_SOURCE_COPY,
    }
    if not observed.cluster_scoped:
        annotations[labels.PROFILE_SET_NAMESPACE] = profile_set.namespace
    role = ProfileRole.DEPLOYABLE if is_deployable(spec) else ProfileRole.BASE
    provenance = {labels.PROFILE_ORIGIN: str(ProfileOrigin.DERIVED), labels.PROFILE_ROLE: str(role)}
    return manifest(
        labels.V1ALPHA2,
        observed.derived_kind,
        name,
        None if observed.cluster_scoped else profile_set.namespace,
        object_labels=child_labels(profile_set, managed(provenance)),
        annotations=annotations,
        owner=profile_set,
        spec=spec,
    )


# --- status ----------------------------------------------------------------------------------------


def managed_counts(desired: list[dict[str, Any]], existing: list[AnyProfile]) -> tuple[dict[str, int], int]:
    """status.managedProfiles, and how many of the desired profiles (as planned) exist and have
    reported a state (a profile created a moment ago is still being created, not NotAvailable)."""
    by_name = {p.name: p for p in existing}
    found = [by_name[d["metadata"]["name"]] for d in desired if d["metadata"]["name"] in by_name]
    states = [p.status.status if p.status else None for p in found]
    settled = sum(1 for state in states if state not in (None, LifecycleStatus.PENDING))
    deployable = sum(1 for d in desired if is_deployable(d["spec"]))
    counts = {
        "total": len(desired),
        "ready": states.count(LifecycleStatus.READY),
        "notAvailable": states.count(LifecycleStatus.NOT_AVAILABLE),
        "deployable": deployable,
        "base": len(desired) - deployable,
    }
    return counts, settled


def derivation_component(counts: dict[str, int], existing: int, where: str) -> Component:
    condition, total, ready = ConditionType.DERIVATION_READY, counts["total"], counts["ready"]
    if total == 0:
        message = f'No profile annotated {labels.PROFILE_COPYABLE}: "true" {where} matches the selector and version'
        return Component(condition, LifecycleStatus.NOT_AVAILABLE, Reason.NO_MATCHING_PROFILES, message)
    if existing < total:
        message = f"Derived profiles are still being created ({existing} of {total} exist and report a state)"
        return Component(condition, LifecycleStatus.PROGRESSING, Reason.CREATING, message)
    if ready == total:
        message = f"{total} derived profile(s) Ready"
        return Component(condition, LifecycleStatus.READY, Reason.MANAGED_PROFILES_READY, message)
    if ready > 0:
        message = f"{ready} of {total} derived profiles are Ready, the others not (yet)"
        return Component(condition, LifecycleStatus.DEGRADED, Reason.MANAGED_PROFILES_PARTIALLY_READY, message)
    message = f"None of the {total} derived profiles is Ready"
    return Component(condition, LifecycleStatus.NOT_AVAILABLE, Reason.MANAGED_PROFILES_NOT_AVAILABLE, message)


def unusable_spec(spec: AIMProfileSetSpec) -> Component | None:
    """A spec the derivation cannot carry out: a discovery-cache source (no such format exists in
    this project), overrides of fields AIMProfile has no place for, pinned without a version."""
    condition = ConditionType.DERIVATION_READY
    if spec.source_ref is not None:
        message = (
            f"spec.sourceRef ({spec.source_ref.name}) is not supported: this AIM Engine has no discovery-cache"
            " ConfigMap format; remove spec.sourceRef to derive from the visible AIMProfiles and AIMClusterProfiles"
        )
        return Component(condition, LifecycleStatus.FAILED, Reason.SOURCE_LOAD_FAILED, message)
    unsupported = unsupported_overrides(wire(spec))
    if unsupported:
        message = f"{', '.join(unsupported)}: not supported, AIMProfile has no such field to write it to"
        return Component(condition, LifecycleStatus.FAILED, Reason.INVALID_PROFILE_SELECTION, message)
    if spec.version_policy == ProfileVersionPolicy.PINNED and not spec.version:
        message = "spec.version is required when versionPolicy is pinned"
        return Component(condition, LifecycleStatus.FAILED, Reason.INVALID_PROFILE_SELECTION, message)
    return None


def plan_profile_set(observed: ProfileSetObservation, now: str) -> Plan:
    profile_set = observed.profile_set
    spec = profile_set.spec
    previous = profile_set.status.status if profile_set.status else None
    existing = observed.managed()
    plan = Plan()
    desired: list[dict[str, Any]] = []
    component = unusable_spec(spec)
    if component is None:
        sources = apply_version_policy(select_sources(observed), spec.version_policy, spec.version)
        desired = [plan_derived_profile(observed, source) for source in sources]
        plan.apply = desired
        wanted = {d["metadata"]["name"] for d in desired}
        plan.delete = [_ref(p, observed.derived_kind) for p in existing if p.name not in wanted]
    counts, found = managed_counts(desired, existing)
    if component is None:
        where = "in the cluster" if observed.cluster_scoped else f"in namespace {profile_set.namespace} or the cluster"
        component = derivation_component(counts, found, where)
    plan.status = component_status(profile_set, [component], now, {"managedProfiles": counts})
    state = plan.status["status"]
    if state != previous and state in (LifecycleStatus.FAILED, LifecycleStatus.NOT_AVAILABLE):
        plan.events.append(Event("Warning", component.reason, component.message))
    return plan


def _ref(profile: AnyProfile, kind: str) -> ObjectRef:
    """Listed items may come without apiVersion and kind (they are those of the list)."""
    return object_ref({"apiVersion": labels.V1ALPHA2, "kind": kind, **profile.stored})

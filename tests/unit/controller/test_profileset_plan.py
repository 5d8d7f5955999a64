"""plan_profile_set: the profiles a set can see in; derived profiles, prunes and status out (no API
server). Tables of the selector, the version policy, the overrides and the derived names."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from api.naming import MAX_NAME, derived_profile_name
from api.objects import wire
from api.stored import read_profile, read_profile_set
from api.v1alpha2.aimprofile import AnyProfile
from api.v1alpha2.aimprofileset import AIMProfileSetSpec, ProfileSelector, unsupported_overrides
from controller.profileset.observe import ProfileSetObservation
from controller.profileset.plan import (
    apply_version_policy,
    derive_spec,
    partitioning_matches,
    plan_profile_set,
    selector_matches,
)
from tests.builders import condition, status_of

NOW = "2026-12-01T12:00:00Z"
V2 = "aim.eai.amd.com/v1alpha2"
COPYABLE = {"aim.eai.amd.com/profile-copyable": "true"}
SET_UID = "set-uid-1"


def source(
    name: str = "qwen-mi300x",
    kind: str = "AIMProfile",
    version: str = "0.8.5",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    status: str = "Ready",
    **spec: Any,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "uid": f"uid-{name}",
        "labels": labels or {},
        "annotations": COPYABLE if annotations is None else annotations,
    }
    if kind == "AIMProfile":
        metadata["namespace"] = "team"
    defaults = {
        "aimId": "qwen/qwen3-32b",
        "modelId": "Qwen/Qwen3-32B-FP8",
        "profileId": "vllm-mi300x-fp8-tp1-latency",
        "image": f"registry.local/aim-qwen:{version}",
        "engine": "vllm",
        "metric": "latency",
        "precision": "fp8",
        "type": "optimized",
        "acceleratorModel": "MI300X",
        "acceleratorType": "gpu",
        "acceleratorCount": 1,
        "engineArgs": {"max-model-len": 16384, "enable-prefix-caching": True},
        "engineEnv": {"VLLM_DO_NOT_TRACK": "1"},
        "containerEnv": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "KEEP", "value": "1"}],
    }
    return {
        "apiVersion": V2,
        "kind": kind,
        "metadata": metadata,
        "spec": defaults | spec,
        "status": {"status": status, "version": version},
    }


def profile_set(kind: str = "AIMProfileSet", **spec: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "tuned", "uid": SET_UID, "generation": 3}
    if kind == "AIMProfileSet":
        metadata["namespace"] = "team"
    defaults = {"selector": {"aimId": "qwen/qwen3-32b", "role": "deployable"}, "versionPolicy": "all"}
    return {"apiVersion": V2, "kind": kind, "metadata": metadata, "spec": defaults | spec}


def observe(the_set: dict[str, Any], *profiles: dict[str, Any]) -> ProfileSetObservation:
    """The observation of `the_set` and `profiles` (dicts as the API server sends them, read as the
    fetch step does)."""
    return ProfileSetObservation(
        profile_set=read_profile_set(the_set),
        profiles=[read_profile(p) for p in profiles if p["kind"] == "AIMProfile"],
        cluster_profiles=[read_profile(p) for p in profiles if p["kind"] == "AIMClusterProfile"],
    )


def derived_of(plan_apply: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in plan_apply}


# --- the selector ------------------------------------------------------------------------------------

SELECTOR_CASES = [
    ("empty-matches-anything", {}, source(), True),
    ("aim-id-equal", {"aimId": "qwen/qwen3-32b"}, source(), True),
    ("aim-id-differs", {"aimId": "llama/llama-3"}, source(), False),
    ("model-id-differs", {"modelId": "Qwen/Qwen3-32B"}, source(), False),
    ("profile-id-equal", {"profileId": "vllm-mi300x-fp8-tp1-latency"}, source(), True),
    ("engine-differs", {"engine": "sglang"}, source(), False),
    ("metric-differs", {"metric": "throughput"}, source(), False),
    ("precision-equal", {"precision": "fp8"}, source(), True),
    ("type-exact", {"type": "general"}, source(), False),
    ("accelerator-model-differs", {"acceleratorModel": "MI355X"}, source(), False),
    ("accelerator-type-equal", {"acceleratorType": "gpu"}, source(), True),
    ("accelerator-count-differs", {"acceleratorCount": 8}, source(), False),
    ("accelerator-count-zero-is-a-value", {"acceleratorCount": 0}, source(), False),
    ("vendor-the-source-lacks", {"acceleratorVendor": "amd"}, source(), False),
    ("vendor-equal", {"acceleratorVendor": "amd"}, source(acceleratorVendor="amd"), True),
    ("minimum-type-met", {"minimumType": "general"}, source(), True),
    ("minimum-type-not-met", {"minimumType": "general"}, source(type="preview"), False),
    ("untyped-counts-as-unoptimized", {"minimumType": "preview"}, source(type=None), False),
    ("minimum-type-any", {"minimumType": "any"}, source(type="unoptimized"), True),
    ("engine-args-partial-match", {"engineArgs": {"max-model-len": 16384}}, source(), True),
    ("engine-args-value-differs", {"engineArgs": {"max-model-len": 8192}}, source(), False),
    ("engine-args-key-missing", {"engineArgs": {"tensor-parallel-size": 1}}, source(), False),
    (
        "engine-args-nested-values-compared-whole",
        {"engineArgs": {"a": {"b": 1}}},
        source(engineArgs={"a": {"b": 1}}),
        True,
    ),
    ("role-deployable-matches-unlabelled", {"role": "deployable"}, source(), True),
    (
        "role-deployable-excludes-base",
        {"role": "deployable"},
        source(labels={"aim.eai.amd.com/profile-role": "base"}),
        False,
    ),
    ("role-base-requires-the-label", {"role": "base"}, source(), False),
    ("role-base-labelled", {"role": "base"}, source(labels={"aim.eai.amd.com/profile-role": "base"}), True),
    (
        "origin-by-label",
        {"origin": "discovered"},
        source(labels={"aim.eai.amd.com/profile-origin": "discovered"}),
        True,
    ),
    ("origin-unlabelled", {"origin": "discovered"}, source(), False),
    (
        "model-ref-by-label",
        {"modelRef": {"name": "qwen"}},
        source(labels={"aim.eai.amd.com/source-model": "qwen"}),
        True,
    ),
    (
        "model-ref-other-model",
        {"modelRef": {"name": "qwen"}},
        source(labels={"aim.eai.amd.com/source-model": "x"}),
        False,
    ),
    (
        "model-ref-scope-label",
        {"modelRef": {"name": "qwen", "scope": "Cluster"}},
        source(labels={"aim.eai.amd.com/source-model": "qwen", "aim.eai.amd.com/source-model-scope": "namespace"}),
        False,
    ),
    (
        "model-ref-auto-any-scope",
        {"modelRef": {"name": "qwen", "scope": "Auto"}},
        source(labels={"aim.eai.amd.com/source-model": "qwen", "aim.eai.amd.com/source-model-scope": "cluster"}),
        True,
    ),
]


@pytest.mark.parametrize(
    ("case", "selector", "profile", "expected"), SELECTOR_CASES, ids=[c[0] for c in SELECTOR_CASES]
)
def test_selector(case: str, selector: dict[str, Any], profile: dict[str, Any], expected: bool) -> None:
    typed = ProfileSelector.model_validate({"role": "deployable"} | selector)
    assert selector_matches(read_profile(profile), typed) is expected


PARTITIONING = [
    ("", "CPX-NPS4", True),
    ("unpartitioned", "", True),
    ("unpartitioned", "SPX-NPS1", False),
    ("partitioned", "CPX-NPS4", True),
    ("partitioned", "", False),
    ("partitioned", "unpartitioned", False),
    ("CPX", "CPX-NPS4", True),
    ("cpx", "CPX-NPS1", True),
    ("CPX", "SPX-NPS1", False),
    ("CPX-NPS4", "CPX-NPS4", True),
    ("CPX-NPS4", "CPX-NPS1", False),
]


@pytest.mark.parametrize(
    ("wanted", "mode", "expected"), PARTITIONING, ids=[f"{w or 'none'}~{m or 'none'}" for w, m, _ in PARTITIONING]
)
def test_partitioning_selector(wanted: str, mode: str, expected: bool) -> None:
    assert partitioning_matches(wanted, mode) is expected


# --- which profiles are sources ----------------------------------------------------------------------


def names(profiles: list[AnyProfile]) -> set[str]:
    return {p.name for p in profiles}


def read(*profiles: dict[str, Any]) -> list[AnyProfile]:
    return [read_profile(p) for p in profiles]


SOURCE_CASES = [
    (
        "copyable-only",
        profile_set(),
        [
            source("a"),
            source("b", annotations={}),
            source("c", annotations={"aim.eai.amd.com/profile-copyable": "false"}),
        ],
        {"a"},
    ),
    (
        "copyable-true-spellings",
        profile_set(),
        [source("a", annotations={"aim.eai.amd.com/profile-copyable": "True"})],
        {"a"},
    ),
    (
        "namespace-first",
        profile_set(),
        [source("ns"), source("cl", kind="AIMClusterProfile")],
        {"ns"},
    ),
    (
        "cluster-fallback-when-nothing-matches-in-the-namespace",
        profile_set(),
        [source("ns", aimId="llama/llama-3"), source("cl", kind="AIMClusterProfile")],
        {"cl"},
    ),
    (
        "no-fallback-with-model-ref-scope-namespace",
        profile_set(selector={"modelRef": {"name": "m", "scope": "Namespace"}, "role": "deployable"}),
        [source("cl", kind="AIMClusterProfile", labels={"aim.eai.amd.com/source-model": "m"})],
        set(),
    ),
    (
        "model-ref-scope-cluster-skips-the-namespace",
        profile_set(selector={"modelRef": {"name": "m", "scope": "Cluster"}, "role": "deployable"}),
        [
            source("ns", labels={"aim.eai.amd.com/source-model": "m", "aim.eai.amd.com/source-model-scope": "cluster"}),
            source(
                "cl",
                kind="AIMClusterProfile",
                labels={"aim.eai.amd.com/source-model": "m", "aim.eai.amd.com/source-model-scope": "cluster"},
            ),
        ],
        {"cl"},
    ),
    (
        "a-cluster-set-reads-cluster-profiles-only",
        profile_set("AIMClusterProfileSet"),
        [source("ns"), source("cl", kind="AIMClusterProfile")],
        {"cl"},
    ),
]


@pytest.mark.parametrize(("case", "the_set", "profiles", "expected"), SOURCE_CASES, ids=[c[0] for c in SOURCE_CASES])
def test_sources(case: str, the_set: dict[str, Any], profiles: list[dict[str, Any]], expected: set[str]) -> None:
    profiles = copy.deepcopy(profiles)
    for profile in profiles:
        del profile["spec"]["profileId"]  # derived profiles are then named after the source's name
    plan = plan_profile_set(observe(the_set, *profiles), NOW)
    assert {n.rsplit("-", 1)[0].removeprefix("tuned-") for n in derived_of(plan.apply)} == expected


def test_the_source_is_named_in_the_derived_name_by_profile_id_else_name() -> None:
    plan = plan_profile_set(observe(profile_set(), source("a", profileId=None), source("b")), NOW)
    assert sorted(n.rsplit("-", 1)[0] for n in derived_of(plan.apply)) == [
        "tuned-a",
        "tuned-vllm-mi300x-fp8-tp1-latency",
    ]


# --- the version policy -------------------------------------------------------------------------------

VERSIONS = [
    source("v1", version="0.8.4"),
    source("v2", version="0.8.5"),
    source("v3", version="0.10.0"),
    source("v4", version="latest"),
]
VERSION_CASES = [
    ("pinned", "pinned", "0.8.5", {"v2"}),
    ("pinned-to-a-missing-version", "pinned", "0.9.0", set()),
    ("latest-is-semantic-not-lexical", "latest", None, {"v3"}),
    ("all", "all", None, {"v1", "v2", "v3", "v4"}),
]


@pytest.mark.parametrize(("case", "policy", "version", "expected"), VERSION_CASES, ids=[c[0] for c in VERSION_CASES])
def test_version_policy(case: str, policy: str, version: str | None, expected: set[str]) -> None:
    assert names(apply_version_policy(read(*VERSIONS), policy, version)) == expected


def test_latest_keeps_every_source_of_the_highest_version() -> None:
    sources = [source("a", version="0.9"), source("b", version="0.9.0"), source("c", version="0.8.5")]
    assert names(apply_version_policy(read(*sources), "latest", None)) == {"a", "b"}


def test_latest_of_no_semantic_version_is_nothing() -> None:
    assert apply_version_policy(read(source("a", version="latest")), "latest", None) == []


# --- overrides ----------------------------------------------------------------------------------------

SOURCE_SPEC = source()["spec"]


def derive(source_spec: dict[str, Any], set_spec: dict[str, Any]) -> dict[str, Any]:
    """derive_spec of a source with `source_spec` and a set with `set_spec`, both read as the fetch step does."""
    return derive_spec(read_profile(source() | {"spec": source_spec}).spec, AIMProfileSetSpec.model_validate(set_spec))


OVERRIDE_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("nothing-copies-the-source", {}, {}),
    (
        "identity-stamped",
        {"overrides": {"aimId": "qwen/ft", "profileId": "p2"}},
        {"aimId": "qwen/ft", "profileId": "p2"},
    ),
    (
        "model-sources-replace-and-name-the-model",
        {"overrides": {"modelSources": [{"modelId": "org/ft", "sourceUri": "hf://org/ft"}]}},
        {"modelSources": [{"modelId": "org/ft", "sourceUri": "hf://org/ft"}], "modelId": "org/ft"},
    ),
    (
        "an-explicit-model-id-wins-over-the-sources",
        {"overrides": {"modelId": "org/x", "modelSources": [{"modelId": "org/ft", "sourceUri": "hf://org/ft"}]}},
        {"modelSources": [{"modelId": "org/ft", "sourceUri": "hf://org/ft"}], "modelId": "org/x"},
    ),
    (
        "accelerator-fields-replace",
        {"overrides": {"acceleratorModel": "MI355X", "acceleratorCount": 0}},
        {"acceleratorModel": "MI355X", "acceleratorCount": 0},
    ),
    (
        "container-env-merges-by-name",
        {"overrides": {"containerEnv": [{"name": "LOG_LEVEL", "value": "debug"}, {"name": "NEW", "value": "2"}]}},
        {
            "containerEnv": [
                {"name": "LOG_LEVEL", "value": "debug"},
                {"name": "KEEP", "value": "1"},
                {"name": "NEW", "value": "2"},
            ]
        },
    ),
    (
        "engine-env-merges-by-key",
        {"overrides": {"engineEnv": {"VLLM_DO_NOT_TRACK": "0", "HIP_X": "1"}}},
        {"engineEnv": {"VLLM_DO_NOT_TRACK": "0", "HIP_X": "1"}},
    ),
    (
        "engine-args-merge-one-level",
        {"overrides": {"engineArgs": {"max-model-len": 32768, "extra": {"a": 1}}}},
        {"engineArgs": {"max-model-len": 32768, "enable-prefix-caching": True, "extra": {"a": 1}}},
    ),
    ("set-image", {"image": "mirror/aim:1"}, {"image": "mirror/aim:1"}),
    ("override-image-wins", {"image": "mirror/aim:1", "overrides": {"image": "mine/aim:2"}}, {"image": "mine/aim:2"}),
    (
        "pull-secrets-and-account-of-the-set",
        {"imagePullSecrets": [{"name": "regcred"}], "serviceAccountName": "runner"},
        {"imagePullSecrets": [{"name": "regcred"}], "serviceAccountName": "runner"},
    ),
]


@pytest.mark.parametrize(("case", "set_spec", "changed"), OVERRIDE_CASES, ids=[c[0] for c in OVERRIDE_CASES])
def test_overrides(case: str, set_spec: dict[str, Any], changed: dict[str, Any]) -> None:
    before = copy.deepcopy(SOURCE_SPEC)
    typed = read_profile(source() | {"spec": SOURCE_SPEC}).spec
    assert derive_spec(typed, AIMProfileSetSpec.model_validate(set_spec)) == SOURCE_SPEC | changed
    assert before == SOURCE_SPEC == wire(typed), "the source is not modified"


def test_the_source_keeps_its_pull_secrets_and_account_when_the_set_names_none() -> None:
    spec = SOURCE_SPEC | {"imagePullSecrets": [{"name": "src"}], "serviceAccountName": "src-sa"}
    derived = derive(spec, {})
    assert (derived["imagePullSecrets"], derived["serviceAccountName"]) == ([{"name": "src"}], "src-sa")


def test_a_namespaced_profiles_caching_is_not_copied() -> None:
    assert "caching" not in derive(SOURCE_SPEC | {"caching": {"enabled": True}}, {})


UNSUPPORTED = [
    ({"features": ["lora"]}, ["spec.overrides.features"]),
    (
        {"acceleratorVendor": "amd", "acceleratorPartitioningMode": "CPX-NPS4"},
        [
            "spec.overrides.acceleratorVendor",
            "spec.overrides.acceleratorPartitioningMode",
        ],
    ),
    ({"features": [], "acceleratorPartitioningMode": ""}, []),
    ({"acceleratorModel": "MI355X"}, []),
]


@pytest.mark.parametrize(("overrides", "paths"), UNSUPPORTED, ids=["features", "vendor-and-mode", "empty", "supported"])
def test_overrides_aimprofile_cannot_carry_are_named(overrides: dict[str, Any], paths: list[str]) -> None:
    assert unsupported_overrides({"overrides": overrides}) == paths


# --- names ---------------------------------------------------------------------------------------------

NAME_CASES = [
    ("short", ("tuned", "AIMProfile", "qwen", "vllm-mi300x", "qwen/qwen3-32b"), "tuned-vllm-mi300x-"),
    ("name-without-profile-id", ("tuned", "AIMProfile", "qwen", "", "qwen/qwen3-32b"), "tuned-qwen-"),
    ("sanitised", ("Tuned_Set", "AIMProfile", "q", "vllm.MI300X_fp8", "a/b"), "tuned-set-vllm-mi300x-fp8-"),
]


@pytest.mark.parametrize(("case", "inputs", "prefix"), NAME_CASES, ids=[c[0] for c in NAME_CASES])
def test_derived_profile_name(case: str, inputs: tuple[str, str, str, str, str], prefix: str) -> None:
    name = derived_profile_name(*inputs)
    assert name.startswith(prefix)
    assert len(name.rsplit("-", 1)[1]) == 8
    assert name == derived_profile_name(*inputs), "deterministic"


def test_derived_names_fit_and_differ_by_source_scope_and_aim_id() -> None:
    long = derived_profile_name("s" * 60, "AIMProfile", "p" * 200, "", "a/b")
    assert len(long) <= MAX_NAME
    assert long.replace("-", "").isalnum()
    base = derived_profile_name("tuned", "AIMProfile", "qwen", "", "a/b")
    assert derived_profile_name("tuned", "AIMClusterProfile", "qwen", "", "a/b") != base
    assert derived_profile_name("tuned", "AIMProfile", "qwen", "", "a/c") != base


# --- the derived profile, pruning and status ---------------------------------------------------------


def test_a_derived_profile_is_annotated_owned_labelled_and_not_copyable() -> None:
    the_set = profile_set(overrides={"engineArgs": {"max-model-len": 32768}})
    the_set["metadata"]["labels"] = {"aim.eai.amd.com/source-model": "qwen", "team": "ml"}
    [derived] = plan_profile_set(observe(the_set, source()), NOW).apply
    metadata = derived["metadata"]
    assert (derived["apiVersion"], derived["kind"], metadata["namespace"]) == (V2, "AIMProfile", "team")
    assert metadata["annotations"] == {
        "aim.eai.amd.com/profile-set-uid": SET_UID,
        "aim.eai.amd.com/profile-set-name": "tuned",
        "aim.eai.amd.com/profile-set-namespace": "team",
        "aim.eai.amd.com/profile-source": "copy",
    }
    assert metadata["labels"] == {
        "app.kubernetes.io/managed-by": "aim-engine",
        "aim.eai.amd.com/profile-origin": "derived",
        "aim.eai.amd.com/profile-role": "base",  # no model sources: derivation material
        "aim.eai.amd.com/source-model": "qwen",
    }
    [owner] = metadata["ownerReferences"]
    assert (owner["kind"], owner["uid"], owner["controller"]) == ("AIMProfileSet", SET_UID, True)
    assert derived["spec"]["engineArgs"]["max-model-len"] == 32768


def test_a_cluster_set_derives_cluster_profiles_without_a_namespace() -> None:
    [derived] = plan_profile_set(
        observe(profile_set("AIMClusterProfileSet"), source(kind="AIMClusterProfile")), NOW
    ).apply
    assert derived["kind"] == "AIMClusterProfile"
    assert "namespace" not in derived["metadata"]
    assert "aim.eai.amd.com/profile-set-namespace" not in derived["metadata"]["annotations"]


def existing(plan_apply: list[dict[str, Any]], status: str | None = None) -> list[dict[str, Any]]:
    """The derived profiles as the API server would return them."""
    found = copy.deepcopy(plan_apply)
    for profile in found:
        if status:
            profile["status"] = {"status": status}
    return found


STATUS_CASES = [
    ("nothing-matches", [], None, ("NotAvailable", "NoMatchingProfiles"), (0, 0, 0)),
    ("being-created", [source("a"), source("b")], "none", ("Progressing", "Creating"), (2, 0, 0)),
    ("created-without-a-state-yet", [source("a")], "Pending", ("Progressing", "Creating"), (1, 0, 0)),
    ("all-ready", [source("a"), source("b")], "Ready", ("Ready", "ManagedProfilesReady"), (2, 2, 0)),
    ("none-ready", [source("a")], "NotAvailable", ("NotAvailable", "ManagedProfilesNotAvailable"), (1, 0, 1)),
    ("some-ready", [source("a"), source("b")], "mixed", ("Degraded", "ManagedProfilesPartiallyReady"), (2, 1, 1)),
]


@pytest.mark.parametrize(
    ("case", "sources", "derived_state", "expected", "counts"), STATUS_CASES, ids=[c[0] for c in STATUS_CASES]
)
def test_status(
    case: str,
    sources: list[dict[str, Any]],
    derived_state: str | None,
    expected: tuple[str, str],
    counts: tuple[int, int, int],
) -> None:
    the_set = profile_set()
    desired = plan_profile_set(observe(the_set, *sources), NOW).apply
    present = []
    if derived_state == "mixed":
        present = existing(desired[:1], "Ready") + existing(desired[1:], "NotAvailable")
    elif derived_state not in (None, "none"):
        present = existing(desired, derived_state)
    status = status_of(plan_profile_set(observe(the_set, *sources, *present), NOW))
    derivation = condition(status, "DerivationReady")
    assert (status["status"], derivation["reason"]) == expected
    assert derivation["status"] == ("True" if expected[0] == "Ready" else "False")
    assert condition(status, "Ready")["status"] == derivation["status"]
    managed = status["managedProfiles"]
    assert (managed["total"], managed["ready"], managed["notAvailable"]) == counts
    assert managed["deployable"] + managed["base"] == managed["total"]
    assert status["observedGeneration"] == 3


def test_deployable_and_base_are_counted() -> None:
    sources = [source("a", modelSources=[{"modelId": "o/a", "sourceUri": "hf://o/a"}]), source("b")]
    managed = status_of(plan_profile_set(observe(profile_set(), *sources), NOW))["managedProfiles"]
    assert (managed["deployable"], managed["base"]) == (1, 1)


def test_profiles_no_longer_selected_are_pruned_and_others_kept() -> None:
    wide = profile_set()
    present = existing(plan_profile_set(observe(wide, source("a"), source("b", precision="fp16")), NOW).apply, "Ready")
    stranger = source("unrelated", annotations={})  # not derived by this set: never deleted
    narrow = profile_set(selector={"aimId": "qwen/qwen3-32b", "precision": "fp8", "role": "deployable"})
    plan = plan_profile_set(observe(narrow, source("a"), source("b", precision="fp16"), stranger, *present), NOW)
    assert len(plan.apply) == 1
    [deleted] = plan.delete
    assert deleted.kind == "AIMProfile"
    assert deleted.name not in derived_of(plan.apply)
    assert deleted.name in {p["metadata"]["name"] for p in present}


@pytest.mark.parametrize(
    ("spec", "reason", "field"),
    [
        ({"sourceRef": {"name": "discovery-cache"}}, "SourceLoadFailed", "spec.sourceRef"),
        ({"overrides": {"features": ["lora"]}}, "InvalidProfileSelection", "spec.overrides.features"),
        ({"versionPolicy": "pinned"}, "InvalidProfileSelection", "spec.version"),
    ],
    ids=["source-ref", "unsupported-override", "pinned-without-version"],
)
def test_an_unusable_spec_fails_naming_the_field_and_prunes_nothing(
    spec: dict[str, Any], reason: str, field: str
) -> None:
    present = existing(plan_profile_set(observe(profile_set(), source("a")), NOW).apply, "Ready")
    the_set = profile_set(**spec)
    the_set["status"] = {"status": "Ready"}
    plan = plan_profile_set(observe(the_set, source("a"), *present), NOW)
    assert (plan.apply, plan.delete) == ([], [])
    status = status_of(plan)
    derivation = condition(status, "DerivationReady")
    assert (status["status"], derivation["reason"]) == ("Failed", reason)
    assert field in derivation["message"]
    assert [(e.type, e.reason) for e in plan.events] == [("Warning", reason)]
    if reason == "InvalidProfileSelection":
        assert condition(status, "ConfigValid")["reason"] == "InvalidSpec"

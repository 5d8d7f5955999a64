"""v1alpha1 ↔ v1alpha2 conversion: the documented mapping, exact round trips, stale stashes."""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.conversion import V1, V2, ConversionError, convert
from api.conversion.preserved import ANNOTATION
from tests.examples import example_documents


def service(api_version: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": "AIMService", "metadata": {"name": "s", "namespace": "n"}, "spec": spec}


@pytest.mark.parametrize(
    ("v1_spec", "v2_spec"),
    [
        ({"caching": {"mode": "Always"}}, {"caching": {"mode": "Shared"}}),
        ({"caching": {"mode": "Auto"}}, {"caching": {"mode": "Shared"}}),
        ({"caching": {"mode": "Never"}}, {"caching": {"mode": "Dedicated"}}),
        ({"cacheModel": True}, {}),
        ({"overrides": {"precision": "auto"}}, {"overrides": {}}),
        (
            {"overrides": {"hardware": {"gpu": {"model": "MI300X"}}}},
            {"overrides": {"hardware": {"gpu": {"models": ["MI300X"]}}}},
        ),
        ({"routing": {"routeTemplate": "/a"}}, {"routing": {"pathTemplate": "/a"}}),
        ({"replicas": 2, "caching": {"mode": "Dedicated"}}, {"replicas": 2, "caching": {"mode": "Dedicated"}}),
    ],
    ids=["always", "auto", "never", "cache-model", "precision-auto", "gpu-model", "route-template", "unchanged"],
)
def test_service_mapping(v1_spec: dict[str, Any], v2_spec: dict[str, Any]) -> None:
    original = service(V1, **v1_spec)
    hub = convert(original, V2)
    assert hub["spec"] == v2_spec
    assert (ANNOTATION in hub["metadata"].get("annotations", {})) == (v1_spec != v2_spec)
    assert convert(hub, V1) == original


def test_model_templates_move_with_their_nested_spellings() -> None:
    templates = [{"name": "a", "hardware": {"gpu": {"model": "MI300X"}}, "profile": {"precision": "auto"}}]
    original = {
        "apiVersion": V1,
        "kind": "AIMModel",
        "metadata": {"name": "m"},
        "spec": {"custom": {"templates": templates}},
    }
    hub = convert(original, V2)
    assert hub["spec"] == {
        "custom": {},
        "customTemplates": [{"name": "a", "hardware": {"gpu": {"models": ["MI300X"]}}, "profile": {}}],
    }
    assert convert(hub, V1) == original


def test_v2_only_values_travel_through_v1() -> None:
    original = {
        "apiVersion": V2,
        "kind": "AIMModel",
        "metadata": {"name": "m"},
        "spec": {
            "custom": {"type": "general"},
            "customTemplates": [{"type": "general"}],
            "modelSources": [{"modelId": "a/b", "sourceUri": "hf://a/b", "precision": "fp8"}],
        },
    }
    down = convert(original, V1)
    assert down["spec"] == {
        "custom": {},
        "customTemplates": [{}],
        "modelSources": [{"modelId": "a/b", "sourceUri": "hf://a/b"}],
    }
    assert convert(down, V2) == original


def test_a_stash_is_not_applied_after_the_field_changed_through_the_other_version() -> None:
    hub = convert(service(V1, routing={"routeTemplate": "/old"}), V2)
    hub["spec"]["routing"]["pathTemplate"] = "/new"  # edited through v1alpha2
    assert convert(hub, V1)["spec"] == {"routing": {"pathTemplate": "/new"}}


def test_metadata_is_untouched_but_for_the_annotation() -> None:
    original = service(V1, caching={"mode": "Never"})
    original["metadata"] |= {"labels": {"a": "b"}, "annotations": {"keep": "me"}, "uid": "u", "resourceVersion": "7"}
    hub = convert(original, V2)
    assert {k: v for k, v in hub["metadata"].items() if k != "annotations"} == {
        k: v for k, v in original["metadata"].items() if k != "annotations"
    }
    assert hub["metadata"]["annotations"]["keep"] == "me"
    assert convert(hub, V1) == original


def test_input_is_never_modified() -> None:
    original = service(V1, caching={"mode": "Always"})
    snapshot = copy.deepcopy(original)
    convert(original, V2)
    assert original == snapshot


@pytest.mark.parametrize(
    ("obj", "target", "message"),
    [
        ({"kind": "AIMArtifact", "apiVersion": V1}, V2, "exists only in"),
        ({"apiVersion": V1}, V2, "no kind or apiVersion"),
        ({"kind": "AIMService", "apiVersion": V1}, "aim.eai.amd.com/v9", "cannot convert AIMService"),
        (
            {"kind": "AIMService", "apiVersion": V2, "metadata": {"annotations": {ANNOTATION: "[1]"}}},
            V1,
            "unreadable conversion annotation",
        ),
    ],
    ids=["single-version-kind", "no-kind", "unknown-version", "corrupt-annotation"],
)
def test_conversion_errors_say_why(obj: dict[str, Any], target: str, message: str) -> None:
    with pytest.raises(ConversionError, match=message):
        convert(obj, target)


DUAL_VERSION_EXAMPLES = [
    (where, doc) for where, doc in example_documents() if doc["kind"] in ("AIMService", "AIMModel", "AIMClusterModel")
]


@pytest.mark.parametrize(("where", "document"), DUAL_VERSION_EXAMPLES, ids=[w for w, _ in DUAL_VERSION_EXAMPLES])
def test_examples_round_trip(where: str, document: dict[str, Any]) -> None:
    other = V2 if document["apiVersion"] == V1 else V1
    assert convert(convert(document, other), document["apiVersion"]) == document


# -- property: random objects of every dual-version kind survive both round trips -----------------

names = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
text = st.text(max_size=12)
gpu_models = st.sampled_from(["MI300X", "MI325X", "MI350X", "MI210", ""])


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def obj_of(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict with any subset of `fields` (a generated None means: leave the field out)."""
    return st.fixed_dictionaries({k: optional(v) for k, v in fields.items()}).map(
        lambda d: {k: v for k, v in d.items() if v is not None}
    )


def gpu(v1: bool) -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, st.SearchStrategy[Any]] = {
        "requests": st.integers(0, 8),
        "models": st.lists(gpu_models, max_size=3),
        "minVram": st.sampled_from(["64Gi", "128G", 1]),
        "resourceName": st.just("amd.com/gpu"),
    }
    if v1:
        fields["model"] = gpu_models
    return obj_of(**fields)


def hardware(v1: bool) -> st.SearchStrategy[dict[str, Any]]:
    return obj_of(gpu=gpu(v1), cpu=obj_of(requests=st.just("4"), limits=st.just("8")))


def precision(v1: bool) -> st.SearchStrategy[str]:
    values = ["fp4", "fp8", "fp16", "fp32", "bf16", "int4", "int8"]
    return st.sampled_from([*values, "auto"] if v1 else values)


def model_source(v1: bool) -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, st.SearchStrategy[Any]] = {
        "size": st.just("16Gi"),
        "env": st.lists(obj_of(name=names, value=text), max_size=2),
    }
    if not v1:
        fields["precision"] = precision(False)
    return st.builds(
        lambda base, extra: {**base, **extra},
        st.fixed_dictionaries({"modelId": st.just("org/name"), "sourceUri": st.just("hf://org/name")}),
        obj_of(**fields),
    )


def metadata() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda base, extra: {**base, **extra},
        st.fixed_dictionaries({"name": names}),
        obj_of(
            namespace=names,
            labels=st.dictionaries(names, text, max_size=2),
            annotations=st.dictionaries(names, text, min_size=1, max_size=2),
            uid=names,
        ),
    )


def service_spec(v1: bool) -> st.SearchStrategy[dict[str, Any]]:
    modes = ["Shared", "Dedicated", *(["Always", "Auto", "Never"] if v1 else [])]
    routing: dict[str, st.SearchStrategy[Any]] = {
        "enabled": st.booleans(),
        "pathTemplate": text,
        "requestTimeout": text,
    }
    if v1:
        routing["routeTemplate"] = text
    fields: dict[str, st.SearchStrategy[Any]] = {
        "model": st.one_of(
            obj_of(name=names),
            obj_of(image=names),
            st.fixed_dictionaries(
                {
                    "custom": obj_of(
                        baseImage=names, hardware=hardware(v1), modelSources=st.lists(model_source(v1), max_size=1)
                    )
                }
            ),
        ),
        "template": obj_of(name=names, allowUnoptimized=st.booleans()),
        "profile": obj_of(name=names),
        "profileOverrides": obj_of(engineArgs=st.dictionaries(names, st.integers(), max_size=2)),
        "caching": obj_of(mode=st.sampled_from(modes)),
        "overrides": obj_of(
            metric=st.sampled_from(["latency", "throughput"]), precision=precision(v1), hardware=hardware(v1)
        ),
        "replicas": st.integers(0, 5),
        "routing": obj_of(**routing),
        "runtimeConfigName": names,
    }
    if v1:
        fields["cacheModel"] = st.booleans()
    return obj_of(**fields)


def model_spec(v1: bool) -> st.SearchStrategy[dict[str, Any]]:
    types = ["optimized", "preview", "unoptimized", *([] if v1 else ["general"])]
    template = obj_of(
        name=names,
        type=st.sampled_from(types),
        hardware=hardware(v1),
        profile=obj_of(metric=st.sampled_from(["latency"]), precision=precision(v1)),
    )
    custom: dict[str, st.SearchStrategy[Any]] = {
        "hardware": hardware(v1),
        "type": st.sampled_from(types),
        "versionPolicy": st.sampled_from(["pinned", "latest", "any"]),
    }
    if v1:
        custom["templates"] = st.lists(template, max_size=2)
    return obj_of(
        image=names,
        aimId=names,
        custom=obj_of(**custom),
        customTemplates=st.lists(template, max_size=2),
        modelSources=st.lists(model_source(v1), max_size=1),
    )


def objects(kind: str, api_version: str) -> st.SearchStrategy[dict[str, Any]]:
    v1 = api_version == V1
    spec = service_spec(v1) if kind == "AIMService" else model_spec(v1)
    status = obj_of(status=st.sampled_from(["Pending", "Running"]), observedGeneration=st.integers(0, 9))
    return st.builds(
        lambda m, s, st_: {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": m,
            "spec": s,
            **({"status": st_} if st_ else {}),
        },
        metadata(),
        spec,
        status,
    )


# 1,000 examples per kind and direction keep `make test` inside its time budget;
# AIM_PROPERTY_EXAMPLES=10000 is the thorough run (docs/development.md).
PROPERTY = settings(
    max_examples=int(os.environ.get("AIM_PROPERTY_EXAMPLES", "1000")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("kind", ["AIMService", "AIMModel", "AIMClusterModel"])
@pytest.mark.parametrize("start", [V1, V2], ids=["v1alpha1-v1alpha2-v1alpha1", "v1alpha2-v1alpha1-v1alpha2"])
def test_round_trips_are_exact(kind: str, start: str) -> None:
    other = V2 if start == V1 else V1

    @PROPERTY
    @given(objects(kind, start))
    def round_trip(original: dict[str, Any]) -> None:
        there = convert(original, other)
        json.dumps(there)  # what goes over the wire must be JSON
        assert convert(there, start) == original

    round_trip()

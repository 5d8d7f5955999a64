"""What the fetch steps read for a reconcile: which objects, in which scope first, and what they
leave out. The API server is an in-memory store here (pure lookup logic); the same fetches run
against kube-apiserver in tests/integration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from api.naming import custom_model_name, overridden_template_name
from controller.cache.fetch import fetch_template_cache
from controller.common.lookup import CLUSTER, NAMESPACE
from controller.kube.client import Kube
from controller.profilecache.fetch import fetch_profile_cache
from controller.service.fetch import fetch_service, fetch_service_cleanup

NS = "team"
CLUSTER_KINDS = {
    "AIMClusterModel",
    "AIMClusterServiceTemplate",
    "AIMClusterProfile",
    "AIMClusterRuntimeConfig",
    "Node",
    "Namespace",
}


Objects = list[dict[str, Any]]


@dataclass
class StoreKube:
    """get and list over a list of objects; every read is recorded."""

    objects: Objects = field(default_factory=list)
    reads: list[tuple[str, str]] = field(default_factory=list)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        self.reads.append(("get", kind))
        return next((o for o in self._of(kind, namespace) if o["metadata"]["name"] == name), None)

    def list(self, api_version: str, kind: str, namespace: str | None = None, **_: Any) -> Objects:
        self.reads.append(("list", kind))
        return self._of(kind, namespace)

    def namespace_terminating(self, namespace: str) -> bool:
        found = self.get("v1", "Namespace", namespace)
        return found is None or bool(found["metadata"].get("deletionTimestamp"))

    def _of(self, kind: str, namespace: str | None) -> Objects:
        return [
            o
            for o in self.objects
            if o["kind"] == kind
            and (kind in CLUSTER_KINDS or namespace is None or o["metadata"]["namespace"] == namespace)
        ]


def obj(kind: str, name: str, **fields: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "uid": f"uid-{name}"}
    if kind not in CLUSTER_KINDS:
        metadata["namespace"] = fields.pop("namespace", NS)
    metadata |= fields.pop("metadata", {})
    return {"kind": kind, "metadata": metadata, **fields}


def service(**spec: Any) -> dict[str, Any]:
    return obj("AIMService", "chat", spec=spec)


def model(kind: str, name: str, **fields: Any) -> dict[str, Any]:
    """An AIMModel or AIMClusterModel (the fetch step reads it as its API model: it has a spec)."""
    return obj(kind, name, spec=fields.pop("spec", {"image": "aim:1"}), **fields)


def template(kind: str, name: str, model_name: str = "qwen") -> dict[str, Any]:
    return obj(kind, name, spec={"modelName": model_name})


def fetched(svc: dict[str, Any], *objects: dict[str, Any]) -> tuple[Any, StoreKube]:
    kube = StoreKube([*objects, obj("Namespace", NS)])
    return fetch_service(cast(Kube, kube), svc), kube


@pytest.mark.parametrize(
    ("objects", "scope"),
    [
        pytest.param([model("AIMModel", "qwen"), model("AIMClusterModel", "qwen")], NAMESPACE, id="namespace-first"),
        pytest.param([model("AIMClusterModel", "qwen")], CLUSTER, id="then-cluster"),
        pytest.param([model("AIMModel", "qwen", namespace="other")], "", id="another-namespace-does-not-count"),
    ],
)
def test_a_named_model_is_looked_up_namespace_first(objects: list[dict[str, Any]], scope: str) -> None:
    observed, _ = fetched(service(model={"name": "qwen"}), *objects)
    assert observed.model.scope == scope
    assert (observed.model.obj is not None) == bool(scope)


def test_a_model_image_counts_the_models_of_both_scopes_with_that_image() -> None:
    image = "ghcr.io/amd/aim-qwen:1"
    one = obj("AIMModel", "a", spec={"image": image})
    two = obj("AIMClusterModel", "b", spec={"image": image})
    other = obj("AIMModel", "c", spec={"image": "ghcr.io/amd/other:1"})
    observed, _ = fetched(service(model={"image": image}), one, other)
    assert (observed.models_with_image, observed.model.name) == (1, "a")
    observed, _ = fetched(service(model={"image": image}), one, two, other)
    assert observed.models_with_image == 2
    assert observed.model.obj is None  # ambiguous: the planner says so


def test_a_custom_model_is_found_by_its_derived_name() -> None:
    sources = [{"modelId": "org/m", "sourceUri": "hf://org/m"}]
    custom = {"baseImage": "base:1", "modelSources": sources, "hardware": {"gpu": {"requests": 1}}}
    name = custom_model_name("base:1", sources)
    observed, _ = fetched(service(model={"custom": custom}), model("AIMModel", name))
    assert (observed.model.name, observed.model.scope) == (name, NAMESPACE)


def test_a_named_template_with_overrides_also_reads_its_derived_copy() -> None:
    svc = service(model={"name": "qwen"}, template={"name": "t"}, overrides={"metric": "throughput"})
    derived = template("AIMServiceTemplate", overridden_template_name("t", "", "", 0, "", "throughput"))
    observed, kube = fetched(svc, model("AIMModel", "qwen"), template("AIMClusterServiceTemplate", "t"), derived)
    assert (observed.template.scope, observed.derived_template.name) == (CLUSTER, derived["metadata"]["name"])
    assert ("list", "Node") not in kube.reads  # a named template needs no GPU placement


def test_auto_selection_reads_candidates_and_nodes_only_once_the_model_is_found() -> None:
    templates = [
        template("AIMServiceTemplate", "t"),
        template("AIMClusterServiceTemplate", "ct"),
        template("AIMClusterServiceTemplate", "other", model_name="llama"),  # not parsed: not a candidate
        obj("Node", "gpu"),
    ]
    observed, _ = fetched(service(model={"name": "qwen"}), model("AIMModel", "qwen"), *templates)
    assert [t.name for t in observed.template_candidates] == ["t", "ct"]
    assert len(observed.nodes) == 1
    observed, kube = fetched(service(model={"name": "qwen"}), *templates)
    assert observed.template_candidates == []
    assert ("list", "Node") not in kube.reads


def test_a_profile_service_reads_its_profile_caches_and_config_map_not_models() -> None:
    observed, kube = fetched(
        service(profile={"name": "p"}),
        obj("AIMClusterProfile", "p", spec={"aimId": "org/m", "image": "aim:1"}),
        obj("AIMProfileCache", "pc", spec={"profileName": "p", "profileScope": "Cluster"}),
    )
    assert (observed.profile.scope, len(observed.profile_caches)) == (CLUSTER, 1)
    assert not any(kind in ("AIMModel", "AIMServiceTemplate") for _, kind in kube.reads)


@pytest.mark.parametrize(
    ("requested", "objects", "scope", "missing"),
    [
        pytest.param(None, [], "", False, id="no-default-config-is-fine"),
        pytest.param("gold", [], "", True, id="named-config-missing"),
        pytest.param(
            "gold",
            [obj("AIMRuntimeConfig", "gold", spec={}), obj("AIMClusterRuntimeConfig", "gold", spec={})],
            "Merged",
            False,
            id="both-scopes-merged",
        ),
    ],
)
def test_the_runtime_config_of_both_scopes(
    requested: str | None, objects: list[dict[str, Any]], scope: str, missing: bool
) -> None:
    observed, _ = fetched(service(model={"name": "qwen"}, runtimeConfigName=requested), *objects)
    assert (observed.runtime_config.scope, observed.runtime_config.missing) == (scope, missing)


def test_the_clean_up_of_a_service_reads_nothing_while_its_namespace_terminates() -> None:
    gone = service()
    terminating = obj("Namespace", NS, metadata={"deletionTimestamp": "2026-11-23T00:00:00Z"})
    kube = StoreKube([terminating, obj("AIMTemplateCache", "tc"), gone])
    observed = fetch_service_cleanup(cast(Kube, kube), gone)
    assert observed.namespace_terminating
    assert observed.template_caches == []
    assert [read for read in kube.reads if read[0] == "list"] == []
    kube = StoreKube([obj("Namespace", NS), obj("AIMTemplateCache", "tc"), gone])
    observed = fetch_service_cleanup(cast(Kube, kube), gone)
    assert ([c["metadata"]["name"] for c in observed.template_caches], len(observed.services)) == (["tc"], 1)


@pytest.mark.parametrize(
    ("fetch", "cache_kind", "fields", "namespaced", "cluster"),
    [
        (
            fetch_template_cache,
            "AIMTemplateCache",
            ("templateName", "templateScope"),
            "AIMServiceTemplate",
            "AIMClusterServiceTemplate",
        ),
        (fetch_profile_cache, "AIMProfileCache", ("profileName", "profileScope"), "AIMProfile", "AIMClusterProfile"),
    ],
)
@pytest.mark.parametrize("scope", ["Namespace", "Cluster"])
def test_a_cache_reads_its_source_in_the_scope_its_spec_names(
    fetch: Any, cache_kind: str, fields: tuple[str, str], namespaced: str, cluster: str, scope: str
) -> None:
    cache = obj(cache_kind, "c", spec={fields[0]: "src", fields[1]: scope})
    source_spec = {"modelName": "m"} if namespaced == "AIMServiceTemplate" else {"aimId": "org/m", "image": "aim:1"}
    sources = [obj(namespaced, "src", spec=source_spec), obj(cluster, "src", spec=source_spec)]
    artifacts = [obj("AIMArtifact", "a"), obj("AIMArtifact", "b", namespace="other")]
    for artifact in artifacts:
        artifact["spec"] = {"sourceUri": "hf://org/m"}
    kube = StoreKube([*sources, *artifacts])
    observed = fetch(cast(Kube, kube), cache)
    assert observed.source.kind == (cluster if scope == "Cluster" else namespaced)
    assert [a.name for a in observed.artifacts] == ["a"]
    assert observed.namespace_terminating is False  # only asked while the cache is deleted

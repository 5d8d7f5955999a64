"""Which events enqueue what: every watch of every kind's descriptor, as a table of events and the
keys they must put on the work queue (the watch-to-key functions of controller.watches)."""

from __future__ import annotations

from typing import Any

import kopf
import pytest

from api import labels
from controller.handlers import configure, watches_by_resource
from controller.kinds import KINDS
from controller.settings import ControllerSettings
from controller.watches import Event, ObjectKey, Resource, ServiceIndex

V1, V2 = "v1alpha1", "v1alpha2"


def obj(name: str, namespace: str = "", kind_labels: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "uid": f"uid-{name}", "labels": kind_labels or {}}
    if namespace:
        metadata["namespace"] = namespace
    metadata |= fields.pop("metadata", {})
    return {"metadata": metadata, **fields}


def owned_by(kind: str, name: str, uid: str = "") -> dict[str, Any]:
    return {"ownerReferences": [{"kind": kind, "name": name, "uid": uid or f"uid-{name}"}]}


def gpu_node(name: str = "n1", gpus: str = "8", heartbeat: str = "t0") -> dict[str, Any]:
    return obj(
        name,
        kind_labels={"amd.com/gpu.device-id": "74a1", "kubernetes.io/hostname": name},
        status={"allocatable": {"amd.com/gpu": gpus}, "conditions": [{"lastHeartbeatTime": heartbeat}]},
    )


def index() -> ServiceIndex:
    """Services chat (model qwen, auto template), pinned (template t, config gold, profile p) in
    team; other in lab; and some tracked objects of the other kinds."""
    idx = ServiceIndex()
    idx.update(obj("chat", "team", spec={"model": {"name": "qwen"}}), deleted=False)
    spec = {
        "model": {"name": "llama"},
        "template": {"name": "t"},
        "runtimeConfigName": "gold",
        "profile": {"name": "p"},
    }
    idx.update(obj("pinned", "team", spec=spec), deleted=False)
    idx.update(obj("other", "lab", spec={"model": {"name": "qwen"}}), deleted=False)
    for key in [
        ("AIMServiceTemplate", "team", "t"),
        ("AIMServiceTemplate", "lab", "t2"),
        ("AIMClusterServiceTemplate", "", "ct"),
        ("AIMTemplateCache", "team", "tc"),
        ("AIMTemplateCache", "lab", "tc2"),
        ("AIMArtifact", "team", "a"),
        ("AIMModel", "team", "qwen"),
        ("AIMClusterModel", "", "cm"),
        ("AIMProfile", "team", "p"),
        ("AIMClusterProfile", "", "cp"),
        ("AIMProfileCache", "team", "pc"),
        ("AIMProfileSet", "team", "ps"),
        ("AIMProfileSet", "lab", "ps2"),
        ("AIMClusterProfileSet", "", "cps"),
    ]:
        idx.track(key, deleted=False)
    return idx


def svc(name: str, namespace: str = "team") -> ObjectKey:
    return ("AIMService", namespace, name)


ALL_TEMPLATES = [("AIMServiceTemplate", "team", "t"), ("AIMServiceTemplate", "lab", "t2")]
CLUSTER_TEMPLATE = ("AIMClusterServiceTemplate", "", "ct")
ISVC = Resource(labels.KSERVE_GROUP, "v1beta1", "inferenceservices", ((labels.MANAGED_BY, labels.MANAGED_BY_VALUE),))
ARTIFACT_JOBS = Resource("batch", "v1", "jobs", ((labels.CACHE_TYPE, labels.CACHE_TYPE_ARTIFACT),))
DISCOVERY_JOBS = Resource("batch", "v1", "jobs", ((labels.COMPONENT, labels.COMPONENT_DISCOVERY),))


def aim(plural: str, version: str) -> Resource:
    return Resource(labels.GROUP, version, plural)


CASES: list[tuple[str, Resource, dict[str, Any], bool, set[ObjectKey]]] = [
    ("a service itself", aim("aimservices", V2), obj("chat", "team"), False, {svc("chat")}),
    (
        "a deleted service: the caches of its namespace (one may be abandoned)",
        aim("aimservices", V2),
        obj("chat", "team"),
        True,
        {("AIMTemplateCache", "team", "tc"), ("AIMProfileCache", "team", "pc")},
    ),
    (
        "a service being deleted: itself, and the caches of its namespace",
        aim("aimservices", V2),
        obj("chat", "team", metadata={"deletionTimestamp": "2026-11-23T00:00:00Z"}),
        False,
        {svc("chat"), ("AIMTemplateCache", "team", "tc"), ("AIMProfileCache", "team", "pc")},
    ),
    (
        "a cache: the artifacts it lists",
        aim("aimtemplatecaches", V1),
        obj("tc", "team", status={"artifacts": {"a": {"name": "a", "uid": "u"}}}),
        False,
        {("AIMTemplateCache", "team", "tc"), ("AIMArtifact", "team", "a"), svc("chat"), svc("pinned")},
    ),
    (
        "an InferenceService: the owning service",
        ISVC,
        obj("chat-1", "team", metadata=owned_by("AIMService", "chat")),
        False,
        {svc("chat")},
    ),
    (
        "a namespaced model: its namespace's services and templates, every cluster template, itself",
        aim("aimmodels", V2),
        obj("qwen", "team"),
        False,
        {
            svc("chat"),
            svc("pinned"),
            ("AIMServiceTemplate", "team", "t"),
            CLUSTER_TEMPLATE,
            ("AIMModel", "team", "qwen"),
        },
    ),
    (
        "a cluster model: services naming it, every template, its source",
        aim("aimclustermodels", V2),
        obj("qwen", kind_labels={labels.MODEL_SOURCE: "src"}),
        False,
        {
            svc("chat"),
            svc("other", "lab"),
            *ALL_TEMPLATES,
            CLUSTER_TEMPLATE,
            ("AIMClusterModelSource", "", "src"),
            ("AIMClusterModel", "", "qwen"),
        },
    ),
    (
        "a namespaced template: its namespace's services and caches, its owning model",
        aim("aimservicetemplates", V1),
        obj("t", "team", metadata=owned_by("AIMModel", "qwen")),
        False,
        {
            svc("chat"),
            svc("pinned"),
            ("AIMTemplateCache", "team", "tc"),
            ("AIMModel", "team", "qwen"),
            ("AIMServiceTemplate", "team", "t"),
        },
    ),
    (
        "a user's namespaced template: the model it names in its namespace (not a cluster model)",
        aim("aimservicetemplates", V1),
        obj("t", "team", spec={"modelName": "qwen"}),
        False,
        {
            svc("chat"),
            svc("pinned"),
            ("AIMTemplateCache", "team", "tc"),
            ("AIMModel", "team", "qwen"),
            ("AIMServiceTemplate", "team", "t"),
        },
    ),
    (
        "a user's cluster template: the cluster model it names (not a namespaced model)",
        aim("aimclusterservicetemplates", V1),
        obj("ct", spec={"modelName": "cm"}),
        False,
        {
            svc("chat"),
            svc("pinned"),
            svc("other", "lab"),
            ("AIMTemplateCache", "team", "tc"),
            ("AIMTemplateCache", "lab", "tc2"),
            ("AIMClusterModel", "", "cm"),
            CLUSTER_TEMPLATE,
        },
    ),
    (
        "a cluster template of an AIM family: every service, cache and model",
        aim("aimclusterservicetemplates", V1),
        obj("ct", spec={"aimId": "qwen/qwen3"}),
        False,
        {
            svc("chat"),
            svc("pinned"),
            svc("other", "lab"),
            ("AIMTemplateCache", "team", "tc"),
            ("AIMTemplateCache", "lab", "tc2"),
            ("AIMModel", "team", "qwen"),
            ("AIMClusterModel", "", "cm"),
            CLUSTER_TEMPLATE,
        },
    ),
    (
        "a template cache: its namespace's services",
        aim("aimtemplatecaches", V1),
        obj("tc", "team", status={"status": "Ready"}),
        False,
        {svc("chat"), svc("pinned"), ("AIMTemplateCache", "team", "tc")},
    ),
    (
        "an artifact: the caches naming or owning it",
        aim("aimartifacts", V1),
        obj("a", "team", kind_labels={labels.TEMPLATE_CACHE: "tc"}, metadata=owned_by("AIMProfileCache", "pc")),
        False,
        {("AIMTemplateCache", "team", "tc"), ("AIMProfileCache", "team", "pc"), ("AIMArtifact", "team", "a")},
    ),
    (
        "a profile: the services using it, its namespace's profile caches and profile sets",
        aim("aimprofiles", V2),
        obj("p", "team"),
        False,
        {
            svc("pinned"),
            ("AIMProfileCache", "team", "pc"),
            ("AIMProfile", "team", "p"),
            ("AIMProfileSet", "team", "ps"),
        },
    ),
    (
        "a cluster profile: every profile set (namespaced ones fall back to the cluster's)",
        aim("aimclusterprofiles", V2),
        obj("cp"),
        False,
        {
            ("AIMClusterProfile", "", "cp"),
            ("AIMProfileCache", "team", "pc"),
            ("AIMProfileSet", "team", "ps"),
            ("AIMProfileSet", "lab", "ps2"),
            ("AIMClusterProfileSet", "", "cps"),
        },
    ),
    (
        "a profile a set derived: only that set among the sets",
        aim("aimprofiles", V2),
        obj("d", "team", metadata=owned_by("AIMProfileSet", "ps")),
        False,
        {("AIMProfileCache", "team", "pc"), ("AIMProfile", "team", "d"), ("AIMProfileSet", "team", "ps")},
    ),
    (
        "a cluster profile a cluster set derived: only that set among the sets",
        aim("aimclusterprofiles", V2),
        obj("dc", metadata=owned_by("AIMClusterProfileSet", "cps")),
        False,
        {("AIMClusterProfile", "", "dc"), ("AIMProfileCache", "team", "pc"), ("AIMClusterProfileSet", "", "cps")},
    ),
    (
        "a deleted derived profile: the set owning it (to count and recreate it)",
        aim("aimprofiles", V2),
        obj("d", "team", metadata=owned_by("AIMProfileSet", "ps")),
        True,
        {("AIMProfileCache", "team", "pc"), ("AIMProfileSet", "team", "ps")},
    ),
    (
        "a profile cache: the services of its profile, the owning profile",
        aim("aimprofilecaches", V2),
        obj("pc", "team", spec={"profileName": "p"}, metadata=owned_by("AIMProfile", "p")),
        False,
        {svc("pinned"), ("AIMProfile", "team", "p"), ("AIMProfileCache", "team", "pc")},
    ),
    (
        "a namespaced runtime config: services naming it, what resolves configs in its namespace",
        aim("aimruntimeconfigs", V1),
        obj("gold", "team"),
        False,
        {
            svc("pinned"),
            ("AIMServiceTemplate", "team", "t"),
            ("AIMTemplateCache", "team", "tc"),
            ("AIMArtifact", "team", "a"),
            ("AIMModel", "team", "qwen"),
            CLUSTER_TEMPLATE,
            ("AIMClusterModel", "", "cm"),
        },
    ),
    (
        "the cluster's default runtime config: services without a config name, everything resolving one",
        aim("aimclusterruntimeconfigs", V1),
        obj("default"),
        False,
        {
            svc("chat"),
            svc("other", "lab"),
            *ALL_TEMPLATES,
            ("AIMTemplateCache", "team", "tc"),
            ("AIMTemplateCache", "lab", "tc2"),
            ("AIMArtifact", "team", "a"),
            ("AIMModel", "team", "qwen"),
            CLUSTER_TEMPLATE,
            ("AIMClusterModel", "", "cm"),
        },
    ),
    (
        "a namespaced template's discovery Job: the template",
        DISCOVERY_JOBS,
        obj("d", "team", metadata=owned_by("AIMServiceTemplate", "t")),
        False,
        {("AIMServiceTemplate", "team", "t")},
    ),
    (
        "a cluster template's discovery Job: the template its label names",
        DISCOVERY_JOBS,
        obj("d", "aim-system", kind_labels={labels.TEMPLATE: "ct"}),
        False,
        {CLUSTER_TEMPLATE},
    ),
    (
        "an artifact's download Job: the artifact",
        ARTIFACT_JOBS,
        obj("j", "team", metadata=owned_by("AIMArtifact", "a")),
        False,
        {("AIMArtifact", "team", "a")},
    ),
    (
        "a GPU node: auto-selecting services, every template and profile",
        Resource("", "v1", "nodes"),
        gpu_node(),
        False,
        {
            svc("chat"),
            svc("other", "lab"),
            *ALL_TEMPLATES,
            CLUSTER_TEMPLATE,
            ("AIMProfile", "team", "p"),
            ("AIMClusterProfile", "", "cp"),
        },
    ),
]


def keys_for(
    resource: Resource, body: dict[str, Any], deleted: bool, idx: ServiceIndex, grouped: Any
) -> set[ObjectKey]:
    return {key for watch in grouped[resource] for key in watch.keys(Event(body, deleted), idx)}


@pytest.mark.parametrize(("case", "resource", "body", "deleted", "expected"), CASES, ids=[c[0] for c in CASES])
def test_event_enqueues(
    case: str, resource: Resource, body: dict[str, Any], deleted: bool, expected: set[ObjectKey]
) -> None:
    idx = index()
    assert keys_for(resource, body, deleted, idx, watches_by_resource(KINDS, idx)) == expected


def test_repeated_node_heartbeats_enqueue_nothing_but_a_gpu_change_does() -> None:
    idx = index()
    grouped = watches_by_resource(KINDS, idx)
    nodes = Resource("", "v1", "nodes")
    assert keys_for(nodes, gpu_node(heartbeat="t0"), False, idx, grouped)
    assert keys_for(nodes, gpu_node(heartbeat="t1"), False, idx, grouped) == set()
    assert svc("chat") in keys_for(nodes, gpu_node(gpus="4"), False, idx, grouped)
    assert keys_for(nodes, gpu_node(gpus="4"), True, idx, grouped)  # a node going away matters


def test_cache_progress_writes_do_not_enqueue_services_again() -> None:
    idx = index()
    grouped = watches_by_resource(KINDS, idx)
    caches = aim("aimtemplatecaches", V1)
    downloading = obj("tc", "team", status={"status": "Progressing", "progress": "10%"})
    assert svc("chat") in keys_for(caches, downloading, False, idx, grouped)
    further = obj("tc", "team", status={"status": "Progressing", "progress": "20%"})
    assert keys_for(caches, further, False, idx, grouped) == {("AIMTemplateCache", "team", "tc")}


def test_own_events_keep_the_index_current() -> None:
    idx = ServiceIndex()
    grouped = watches_by_resource(KINDS, idx)
    keys_for(aim("aimservices", V2), obj("chat", "team", spec={"model": {"name": "qwen"}}), False, idx, grouped)
    keys_for(aim("aimprofiles", V2), obj("p", "team"), False, idx, grouped)
    assert idx.all_keys() == [svc("chat"), ("AIMProfile", "team", "p")]
    keys_for(aim("aimservices", V2), obj("chat", "team"), True, idx, grouped)
    keys_for(aim("aimprofiles", V2), obj("p", "team"), True, idx, grouped)
    assert idx.all_keys() == []


def test_a_service_without_a_config_name_refers_to_the_default_one() -> None:
    idx = index()
    assert idx.matching("team", runtime_config="default") == [svc("chat")]


def test_kopf_is_configured_from_the_controller_settings() -> None:
    """Watch timeouts, the finalizer kopf itself would use, and how long kopf keeps an idle
    object's task (1 s instead of 5: at 1,000 services those tasks were 20 MiB of the peak)."""
    settings = kopf.OperatorSettings()
    configure(settings, ControllerSettings(watch_server_timeout=12, watch_idle_seconds=0.5))
    assert settings.watching.server_timeout == 12
    assert settings.queueing.idle_timeout == 0.5
    assert settings.persistence.finalizer == labels.KOPF_FINALIZER
    assert ControllerSettings().watch_idle_seconds == 1.0


@pytest.mark.parametrize(
    ("group", "version", "plural", "label_selector", "field_selector"),
    [
        ("", "v1", "pods", f"{labels.MANAGED_BY}={labels.MANAGED_BY_VALUE}", ""),
        ("serving.kserve.io", "v1beta1", "inferenceservices", f"{labels.MANAGED_BY}={labels.MANAGED_BY_VALUE}", ""),
        ("", "v1", "persistentvolumeclaims", "aim.eai.amd.com/cache.type=artifact", ""),
        ("", "v1", "events", "", "involvedObject.kind=InferenceService,type=Warning"),
        ("events.k8s.io", "v1", "events", None, None),  # not watched
        ("batch", "v1", "jobs", None, None),  # watched through four different filters: kopf filters
        ("", "v1", "nodes", None, None),  # watched in full
        ("aim.eai.amd.com", "v1alpha2", "aimservices", None, None),
    ],
)
def test_the_api_server_filters_what_every_watch_of_a_resource_filters_alike(
    group: str, version: str, plural: str, label_selector: str | None, field_selector: str | None
) -> None:
    """The controller is sent only the pods, PVCs and InferenceServices it made and KServe's
    Warnings, not every one in the cluster (kopf would otherwise filter them after receiving
    them all)."""
    settings = kopf.OperatorSettings()
    configure(settings, ControllerSettings(), KINDS)
    resource = kopf.Resource(
        group, version, plural, namespaced=True, preferred=True, verbs=frozenset({"list", "watch"})
    )
    assert settings.watching.label_selectors.collect(resource) == ([label_selector] if label_selector else [])
    assert settings.watching.field_selectors.collect(resource) == ([field_selector] if field_selector else [])

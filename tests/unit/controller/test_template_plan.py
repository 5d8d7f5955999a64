"""plan_template and its parts: a template, its model, the cluster's GPU nodes and the discovery
Job in; status, the discovery Job and the template-owned cache out (no API server)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from api.quantity import GIB
from api.stored import read_model, read_template
from api.v1alpha1.common import HardwareRequirements
from controller.common.lookup import CLUSTER, NAMESPACE, Found
from controller.common.runtimeconfig import resolve_runtime_config
from controller.pipeline.plan import Plan
from controller.template.observe import TemplateObservation
from controller.template.plan import (
    discovery_backoff,
    discovery_job_name,
    gpu_component,
    hardware_summary,
    may_start_discovery,
    model_component,
    model_version,
    parse_discovery_output,
    plan_template,
)
from devcluster.nodes import FakeNode
from tests.builders import condition, conditions, status_of

NOW = "2026-11-23T12:00:00Z"
LATER = "2026-11-23T12:05:00Z"
V1 = "aim.eai.amd.com/v1alpha1"
IMAGE = "registry.local/amdenterpriseai/aim-qwen3-32b:0.9.0"
MI300X_IDS = ["74a1", "74a9", "74b5", "74bd"]
MI350X_IDS = ["75a0", "75b0"]
SOURCES = [{"modelId": "Qwen/Qwen3-32B", "sourceUri": "hf://Qwen/Qwen3-32B", "size": "64Gi"}]


def gpu_node(name: str, model: str = "", count: int = 8, unschedulable: bool = False) -> dict[str, Any]:
    """A Node as the local dev cluster registers it (device-id and vram labels, amd.com/gpu)."""
    manifest = FakeNode(name=name, gpu_model=model, gpu_count=count if model else 0).manifest()
    if unschedulable:
        manifest["spec"]["unschedulable"] = True
    return manifest


NODES = [gpu_node("mi300x", "MI300X"), gpu_node("mi350x", "MI350X"), gpu_node("mi250x", "MI250X"), gpu_node("cpu")]


def template(
    kind: str = "AIMServiceTemplate", status: dict[str, Any] | None = None, name: str = "qwen-mi300x", **spec: Any
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "uid": "t-1", "generation": 2}
    if kind == "AIMServiceTemplate":
        metadata["namespace"] = "team"
    defaults: dict[str, Any] = {
        "modelName": "qwen",
        "metric": "latency",
        "precision": "fp8",
        "hardware": {"gpu": {"models": ["MI300X"], "requests": 1}},
    }
    obj: dict[str, Any] = {"apiVersion": V1, "kind": kind, "metadata": metadata, "spec": defaults | spec}
    if status is not None:
        obj["status"] = status
    return obj


def model(kind: str = "AIMModel", state: str = "Ready", **spec: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "qwen", "uid": "m-1"}
    if kind == "AIMModel":
        metadata["namespace"] = "team"
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha2",
        "kind": kind,
        "metadata": metadata,
        "spec": {"image": IMAGE} | spec,
        "status": {"status": state},
    }


def observe(tpl: dict[str, Any] | None = None, **fields: Any) -> TemplateObservation:
    """The observation of `tpl` (dicts as the API server sends them, read as the fetch step does)."""
    tpl = tpl or template()
    scope = CLUSTER if tpl["kind"] == "AIMClusterServiceTemplate" else NAMESPACE
    defaults: dict[str, Any] = {
        "runtime_config": resolve_runtime_config(None, None, None),
        "model": Found(model("AIMClusterModel" if scope == CLUSTER else "AIMModel"), scope),
        "nodes": NODES,
    }
    fields = defaults | fields
    found = fields["model"]
    fields["model"] = Found(read_model(found.obj), found.scope) if found.obj is not None else found
    return TemplateObservation(template=read_template(tpl), **fields)


def job(state: str = "") -> dict[str, Any]:
    status = {"conditions": [{"type": state, "status": "True"}]} if state else {"active": 1}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "discover"}, "status": status}


def discovery_log(*entries: dict[str, Any], before: str = "", after: str = "") -> str:
    return before + json.dumps(list(entries)) + after


DISCOVERED = {
    "filename": "vllm-mi300x-fp8-tp1-latency.yaml",
    "profile": {
        "model": "Qwen/Qwen3-32B",
        "metadata": {"engine": "vllm", "gpu": "MI300X", "precision": "fp8", "gpu_count": 1, "metric": "latency"},
        "engine_args": {"max-model-len": 32768},
        "env_vars": {"VLLM_USE_V1": "1"},
    },
    "models": [{"name": "Qwen/Qwen3-32B", "source": "hf://Qwen/Qwen3-32B", "size_gb": 2}],
}


# --- GPUReady -------------------------------------------------------------------------------------

GPU_CASES = [
    pytest.param({}, NODES, None, [], id="no-gpu-requirement"),
    pytest.param(
        {"models": ["MI300X"], "requests": 1},
        NODES,
        ("Ready", "GPUAvailable", "MI300X"),
        MI300X_IDS,
        id="model-present",
    ),
    pytest.param({"model": "MI300X"}, NODES, ("Ready", "GPUAvailable", "MI300X"), MI300X_IDS, id="legacy-model-field"),
    pytest.param(
        {"models": ["Instinct-MI300X"]}, NODES, ("Ready", "GPUAvailable", "MI300X"), MI300X_IDS, id="model-normalised"
    ),
    pytest.param(
        {"models": ["MI325X", "MI300X"]},
        NODES,
        ("Ready", "GPUAvailable", "MI300X"),
        sorted(["74a5", "74b9", *MI300X_IDS]),
        id="one-of-several-models-present",
    ),
    pytest.param(
        {"models": ["MI325X"]},
        NODES,
        ("NotAvailable", "GPUNotAvailable", "Required GPU model 'MI325X' not available in cluster. "),
        [],
        id="model-absent",
    ),
    pytest.param(
        {"models": ["MI300X"]},
        [gpu_node("mi300x", "MI300X", unschedulable=True), gpu_node("mi350x", "MI350X")],
        ("NotAvailable", "GPUNotAvailable", "Available: MI350X"),
        [],
        id="unschedulable-node-ignored",
    ),
    pytest.param(
        {"models": ["MI300X"]},
        [gpu_node("cpu")],
        ("NotAvailable", "GPUNotAvailable", "Available: none"),
        [],
        id="model-without-gpu-nodes",
    ),
    pytest.param(
        {"minVram": "192Gi", "requests": 1},
        NODES,
        ("Ready", "GPUAvailable", "MI300X, MI350X"),
        sorted(MI300X_IDS + MI350X_IDS),
        id="min-vram-fits-exactly-and-above",
    ),
    pytest.param(
        {"minVram": "200G"},
        [gpu_node("mi300x", "MI300X")],
        ("Ready", "GPUAvailable", "MI300X"),
        MI300X_IDS,
        id="min-vram-decimal-below-192-gib",
    ),
    pytest.param(
        {"minVram": "300Gi"},
        NODES,
        ("NotAvailable", "VRAMNotAvailable", "Required minimum VRAM (300Gi) exceeds available GPUs"),
        [],
        id="min-vram-does-not-fit",
    ),
    pytest.param(
        {"minVram": "128Gi"},
        [gpu_node("mi350x", "MI350X", unschedulable=True), gpu_node("mi250x", "MI250X")],
        ("Ready", "GPUAvailable", "MI250X"),
        ["7408", "740c"],
        id="min-vram-unschedulable-node-ignored",
    ),
    pytest.param(
        {"minVram": "lots"},
        NODES,
        ("Failed", "GPUCheckFailed", "minVram 'lots' is not a quantity"),
        [],
        id="min-vram-not-a-quantity",
    ),
    pytest.param(
        {"requests": 2}, NODES, ("Ready", "GPUAvailable", "MI250X, MI300X, MI350X"), [], id="requests-only-any-gpu"
    ),
    pytest.param(
        {"requests": 2},
        [gpu_node("cpu-1"), gpu_node("cpu-2")],
        ("NotAvailable", "GPUNotAvailable", "No AMD GPU in the cluster"),
        [],
        id="requests-only-no-gpu-nodes",
    ),
    pytest.param(
        {"requests": 1},
        [gpu_node("mi300x", "MI300X", unschedulable=True)],
        ("NotAvailable", "GPUNotAvailable", "No AMD GPU in the cluster"),
        [],
        id="requests-only-unschedulable-gpu-node",
    ),
]


@pytest.mark.parametrize(("gpu", "nodes", "expected", "device_ids"), GPU_CASES)
def test_gpu_component(
    gpu: dict[str, Any], nodes: list[dict[str, Any]], expected: tuple[str, str, str] | None, device_ids: list[str]
) -> None:
    component, ids = gpu_component(read_template(template(hardware={"gpu": gpu} if gpu else None)), nodes)
    assert ids == device_ids
    if expected is None:
        assert component is None
        return
    assert component is not None
    assert component.condition == "GPUReady"
    assert (component.state, component.reason) == expected[:2]
    assert expected[2] in component.message


def test_min_vram_compares_the_vram_label_as_gibibytes() -> None:
    """The node labeller writes `192G` for 192 GiB: a 192Gi floor fits, a byte more does not."""
    node = gpu_node("mi300x", "MI300X")
    assert node["metadata"]["labels"]["amd.com/gpu.vram"] == "192G"
    fits, _ = gpu_component(read_template(template(hardware={"gpu": {"minVram": str(192 * GIB)}})), [node])
    short, _ = gpu_component(read_template(template(hardware={"gpu": {"minVram": str(192 * GIB + 1)}})), [node])
    assert fits is not None
    assert fits.state == "Ready"
    assert short is not None
    assert short.state == "NotAvailable"


# --- hardware summary -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hardware", "summary"),
    [
        pytest.param(None, None, id="none"),
        pytest.param({}, None, id="empty"),
        pytest.param({"gpu": {"models": ["MI300X"], "requests": 2}}, "2 x MI300X", id="count-and-model"),
        pytest.param({"gpu": {"models": ["MI300X", "MI325X"], "requests": 1}}, "1 x MI300X", id="first-model"),
        pytest.param({"gpu": {"model": "MI250X", "requests": 4}}, "4 x MI250X", id="legacy-model-field"),
        pytest.param({"gpu": {"models": ["MI300X"]}}, "MI300X", id="model-only"),
        pytest.param({"gpu": {"requests": 4}}, "4 x GPU", id="count-only"),
        pytest.param({"cpu": {"requests": "16"}}, "CPU", id="cpu"),
        pytest.param(
            {"gpu": {"models": ["MI300X"], "requests": 1}, "cpu": {"requests": "4"}}, "1 x MI300X", id="gpu-wins"
        ),
    ],
)
def test_hardware_summary(hardware: dict[str, Any] | None, summary: str | None) -> None:
    typed = None if hardware is None else HardwareRequirements.model_validate(hardware)
    assert hardware_summary(typed) == summary


# --- discovery output -----------------------------------------------------------------------------

EXPECTED_SOURCES = [{"modelId": "Qwen/Qwen3-32B", "sourceUri": "hf://Qwen/Qwen3-32B", "size": "2Gi"}]


def entry(name: str = "Qwen/Qwen3-32B", **model_fields: Any) -> dict[str, Any]:
    return {"models": [{"name": name, "source": f"hf://{name}"} | model_fields]}


PARSE_CASES = [
    pytest.param(discovery_log(DISCOVERED), EXPECTED_SOURCES, id="one-array"),
    pytest.param(
        discovery_log(DISCOVERED, before="[INFO] starting dry run\nloading [profiles]\n", after="\n[INFO] done\n"),
        EXPECTED_SOURCES,
        id="log-lines-with-brackets-around",
    ),
    pytest.param(
        discovery_log(entry("first/model")) + "\n" + discovery_log(entry("second/model")),
        [{"modelId": "second/model", "sourceUri": "hf://second/model"}],
        id="last-top-level-array-wins",
    ),
    pytest.param(
        discovery_log(entry("outer/model", tags=[{"name": "inner", "source": "hf://inner"}])),
        [{"modelId": "outer/model", "sourceUri": "hf://outer/model"}],
        id="nested-arrays-ignored",
    ),
    pytest.param(
        discovery_log(entry("real/model")) + "\n[]\n[1, 2]\n",
        [{"modelId": "real/model", "sourceUri": "hf://real/model"}],
        id="later-empty-or-scalar-arrays-are-not-results",
    ),
    pytest.param(
        discovery_log(entry(size_gb=1.5)),
        [{"modelId": "Qwen/Qwen3-32B", "sourceUri": "hf://Qwen/Qwen3-32B", "size": "1536Mi"}],
        id="fractional-size-gb-as-a-quantity",
    ),
    pytest.param(
        discovery_log(entry(size_gb=0)),
        [{"modelId": "Qwen/Qwen3-32B", "sourceUri": "hf://Qwen/Qwen3-32B"}],
        id="zero-size-left-out",
    ),
    pytest.param(
        discovery_log(
            {"models": [{"name": "a/b"}, {"source": "hf://c/d"}, {"name": "e/f", "source": "s3://bucket/e-f"}]}
        ),
        [{"modelId": "e/f", "sourceUri": "s3://bucket/e-f"}],
        id="models-without-name-or-source-skipped",
    ),
    pytest.param(discovery_log({"profile": {}}), [], id="entry-without-models"),
]


@pytest.mark.parametrize(("log", "sources"), PARSE_CASES)
def test_parse_discovery_output(log: str, sources: list[dict[str, Any]]) -> None:
    parsed = parse_discovery_output(log)
    assert parsed is not None
    assert parsed[0] == sources


@pytest.mark.parametrize(
    "log",
    [
        pytest.param("", id="empty"),
        pytest.param("Traceback (most recent call last):\n  boom", id="no-array"),
        pytest.param('{"models": []}', id="object-not-array"),
        pytest.param("[not json", id="broken-array"),
        pytest.param("[]", id="empty-array"),
        pytest.param('["a", "b"]', id="array-of-strings"),
        pytest.param("[INFO] [WARN] [[[", id="garbage-brackets"),
    ],
)
def test_parse_discovery_output_without_result(log: str) -> None:
    assert parse_discovery_output(log) is None


def test_discovery_profile() -> None:
    parsed = parse_discovery_output(discovery_log(DISCOVERED))
    assert parsed is not None
    assert parsed[1] == {
        "engine_args": {"max-model-len": 32768},
        "env_vars": {"VLLM_USE_V1": "1"},
        "metadata": {"engine": "vllm", "gpu": "MI300X", "gpuCount": 1, "metric": "latency", "precision": "fp8"},
        "originalDiscoveryOutput": DISCOVERED,
    }


def test_discovery_profile_leaves_out_what_was_not_printed() -> None:
    parsed = parse_discovery_output(discovery_log(entry()))
    assert parsed is not None
    assert parsed[1] == {"metadata": {}, "originalDiscoveryOutput": entry()}


# --- discovery Job name ---------------------------------------------------------------------------


def test_discovery_job_name_is_stable() -> None:
    assert discovery_job_name(template(), IMAGE) == discovery_job_name(copy.deepcopy(template()), IMAGE)
    assert discovery_job_name(template(), IMAGE).startswith("discover-qwen-mi300x-")


@pytest.mark.parametrize(
    ("changed", "image"),
    [
        pytest.param({"precision": "fp16"}, IMAGE, id="precision"),
        pytest.param({"metric": "throughput"}, IMAGE, id="metric"),
        pytest.param({"env": [{"name": "A", "value": "1"}]}, IMAGE, id="env"),
        pytest.param({"profileId": "vllm-mi300x"}, IMAGE, id="profile-id"),
        pytest.param({"hardware": {"gpu": {"models": ["MI350X"], "requests": 1}}}, IMAGE, id="gpu-model"),
        pytest.param({"hardware": {"gpu": {"models": ["MI300X"], "requests": 2}}}, IMAGE, id="gpu-count"),
        pytest.param({"serviceAccountName": "runner"}, IMAGE, id="service-account"),
        pytest.param({"imagePullSecrets": [{"name": "pull"}]}, IMAGE, id="pull-secrets"),
        pytest.param({"modelName": "other"}, IMAGE, id="model-name"),
        pytest.param({}, IMAGE.replace("0.9.0", "0.9.1"), id="model-image"),
    ],
)
def test_discovery_job_name_changes_with_what_discovery_reads(changed: dict[str, Any], image: str) -> None:
    assert discovery_job_name(template(**changed), image) != discovery_job_name(template(), IMAGE)


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param({"caching": {"enabled": True}}, id="caching"),
        pytest.param({"runtimeConfigName": "fast"}, id="runtime-config"),
        pytest.param({"hardware": {"gpu": {"models": ["MI300X"], "requests": 1, "minVram": "1Gi"}}}, id="min-vram"),
    ],
)
def test_discovery_job_name_ignores_what_discovery_does_not_read(changed: dict[str, Any]) -> None:
    assert discovery_job_name(template(**changed), IMAGE) == discovery_job_name(template(), IMAGE)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("a" * 253, id="very-long"),
        pytest.param("Qwen3.32B_MI300X." + "x" * 60, id="dots-capitals-underscores"),
        pytest.param("x" * 44 + "-" + "y" * 40, id="dash-at-the-cut"),
    ],
)
def test_discovery_job_name_is_a_short_dns_label(name: str) -> None:
    job_name = discovery_job_name(template(name=name), IMAGE)
    assert len(job_name) <= 63
    assert all(c.islower() or c.isdigit() or c == "-" for c in job_name)
    assert "--" not in job_name
    assert not job_name.endswith("-")


# --- ModelReady -----------------------------------------------------------------------------------


def failing_model(*failing: str, kind: str = "AIMModel", state: str = "Failed") -> dict[str, Any]:
    obj = model(kind, state=state)
    stamp = {"reason": "Test", "lastTransitionTime": NOW}
    obj["status"]["conditions"] = [{"type": t, "status": "False"} | stamp for t in (*failing, "Ready")] + [
        {"type": "RuntimeConfigReady", "status": "True"} | stamp
    ]
    return obj


MODEL_CASES = [
    pytest.param("AIMServiceTemplate", Found(None), ("ModelReady", "Pending", "ModelNotFound"), id="missing"),
    pytest.param(
        "AIMClusterServiceTemplate",
        Found(None),
        ("ClusterModelReady", "Pending", "ClusterModelNotFound"),
        id="cluster-missing",
    ),
    pytest.param("AIMServiceTemplate", Found(model(), NAMESPACE), ("ModelReady", "Ready", "ModelFound"), id="ready"),
    pytest.param(
        "AIMServiceTemplate",
        Found(model(state="Progressing"), NAMESPACE),
        ("ModelReady", "Ready", "ModelFound"),
        id="model-waiting-is-enough",
    ),
    pytest.param(
        "AIMServiceTemplate",
        Found(failing_model("ServiceTemplatesReady"), NAMESPACE),
        ("ModelReady", "Ready", "ModelFound"),
        id="failed-only-for-its-templates",
    ),
    pytest.param(
        "AIMClusterServiceTemplate",
        Found(failing_model("ClusterServiceTemplatesReady", kind="AIMClusterModel"), CLUSTER),
        ("ClusterModelReady", "Ready", "ClusterModelFound"),
        id="cluster-model-failed-only-for-its-templates",
    ),
    pytest.param(
        "AIMServiceTemplate",
        Found(failing_model("ImageMetadataReady", "ServiceTemplatesReady"), NAMESPACE),
        ("ModelReady", "Failed", "ModelFailed"),
        id="failed-for-its-image",
    ),
    pytest.param(
        "AIMServiceTemplate",
        Found(failing_model("ImageMetadataReady", state="Degraded"), NAMESPACE),
        ("ModelReady", "Degraded", "ModelFailed"),
        id="degraded-for-its-missing-base-image",
    ),
    pytest.param(
        "AIMClusterServiceTemplate",
        Found(failing_model("RuntimeConfigReady", kind="AIMClusterModel", state="Degraded"), CLUSTER),
        ("ClusterModelReady", "Degraded", "ClusterModelFailed"),
        id="cluster-model-degraded-for-its-config",
    ),
    pytest.param(
        "AIMServiceTemplate",
        Found(failing_model("ServiceTemplatesReady", state="Degraded"), NAMESPACE),
        ("ModelReady", "Ready", "ModelFound"),
        id="degraded-only-for-its-templates",
    ),
    pytest.param(
        "AIMServiceTemplate",
        Found(failing_model("DependenciesReachable", state="Degraded"), NAMESPACE),
        ("ModelReady", "Ready", "ModelFound"),
        id="not-a-component-condition-as-upstream",
    ),
]


@pytest.mark.parametrize(("kind", "found", "expected"), MODEL_CASES)
def test_model_component(kind: str, found: Found[dict[str, Any]], expected: tuple[str, str, str]) -> None:
    component = model_component(observe(template(kind), model=found))
    assert (component.condition, component.state, component.reason) == expected


# --- plan_template --------------------------------------------------------------------------------


def test_inline_model_sources_are_ready_without_discovery() -> None:
    plan = plan_template(observe(template(modelSources=SOURCES)), NOW)
    status = status_of(plan)
    assert status["status"] == "Ready"
    assert conditions(status)["Discovered"] == ("True", "InlineModelSources")
    assert condition(status, "Discovered")["message"] == "Model sources provided in-line in spec"  # upstream's
    assert status["modelSources"] == SOURCES
    assert status["profile"] == {"metadata": {"gpu": "MI300X", "gpuCount": 1, "metric": "latency", "precision": "fp8"}}
    assert "discoveryJob" not in status
    assert plan.apply == []
    assert plan.events == []


def test_ready_status_fields() -> None:
    status = status_of(plan_template(observe(template(modelSources=SOURCES)), NOW))
    assert status["observedGeneration"] == 2
    assert status["resolvedModel"] == {"name": "qwen", "scope": "Namespace", "namespace": "team", "kind": "AIMModel"}
    assert status["resolvedHardware"] == {"gpu": {"models": ["MI300X"], "requests": 1}}
    assert status["hardwareSummary"] == "1 x MI300X"
    assert status["resolvedNodeAffinity"] == {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "amd.com/gpu.device-id", "operator": "In", "values": MI300X_IDS}]}
            ]
        }
    }
    assert conditions(status) == {
        "RuntimeConfigReady": ("True", "DefaultConfigNotFound"),
        "ModelReady": ("True", "ModelFound"),
        "GPUReady": ("True", "GPUAvailable"),
        "Discovered": ("True", "InlineModelSources"),
        "Ready": ("True", "AllComponentsReady"),
    }


def test_cluster_template_resolves_a_cluster_model() -> None:
    status = status_of(plan_template(observe(template("AIMClusterServiceTemplate", modelSources=SOURCES)), NOW))
    assert status["resolvedModel"] == {"name": "qwen", "scope": "Cluster", "kind": "AIMClusterModel"}
    assert conditions(status)["ClusterModelReady"] == ("True", "ClusterModelFound")


def test_missing_model_is_pending() -> None:
    plan = plan_template(observe(model=Found(None)), NOW)
    status = status_of(plan)
    assert status["status"] == "Pending"
    assert conditions(status)["ModelReady"] == ("False", "ModelNotFound")
    assert condition(status, "Ready")["reason"] == "ModelNotFound"
    assert "resolvedModel" not in status
    assert plan.apply == [], "no discovery without the model's image"
    assert plan.events == []


def test_missing_gpu_is_not_available_and_plans_no_discovery() -> None:
    tpl = template(hardware={"gpu": {"models": ["MI325X"], "requests": 1}})
    plan = plan_template(observe(tpl), NOW)
    status = status_of(plan)
    assert status["status"] == "NotAvailable"
    assert conditions(status)["GPUReady"] == ("False", "GPUNotAvailable")
    assert conditions(status)["Discovered"] == ("False", "AwaitingDiscovery")
    assert condition(status, "Ready")["reason"] == "GPUNotAvailable"
    assert "resolvedNodeAffinity" not in status
    assert plan.apply == []
    assert [(e.type, e.reason) for e in plan.events] == [("Warning", "GPUNotAvailable")]


def test_no_event_when_already_not_available() -> None:
    tpl = template(hardware={"gpu": {"models": ["MI325X"]}}, status={"status": "NotAvailable"})
    assert plan_template(observe(tpl), NOW).events == []


def test_runtime_config_missing_fails() -> None:
    tpl = template(runtimeConfigName="fast", modelSources=SOURCES)
    status = status_of(plan_template(observe(tpl, runtime_config=resolve_runtime_config("fast", None, None)), NOW))
    assert status["status"] == "Failed"
    assert conditions(status)["RuntimeConfigReady"] == ("False", "ConfigNotFound")


def discovery_job_of(plan: Plan) -> dict[str, Any]:
    (planned,) = [o for o in plan.apply if o["kind"] == "Job"]
    return planned


def test_no_sources_plans_a_discovery_job() -> None:
    tpl = template(
        env=[{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}}}],
        profileId="vllm-mi300x-fp8",
        serviceAccountName="runner",
        imagePullSecrets=[{"name": "template-pull"}],
    )
    found = Found(model(imagePullSecrets=[{"name": "model-pull"}]), NAMESPACE)
    plan = plan_template(observe(tpl, model=found, pod_annotations={"sim/run": "3s"}), NOW)
    status = status_of(plan)
    name = discovery_job_name(tpl, IMAGE)
    assert status["status"] == "Progressing"
    assert conditions(status)["Discovered"] == ("False", "AwaitingDiscovery")
    assert status["discoveryJob"] == {"name": name, "namespace": "team", "kind": "Job"}
    planned = discovery_job_of(plan)
    assert planned["metadata"]["name"] == name
    assert planned["metadata"]["namespace"] == "team"
    assert planned["metadata"]["ownerReferences"] == [
        {
            "apiVersion": V1,
            "kind": "AIMServiceTemplate",
            "name": "qwen-mi300x",
            "uid": "t-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert planned["metadata"]["labels"]["aim.eai.amd.com/template"] == "qwen-mi300x"
    assert (planned["spec"]["backoffLimit"], planned["spec"]["ttlSecondsAfterFinished"]) == (0, 600)
    pod = planned["spec"]["template"]
    assert pod["metadata"]["annotations"] == {"sim/run": "3s"}
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["serviceAccountName"] == "runner"
    assert pod["spec"]["imagePullSecrets"] == [{"name": "template-pull"}, {"name": "model-pull"}]
    (container,) = pod["spec"]["containers"]
    assert container["image"] == IMAGE
    assert container["args"] == ["dry-run", "--format=json"]
    assert container["env"] == [
        {"name": "AIM_LOG_LEVEL_ROOT", "value": "CRITICAL"},
        {"name": "AIM_LOG_LEVEL", "value": "CRITICAL"},
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}}},
        {"name": "AIM_METRIC", "value": "latency"},
        {"name": "AIM_PRECISION", "value": "fp8"},
        {"name": "AIM_GPU_MODEL", "value": "MI300X"},
        {"name": "AIM_GPU_COUNT", "value": "1"},
        {"name": "AIM_ACCELERATOR_MODEL", "value": "MI300X"},
        {"name": "AIM_ACCELERATOR_COUNT", "value": "1"},
        {"name": "AIM_PROFILE_ID", "value": "vllm-mi300x-fp8"},
    ]


def test_discovery_env_only_names_what_the_template_sets() -> None:
    tpl = template(metric=None, precision=None, hardware=None)
    container = discovery_job_of(plan_template(observe(tpl), NOW))["spec"]["template"]["spec"]["containers"][0]
    assert [e["name"] for e in container["env"]] == ["AIM_LOG_LEVEL_ROOT", "AIM_LOG_LEVEL"]


def test_cluster_template_discovers_in_the_operator_namespace_without_owner() -> None:
    tpl = template("AIMClusterServiceTemplate")
    plan = plan_template(observe(tpl, operator_namespace="aim-operator"), NOW)
    planned = discovery_job_of(plan)
    assert planned["metadata"]["namespace"] == "aim-operator"
    assert "ownerReferences" not in planned["metadata"], "owner references cannot cross namespaces"
    assert status_of(plan)["discoveryJob"]["namespace"] == "aim-operator"


def test_model_without_image_waits() -> None:
    found = Found(model(image=None), NAMESPACE)
    plan = plan_template(observe(model=found), NOW)
    assert conditions(status_of(plan))["Discovered"] == ("False", "AwaitingDiscovery")
    assert plan.apply == []


DISCOVERY_CASES = [
    pytest.param(job(), "", "Progressing", ("False", "AwaitingDiscovery"), id="running"),
    pytest.param(job("Failed"), "", "Failed", ("False", "DiscoveryFailed"), id="job-failed"),
    pytest.param(job("Complete"), "no json here", "Failed", ("False", "DiscoveryFailed"), id="complete-without-result"),
    pytest.param(job("Complete"), discovery_log(DISCOVERED), "Ready", ("True", "DiscoveryComplete"), id="complete"),
]


@pytest.mark.parametrize(("discovery_job", "log", "state", "discovered"), DISCOVERY_CASES)
def test_discovery_job_outcomes(
    discovery_job: dict[str, Any], log: str, state: str, discovered: tuple[str, str]
) -> None:
    plan = plan_template(observe(discovery_job=discovery_job, discovery_log=log), NOW)
    status = status_of(plan)
    assert status["status"] == state
    assert conditions(status)["Discovered"] == discovered
    assert plan.apply == [], "an existing Job is not re-applied"
    warnings = [e.reason for e in plan.events if e.type == "Warning"]
    assert warnings == (["DiscoveryFailed"] if state == "Failed" else [])


def test_completed_discovery_fills_sources_and_profile() -> None:
    status = status_of(
        plan_template(observe(discovery_job=job("Complete"), discovery_log=discovery_log(DISCOVERED)), NOW)
    )
    assert status["modelSources"] == EXPECTED_SOURCES
    assert status["profile"]["metadata"] == {
        "engine": "vllm",
        "gpu": "MI300X",
        "gpuCount": 1,
        "metric": "latency",
        "precision": "fp8",
    }
    assert condition(status, "Discovered")["message"] == "1 model source(s)"


def test_failed_discovery_names_the_job() -> None:
    status = status_of(plan_template(observe(discovery_job=job("Failed")), NOW))
    assert condition(status, "Ready")["reason"] == "DiscoveryFailed"
    assert discovery_job_name(template(), IMAGE) in condition(status, "Discovered")["message"]


def discovered_status(job_name: str) -> dict[str, Any]:
    return {
        "status": "Ready",
        "modelSources": EXPECTED_SOURCES,
        "profile": {"metadata": {"gpu": "MI300X"}},
        "discoveryJob": {"name": job_name, "namespace": "team", "kind": "Job"},
    }


def test_result_kept_after_the_job_is_cleaned_up() -> None:
    tpl = template(status=discovered_status(discovery_job_name(template(), IMAGE)))
    plan = plan_template(observe(tpl), NOW)
    status = status_of(plan)
    assert status["status"] == "Ready"
    assert status["modelSources"] == EXPECTED_SOURCES
    assert status["profile"] == {"metadata": {"gpu": "MI300X"}}
    assert plan.apply == [], "no second discovery for the same spec"


def test_spec_change_discovers_again() -> None:
    tpl = template(status=discovered_status("discover-qwen-mi300x-00000000"))
    plan = plan_template(observe(tpl), NOW)
    assert status_of(plan)["status"] == "Progressing"
    assert discovery_job_of(plan)["metadata"]["name"] == discovery_job_name(tpl, IMAGE)


def test_caching_enabled_plans_an_owned_template_cache() -> None:
    tpl = template(
        modelSources=SOURCES,
        runtimeConfigName="fast",
        caching={"enabled": True, "env": [{"name": "HF_HUB_OFFLINE", "value": "0"}]},
    )
    resolved = resolve_runtime_config("fast", {"spec": {}}, None)
    plan = plan_template(observe(tpl, runtime_config=resolved), NOW)
    (cache,) = plan.apply
    assert cache == {
        "apiVersion": V1,
        "kind": "AIMTemplateCache",
        "metadata": {
            "name": "qwen-mi300x",
            "namespace": "team",
            "labels": {
                "app.kubernetes.io/managed-by": "aim-engine",
                "aim.eai.amd.com/service-template.name": "qwen-mi300x",
            },
            "ownerReferences": [
                {
                    "apiVersion": V1,
                    "kind": "AIMServiceTemplate",
                    "name": "qwen-mi300x",
                    "uid": "t-1",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "templateName": "qwen-mi300x",
            "templateScope": "Namespace",
            "mode": "Shared",
            "env": [{"name": "HF_HUB_OFFLINE", "value": "0"}],
            "runtimeConfigName": "fast",
        },
    }
    assert status_of(plan)["resolvedCache"] == {"name": "qwen-mi300x", "kind": "AIMTemplateCache"}


@pytest.mark.parametrize(
    ("kind", "caching"),
    [
        pytest.param("AIMServiceTemplate", {"enabled": False}, id="disabled"),
        pytest.param("AIMServiceTemplate", None, id="unset"),
        pytest.param("AIMClusterServiceTemplate", {"enabled": True}, id="cluster-template"),
    ],
)
def test_no_cache_planned(kind: str, caching: dict[str, Any] | None) -> None:
    plan = plan_template(observe(template(kind, modelSources=SOURCES, caching=caching)), NOW)
    assert plan.apply == []
    assert "resolvedCache" not in status_of(plan)


def test_transition_times_kept_when_nothing_changed() -> None:
    first = status_of(plan_template(observe(template(modelSources=SOURCES)), NOW))
    again = status_of(plan_template(observe(template(modelSources=SOURCES, status=first)), LATER))
    assert again == first
    assert {c["lastTransitionTime"] for c in again["conditions"]} == {NOW}


def test_only_changed_conditions_get_a_new_transition_time() -> None:
    first = status_of(plan_template(observe(), NOW))
    assert first["status"] == "Progressing"
    done = plan_template(
        observe(template(status=first), discovery_job=job("Complete"), discovery_log=discovery_log(DISCOVERED)), LATER
    )
    times = {c["type"]: c["lastTransitionTime"] for c in status_of(done)["conditions"]}
    assert times == {
        "RuntimeConfigReady": NOW,
        "ModelReady": NOW,
        "GPUReady": NOW,
        "Discovered": LATER,
        "Ready": LATER,
    }


# --- discovery slots and back-off (upstream's MaxConcurrentDiscoveryJobs and retry schedule) -----


def failed_job(created: str | None = None, message: str = "exec: dry-run not found") -> dict[str, Any]:
    failed = job("Failed")
    failed["metadata"]["name"] = discovery_job_name(template(), IMAGE)
    failed["metadata"]["namespace"] = "team"
    failed["status"]["conditions"][0]["message"] = message
    if created:
        failed["metadata"]["creationTimestamp"] = created
    return failed


SPEC_HASH = discovery_job_name(template(), IMAGE).rsplit("-", 1)[-1]


def after(seconds: int) -> str:
    moment = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(("attempts", "seconds"), [(0, 0), (1, 60), (2, 120), (3, 240), (7, 3600), (30, 3600)])
def test_discovery_backoff_doubles_to_an_hour(attempts: int, seconds: float) -> None:
    assert discovery_backoff(attempts) == seconds


@pytest.mark.parametrize(
    ("active", "created"),
    [(0, True), (9, True), (10, False), (25, False)],
    ids=["idle", "last-slot", "full", "over"],
)
def test_discovery_waits_for_a_slot(active: int, created: bool) -> None:
    plan = plan_template(observe(active_discoveries=active), NOW)
    jobs = [o for o in plan.apply if o["kind"] == "Job"]
    assert bool(jobs) is created
    discovered = condition(status_of(plan), "Discovered")
    if created:
        assert plan.requeue_after is None
    else:
        assert plan.requeue_after == 5.0
        assert status_of(plan)["status"] == "Pending"
        assert discovered["reason"] == "AwaitingDiscovery"
        assert f"{active} discovery Jobs are running (at most 10 in the cluster)" in discovered["message"]


@pytest.mark.parametrize(
    ("previous", "job_created", "now", "attempts", "requeue", "deleted"),
    [
        pytest.param(None, NOW, after(1), 1, 60.0, False, id="first-failure"),
        pytest.param(
            {"attempts": 1, "lastAttemptTime": after(1), "specHash": SPEC_HASH, "lastFailureReason": "x"},
            NOW,
            after(30),
            1,
            31.0,
            False,
            id="same-job-counted-once",
        ),
        pytest.param(
            {"attempts": 1, "lastAttemptTime": after(1), "specHash": SPEC_HASH, "lastFailureReason": "x"},
            NOW,
            after(61),
            1,
            None,
            True,
            id="backoff-over-job-deleted",
        ),
        pytest.param(
            {"attempts": 1, "lastAttemptTime": after(1), "specHash": SPEC_HASH, "lastFailureReason": "x"},
            after(70),
            after(75),
            2,
            120.0,
            False,
            id="second-job-fails",
        ),
        pytest.param(
            {"attempts": 6, "lastAttemptTime": after(1), "specHash": "0ther", "lastFailureReason": "x"},
            after(5),
            after(10),
            1,
            60.0,
            False,
            id="new-spec-counts-again",
        ),
    ],
)
def test_failed_discovery_is_retried_with_backoff(
    previous: dict[str, Any] | None, job_created: str, now: str, attempts: int, requeue: float | None, deleted: bool
) -> None:
    status = {"status": "Failed", "discovery": previous} if previous else None
    plan = plan_template(observe(template(status=status), discovery_job=failed_job(job_created)), now)
    state = status_of(plan)["discovery"]
    assert state["attempts"] == attempts
    assert state["specHash"] == SPEC_HASH
    assert plan.requeue_after == requeue
    assert bool(plan.delete) is deleted
    assert status_of(plan)["status"] == "Failed"
    message = condition(status_of(plan), "Discovered")["message"]
    assert f"(attempt {attempts})" in message
    if previous is None:
        assert state["lastFailureReason"] == "exec: dry-run not found"
        assert "exec: dry-run not found; retrying in 60 s" in message


def test_a_cleaned_up_failed_job_still_waits_out_its_backoff() -> None:
    previous = {"attempts": 3, "lastAttemptTime": NOW, "specHash": SPEC_HASH, "lastFailureReason": "x"}
    plan = plan_template(observe(template(status={"status": "Failed", "discovery": previous})), after(100))
    assert not [o for o in plan.apply if o["kind"] == "Job"]
    assert plan.requeue_after == 140.0  # 240 s for the third failure, 100 s gone
    assert status_of(plan)["status"] == "Failed"


@pytest.mark.parametrize(
    ("tpl", "serialised"),
    [
        (template(), True),
        (template(status={"status": "Ready"}), False),
        (template(modelSources=[{"modelId": "a/b", "sourceUri": "hf://a/b"}]), False),
        (template(status={"status": "Failed"}), True),
    ],
    ids=["new", "ready", "inline-sources", "failed"],
)
def test_which_template_reconciles_take_the_discovery_slot_lock(tpl: dict[str, Any], serialised: bool) -> None:
    assert may_start_discovery(tpl) is serialised


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("registry.local/amdenterpriseai/aim-qwen:0.8.5", "0.8.5"),
        ("amdenterpriseai/aim-qwen", "latest"),
        ("amdenterpriseai/aim-qwen@sha256:" + "ab" * 32, "ababab"),
        ("Not An Image", None),
        (None, None),
    ],
)
def test_the_template_version_is_its_models_image_tag(image: str | None, version: str | None) -> None:
    stored = model(image=image) if image else model()
    if not image:
        del stored["spec"]["image"]
    assert model_version(read_model(stored)) == version


@pytest.mark.parametrize(
    ("metadata", "gpu", "count"),
    [
        ({"gpu": "MI300X", "gpu_count": 2}, "MI300X", 2),
        ({"accelerator_model": "R9700", "accelerator_count": 1}, "R9700", 1),  # newer images' words
        ({"gpu": "MI300X", "gpu_count": 2, "accelerator_model": "R9700", "accelerator_count": 1}, "MI300X", 2),
    ],
    ids=["gpu-fields", "accelerator-fields", "gpu-fields-win"],
)
def test_profile_metadata_in_either_vocabulary(metadata: dict[str, Any], gpu: str, count: int) -> None:
    parsed = parse_discovery_output(discovery_log(entry() | {"profile": {"metadata": metadata}}))
    assert parsed is not None
    assert (parsed[1]["metadata"]["gpu"], parsed[1]["metadata"]["gpuCount"]) == (gpu, count)

"""GPU detection from Node labels, runtime config merge, env/resource merges: tables of cases."""

from __future__ import annotations

import json
from typing import Any

import pytest

from controller.common.gpus import cluster_gpu_models, device_ids_for, node_gpus, normalise_gpu_model
from controller.common.merge import gpu_default_resources, merge_engine_args, merge_env_layers, merge_resources
from controller.common.runtimeconfig import resolve_runtime_config


def node(name: str, labels: dict[str, str], gpus: str | None = "8", unschedulable: bool = False) -> dict[str, Any]:
    status = {"allocatable": {"amd.com/gpu": gpus}} if gpus is not None else {}
    return {"metadata": {"name": name, "labels": labels}, "spec": {"unschedulable": unschedulable}, "status": status}


@pytest.mark.parametrize(
    ("labels", "model", "vram"),
    [
        ({"amd.com/gpu.device-id": "74a1"}, "MI300X", "192G"),
        ({"beta.amd.com/gpu.device-id": "75A3"}, "MI355X", "288G"),
        ({"amd.com/gpu.device-id.74a5": "8"}, "MI325X", "256G"),
        ({"amd.com/gpu.family": "Instinct-MI210"}, "MI210", "64G"),
        ({"amd.com/gpu.device-id": "abcd"}, "AMD-ABCD", ""),
        ({"amd.com/gpu.device-id": "74a1", "amd.com/gpu.vram": "191G"}, "MI300X", "191G"),
        ({"amd.com/gpu.device-id": "7551"}, "R9700", "32G"),
        ({"amd.com/gpu.device-id": "7448"}, "W7900", "48G"),
    ],
    ids=[
        "device-id",
        "beta-label-upper-case",
        "count-encoded",
        "family",
        "unknown-id",
        "vram-label-wins",
        "radeon-ai-pro-r9700",
        "radeon-pro-w7900",
    ],
)
def test_node_gpus(labels: dict[str, str], model: str, vram: str) -> None:
    gpus = node_gpus(node("n", labels))
    assert gpus is not None
    assert (gpus.model, gpus.count, gpus.vram) == (model, 8, vram)


def test_cluster_gpu_models_skip_cpu_and_unschedulable_nodes() -> None:
    nodes = [
        node("a", {"amd.com/gpu.device-id": "74a1"}),
        node("b", {"amd.com/gpu.device-id": "74a1"}),
        node("c", {"amd.com/gpu.device-id": "75a0"}, unschedulable=True),
        node("cpu", {}, gpus=None),
    ]
    models = cluster_gpu_models(nodes)
    assert sorted(models) == ["MI300X"]
    assert [n.node for n in models["MI300X"]] == ["a", "b"]


@pytest.mark.parametrize(
    ("name", "normalised"),
    [("Instinct-MI325X", "MI325X"), ("MI300X (rev 2)", "MI300X"), ("mi300x", "MI300X"), ("AMD_MI250X", "MI250X")],
)
def test_normalise_gpu_model(name: str, normalised: str) -> None:
    assert normalise_gpu_model(name) == normalised


def test_device_ids_for_a_model() -> None:
    assert device_ids_for("mi300x") == ["74a1", "74a9", "74b5", "74bd"]
    assert device_ids_for("nothing") == []


@pytest.mark.parametrize(
    ("requested", "namespaced", "cluster", "scope", "missing", "spec"),
    [
        (None, None, None, "", False, {}),
        ("tuned", None, None, "", True, {}),
        (
            " ",
            None,
            {"spec": {"env": [{"name": "A", "value": "1"}]}},
            "Cluster",
            False,
            {"env": [{"name": "A", "value": "1"}]},
        ),
        (
            "default",
            {
                "spec": {
                    "env": [{"name": "A", "value": "ns"}, {"name": "B", "value": "2"}],
                    "routing": {"enabled": False},
                }
            },
            {"spec": {"env": [{"name": "A", "value": "cl"}], "routing": {"enabled": True, "pathTemplate": "/x"}}},
            "Merged",
            False,
            {
                "env": [{"name": "A", "value": "ns"}, {"name": "B", "value": "2"}],
                "routing": {"enabled": False, "pathTemplate": "/x"},
            },
        ),
        (
            "default",
            {"spec": {"pvcHeadroomPercent": 25}},
            None,
            "Namespace",
            False,
            {"storage": {"pvcHeadroomPercent": 25}},
        ),
    ],
    ids=["no-default-is-fine", "named-missing", "cluster-only", "merged-namespace-wins", "legacy-storage-migrated"],
)
def test_resolve_runtime_config(
    requested: str | None,
    namespaced: dict[str, Any] | None,
    cluster: dict[str, Any] | None,
    scope: str,
    missing: bool,
    spec: dict[str, Any],
) -> None:
    resolved = resolve_runtime_config(requested, namespaced, cluster)
    assert (resolved.scope, resolved.missing, resolved.spec) == (scope, missing, spec)


def rc(download_filter: dict[str, Any] | None, **storage: Any) -> dict[str, Any]:
    extra = {"downloadFilter": download_filter} if download_filter is not None else {}
    return {"metadata": {"name": "default"}, "spec": {"storage": storage | extra}}


@pytest.mark.parametrize(
    ("namespaced", "cluster", "expected"),
    [
        pytest.param(None, None, None, id="unset"),
        pytest.param(None, rc({"exclude": ["*.bin"]}), {"exclude": ["*.bin"]}, id="cluster-only"),
        pytest.param(rc({}), rc({"exclude": ["*.bin"]}), {}, id="namespace-empty-filter-replaces-cluster-whole"),
        pytest.param(
            rc({"include": ["*.json"]}), rc({"exclude": ["*.bin"]}), {"include": ["*.json"]}, id="no-list-merging"
        ),
        pytest.param(
            rc(None, pvcHeadroomPercent=20),
            rc({"exclude": ["*.bin"]}, pvcHeadroomPercent=5),
            {"exclude": ["*.bin"]},
            id="namespace-without-filter-keeps-cluster-filter",
        ),
    ],
)
def test_download_filter_merges_whole(
    namespaced: dict[str, Any] | None, cluster: dict[str, Any] | None, expected: dict[str, Any] | None
) -> None:
    assert resolve_runtime_config(None, namespaced, cluster).download_filter == expected


def test_pvc_headroom_defaults_to_ten_percent() -> None:
    assert resolve_runtime_config(None, None, None).pvc_headroom_percent == 10


@pytest.mark.parametrize(
    ("base", "override", "merged"),
    [
        ('{"a": 1, "b": {"c": 2}}', '{"b": {"d": 3}}', {"a": 1, "b": {"c": 2, "d": 3}}),
        ('{"a": 1}', '{"a": 2}', {"a": 2}),
        ('{"a": 1}', "not json", "not json"),
        ("[1]", '{"a": 1}', {"a": 1}),
    ],
    ids=["deep", "override-wins", "override-not-json", "base-not-object"],
)
def test_merge_engine_args(base: str, override: str, merged: Any) -> None:
    result = merge_engine_args(base, override)
    assert (json.loads(result) if isinstance(merged, dict) else result) == merged


def test_env_layers_override_by_name_and_sort() -> None:
    env = merge_env_layers(
        [
            [{"name": "Z", "value": "operator"}, {"name": "AIM_ENGINE_ARGS", "value": '{"a": 1}'}],
            None,
            [
                {"name": "Z", "value": "service"},
                {"name": "AIM_ENGINE_ARGS", "value": '{"b": 2}'},
                {"value": "nameless"},
            ],
        ]
    )
    assert [e["name"] for e in env] == ["AIM_ENGINE_ARGS", "Z"]
    assert json.loads(env[0]["value"]) == {"a": 1, "b": 2}
    assert env[1]["value"] == "service"


def test_resources_per_gpu_defaults_then_layers() -> None:
    assert gpu_default_resources(0) == {}
    merged = merge_resources(
        [gpu_default_resources(2), {"requests": {"cpu": "6"}}, None, {"limits": {"memory": "200Gi"}}]
    )
    assert merged == {
        "limits": {"amd.com/gpu": "2", "memory": "200Gi"},
        "requests": {"amd.com/gpu": "2", "cpu": "6", "memory": "64Gi"},
    }

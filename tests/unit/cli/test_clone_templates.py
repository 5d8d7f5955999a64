"""`kubectl aim clone-templates`: which templates match, the clones' names and contents, and the
command's output, from template objects (no cluster). Upstream's rules are those of
`hack/clone-templates-for-gpu.sh`; where ours differ (valid names always, `models`) it says so."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from api.labels import MODEL, ORIGIN, ORIGIN_AUTO_GENERATED, V1ALPHA1
from cli import __main__ as entry
from cli import clone
from cli.admission import admit
from cli.clone import clone_manifest, clone_name, clone_templates, profiled_gpu, progress
from cli.cluster import ClusterError

OWNER = {"apiVersion": "aim.eai.amd.com/v1alpha2", "kind": "AIMClusterModel", "name": "qwen3-32b", "uid": "u-1"}


def template(
    name: str,
    model_name: str = "qwen3-32b",
    spec_gpu: dict[str, Any] | None = None,
    status_gpu: dict[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """An AIMClusterServiceTemplate as the API server lists it: server-written metadata, status."""
    obj: dict[str, Any] = {
        "apiVersion": V1ALPHA1,
        "kind": "AIMClusterServiceTemplate",
        "metadata": {
            "name": name,
            "uid": "1f0c",
            "resourceVersion": "42",
            "generation": 3,
            "creationTimestamp": "2026-12-07T00:00:00Z",
            "managedFields": [{"manager": "aim-engine", "operation": "Apply"}],
            "selfLink": f"/apis/aim.eai.amd.com/v1alpha1/aimclusterservicetemplates/{name}",
            "labels": {ORIGIN: ORIGIN_AUTO_GENERATED, MODEL: model_name},
            "annotations": {clone.LAST_APPLIED: "{}", "team": "inference"},
            "ownerReferences": [OWNER],
        },
        "spec": {"modelName": model_name, "metric": "latency", "precision": "fp8", **spec},
        "status": {"status": "Ready"},
    }
    if spec_gpu is not None:
        obj["spec"]["hardware"] = {"gpu": {"requests": 1, **spec_gpu}}
    if status_gpu is not None:
        obj["status"]["resolvedHardware"] = {"gpu": {"requests": 1, **status_gpu}}
    return obj


@pytest.mark.parametrize(
    ("spec_gpu", "status_gpu", "profiled"),
    [
        pytest.param({"model": "MI300X"}, None, "MI300X", id="spec-model"),
        pytest.param({"models": ["MI300X"]}, None, "MI300X", id="spec-one-item-models"),
        pytest.param({"models": ["MI300X", "MI325X"]}, None, None, id="spec-several-models-none-in-particular"),
        pytest.param({"model": "MI300X"}, {"model": "MI325X"}, "MI325X", id="status-wins-over-spec"),
        pytest.param(None, {"models": ["MI300X"]}, "MI300X", id="status-one-item-models"),
        pytest.param({"model": "MI300X"}, {}, "MI300X", id="status-without-a-model-falls-back-to-spec"),
        pytest.param({"minVram": "192Gi"}, {"model": "MI300X"}, "MI300X", id="minvram-resolved-by-discovery"),
        pytest.param({"minVram": "192Gi"}, None, None, id="minvram-only"),
        pytest.param(None, None, None, id="no-hardware"),
    ],
)
def test_the_gpu_a_template_was_profiled_on(
    spec_gpu: dict[str, Any] | None, status_gpu: dict[str, Any] | None, profiled: str | None
) -> None:
    assert profiled_gpu(template("t", spec_gpu=spec_gpu, status_gpu=status_gpu)) == profiled


LONG = "qwen3-235b-a22b-instruct-2507-fp8-0-8-5-8x-mi300x-throughput-fp8"  # 63 characters


@pytest.mark.parametrize(
    ("name", "profile", "target", "expected"),
    [
        pytest.param("qwen3-32b-1x-mi300x-lat-fp8", "MI300X", "MI308X", "qwen3-32b-1x-mi308x-lat-fp8", id="replaced"),
        pytest.param("qwen3-32b-mi300x", "mi300x", "MI325X", "qwen3-32b-mi325x", id="profile-in-any-case"),
        pytest.param("mi300x-a-mi300x", "MI300X", "MI308X", "mi308x-a-mi308x", id="every-occurrence"),
        pytest.param("qwen-mi300x", "MI300X", "MI355X-OAM", "qwen-mi355x-oam", id="longer-target-still-fits"),
        pytest.param("llama-fp8-tput", "MI300X", "MI308X", "llama-f-mi308x", id="no-profile-in-name-keeps-length"),
        pytest.param("ab", "MI300X", "MI308X", "a-mi308x", id="no-profile-keeps-at-least-one-character"),
    ],
)
def test_names_follow_upstreams_rule(name: str, profile: str, target: str, expected: str) -> None:
    assert clone_name(name, profile, target) == expected


@pytest.mark.parametrize(
    ("name", "profile", "target", "starts"),
    [
        pytest.param(LONG, "MI300X", "MI355X-OAM", "qwen3-235b", id="longer-than-63-after-replacing"),
        pytest.param("chat-mi300x", "MI300X", "MI300X_OAM", "chat-mi300x-oam", id="character-no-name-holds"),
        pytest.param("chat", "MI300X", "MI308X.", "c-mi308x", id="ends-with-a-dot"),
    ],
)
def test_names_upstream_would_get_wrong_are_made_valid(name: str, profile: str, target: str, starts: str) -> None:
    made = clone_name(name, profile, target)
    assert clone.is_valid_name(made), made
    assert made.startswith(starts)
    assert made != clone_name(name, profile, target + "2")  # the hash tells targets apart


def test_the_clone_is_a_new_object_for_the_target_gpu() -> None:
    source = template(
        "qwen3-32b-mi300x",
        spec_gpu={"models": ["MI300X"]},
        env=[{"name": "AIM_GPU_MODEL", "value": "old"}, {"name": "HF_HOME", "value": "/cache"}],
    )
    manifest = clone_manifest(source, "qwen3-32b-mi308x", "MI300X", "MI308X")
    assert manifest == {
        "apiVersion": V1ALPHA1,
        "kind": "AIMClusterServiceTemplate",
        "metadata": {
            "name": "qwen3-32b-mi308x",
            "labels": {ORIGIN: ORIGIN_AUTO_GENERATED, MODEL: "qwen3-32b"},
            "annotations": {"team": "inference"},
            "ownerReferences": [OWNER],
        },
        "spec": {
            "modelName": "qwen3-32b",
            "metric": "latency",
            "precision": "fp8",
            "env": [{"name": "HF_HOME", "value": "/cache"}, {"name": "AIM_GPU_MODEL", "value": "MI300X"}],
            "hardware": {"gpu": {"requests": 1, "model": "MI308X"}},
        },
    }
    assert source["metadata"]["uid"] == "1f0c"
    assert source["spec"]["hardware"]["gpu"] == {"requests": 1, "models": ["MI300X"]}  # the source untouched


@pytest.mark.parametrize(
    ("source", "hardware"),
    [
        pytest.param(
            template("t", spec_gpu={"model": "MI300X"}), {"gpu": {"requests": 1, "model": "MI308X"}}, id="model"
        ),
        pytest.param(
            template("t", spec_gpu={"minVram": "192Gi"}, status_gpu={"model": "MI300X"}),
            {"gpu": {"requests": 1, "model": "MI308X"}},
            id="minvram-dropped",
        ),
        pytest.param(
            template("t", status_gpu={"model": "MI300X"}), {"gpu": {"model": "MI308X"}}, id="no-spec-hardware"
        ),
    ],
)
def test_the_clone_asks_for_exactly_the_target_and_is_admitted(source: dict[str, Any], hardware: Any) -> None:
    manifest = clone_manifest(source, "t-mi308x", "MI300X", "MI308X")
    assert manifest["spec"]["hardware"] == hardware
    assert [e for e in manifest["spec"]["env"] if e["name"] == "AIM_GPU_MODEL"] == [
        {"name": "AIM_GPU_MODEL", "value": "MI300X"}
    ]
    assert admit(manifest).errors == []  # schema, CEL and the webhook's rules


def test_only_last_applied_among_annotations_leaves_none() -> None:
    source = template("t", spec_gpu={"model": "MI300X"})
    source["metadata"]["annotations"] = {clone.LAST_APPLIED: "{}"}
    assert "annotations" not in clone_manifest(source, "t2", "MI300X", "MI308X")["metadata"]


def test_clones_are_grouped_by_model_sorted_each_group_in_listing_order() -> None:
    templates = [
        template("zeta-mi300x-b", "zeta", {"model": "MI300X"}),
        template("alpha-mi300x", "alpha", {"model": "MI300X"}),
        template("alpha-mi355x", "alpha", {"model": "MI355X"}),
        template("zeta-mi300x-a", "zeta", {"model": "MI300X"}),
        template("alpha-any", "alpha", {"models": ["MI300X", "MI325X"]}),
    ]
    clones = clone_templates(templates, "MI300X", "MI308X")
    assert [(c.model_name, c.source_name, c.name) for c in clones] == [
        ("alpha", "alpha-mi300x", "alpha-mi308x"),
        ("zeta", "zeta-mi300x-b", "zeta-mi308x-b"),
        ("zeta", "zeta-mi300x-a", "zeta-mi308x-a"),
    ]
    assert progress(clones, "MI300X", "MI308X") == [
        "Cloning templates from GPU profile 'MI300X' to 'MI308X'...",
        "Found 3 templates to clone",
        "",
        "Model: alpha",
        "  alpha-mi300x -> alpha-mi308x",
        "Model: zeta",
        "  zeta-mi300x-b -> zeta-mi308x-b",
        "  zeta-mi300x-a -> zeta-mi308x-a",
        "",
        "Done",
    ]


def test_matching_is_exact_as_upstreams() -> None:
    assert clone_templates([template("t", spec_gpu={"model": "mi300x"})], "MI300X", "MI308X") == []


def test_two_clones_never_share_a_name() -> None:
    # Upstream's truncation cuts the ends that told these two apart.
    templates = [
        template("llama-fp8-tput-1", spec_gpu={"model": "MI300X"}),
        template("llama-fp8-tput-2", spec_gpu={"model": "MI300X"}),
    ]
    names = [c.name for c in clone_templates(templates, "MI300X", "MI308X")]
    assert names[0] == "llama-fp8-mi308x"
    assert len(set(names)) == 2
    assert all(clone.is_valid_name(n) for n in names)


def test_nothing_to_clone_says_so() -> None:
    assert clone_templates([template("t", spec_gpu={"model": "MI355X"})], "MI300X", "MI308X") == []
    assert progress([], "MI300X", "MI308X") == [
        "Cloning templates from GPU profile 'MI300X' to 'MI308X'...",
        "No templates found matching GPU profile 'MI300X'",
    ]


# --- the command: stdout for `kubectl apply -f -`, progress on stderr, exit codes ---------------------


class FakeCluster:
    def __init__(self, templates: list[dict[str, Any]] | ClusterError):
        self.templates = templates
        self.listed: list[str] = []

    def list_aim(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        self.listed.append(kind)
        if isinstance(self.templates, ClusterError):
            raise self.templates
        return self.templates


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    fake = FakeCluster(
        [
            template("qwen3-32b-mi300x-lat", spec_gpu={"model": "MI300X"}),
            template("qwen3-32b-mi355x-lat", spec_gpu={"model": "MI355X"}),
            template("llama-mi300x", "llama", status_gpu={"model": "MI300X"}),
        ]
    )
    monkeypatch.setattr(entry, "_connect", lambda args: fake)
    return fake


def test_the_command_prints_the_clones_as_yaml(cluster: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.main(["clone-templates", "MI300X", "MI308X"]) == 0
    printed = capsys.readouterr()
    assert cluster.listed == ["AIMClusterServiceTemplate"]
    documents = list(yaml.safe_load_all(printed.out))
    assert [d["metadata"]["name"] for d in documents] == ["llama-mi308x", "qwen3-32b-mi308x-lat"]
    assert {d["spec"]["hardware"]["gpu"]["model"] for d in documents} == {"MI308X"}
    assert printed.err.splitlines() == [
        "Cloning templates from GPU profile 'MI300X' to 'MI308X'...",
        "Found 2 templates to clone",
        "",
        "Model: llama",
        "  llama-mi300x -> llama-mi308x",
        "Model: qwen3-32b",
        "  qwen3-32b-mi300x-lat -> qwen3-32b-mi308x-lat",
        "",
        "Done",
    ]


def test_json_output_is_one_list(cluster: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.main(["clone-templates", "MI300X", "MI308X", "-o", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["kind"] == "List"
    assert [i["metadata"]["name"] for i in printed["items"]] == ["llama-mi308x", "qwen3-32b-mi308x-lat"]


def test_nothing_to_clone_prints_nothing_and_succeeds(cluster: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.main(["clone-templates", "MI250X", "MI308X"]) == 0
    printed = capsys.readouterr()
    assert printed.out == ""
    assert "No templates found matching GPU profile 'MI250X'" in printed.err


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        pytest.param(["MI300X", "mi300x"], "the same model", id="same-gpu-would-overwrite-the-originals"),
        pytest.param(["MI300X", " "], "name both GPU models", id="empty-target"),
    ],
)
def test_arguments_that_cannot_work_exit_2(
    cluster: FakeCluster, capsys: pytest.CaptureFixture[str], arguments: list[str], words: str
) -> None:
    assert entry.main(["clone-templates", *arguments]) == 2
    printed = capsys.readouterr()
    assert (printed.out, words in printed.err) == ("", True)
    assert cluster.listed == []


def test_a_cluster_that_cannot_be_asked_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(entry, "_connect", lambda args: FakeCluster(ClusterError("listing: connection refused")))
    assert entry.main(["clone-templates", "MI300X", "MI308X"]) == 2
    assert "connection refused" in capsys.readouterr().err

"""Template auto-selection: every stage's filter and the ranking, as a table."""

from __future__ import annotations

from typing import Any

import pytest

from api.v1alpha2.aimservice import AIMServiceSpec
from controller.common.selection import Overrides, select_template


def template(
    name: str,
    *,
    model: str = "m",
    status: str = "Ready",
    kind: str = "AIMServiceTemplate",
    type: str = "optimized",
    gpu: str = "MI300X",
    count: int = 1,
    metric: str = "latency",
    precision: str = "fp8",
) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {"name": name},
        "spec": {"modelName": model, "hardware": {"gpu": {"models": [gpu], "requests": count}} if gpu else {}},
        "status": {"status": status, "profile": {"metadata": {"type": type, "metric": metric, "precision": precision}}},
    }


CLUSTER = {"MI300X", "MI325X"}
CASES: list[tuple[str, list[dict[str, Any]], dict[str, Any], str | None, str, str]] = [
    ("no-templates", [template("a", model="other")], {}, None, "TemplateNotFound", 'no templates found for model "m"'),
    ("none-ready", [template("a", status="Progressing")], {}, None, "TemplateNotReady", "a (TemplateProgressing"),
    ("unoptimized-filtered", [template("a", type="preview")], {}, None, "TemplateNotFound", "allowUnoptimized"),
    ("unoptimized-allowed", [template("a", type="preview")], {"allow": True}, "a", "Resolved", ""),
    (
        "gpu-not-in-cluster",
        [template("a", gpu="MI355X")],
        {},
        None,
        "TemplateNotFound",
        "RequiredGPUNotInCluster: MI355X",
    ),
    ("cpu-template-passes", [template("a", gpu="")], {}, "a", "Resolved", ""),
    ("newer-gpu-ranks-first", [template("a"), template("b", gpu="MI325X")], {}, "b", "Resolved", ""),
    (
        "type-before-gpu",
        [template("a", gpu="MI325X", type="general"), template("b")],
        {"allow": True},
        "b",
        "Resolved",
        "",
    ),
    ("latency-before-throughput", [template("a", metric="throughput"), template("b")], {}, "b", "Resolved", ""),
    ("fp8-before-fp16", [template("a", precision="fp16"), template("b")], {}, "b", "Resolved", ""),
    (
        "namespace-before-cluster",
        [template("c", kind="AIMClusterServiceTemplate", gpu="MI325X"), template("n")],
        {},
        "n",
        "Resolved",
        "",
    ),
    (
        "tie-is-ambiguous",
        [template("a"), template("b")],
        {},
        None,
        "TemplateSelectionAmbiguous",
        "namespace/a, namespace/b",
    ),
    (
        "override-metric",
        [template("a"), template("b", metric="throughput")],
        {"metric": "throughput"},
        "b",
        "Resolved",
        "",
    ),
    (
        "override-gpu-normalised",
        [template("a"), template("b", gpu="MI325X")],
        {"gpu": "Instinct-MI300X"},
        "a",
        "Resolved",
        "",
    ),
    ("override-count", [template("a", count=2), template("b", count=4)], {"count": 4}, "b", "Resolved", ""),
    (
        "override-matches-none",
        [template("a")],
        {"precision": "bf16"},
        None,
        "TemplateNotFound",
        "ServiceOverridesNotMatched",
    ),
]


@pytest.mark.parametrize(
    ("case", "candidates", "options", "winner", "reason", "message"), CASES, ids=[c[0] for c in CASES]
)
def test_select_template(
    case: str, candidates: list[dict[str, Any]], options: dict[str, Any], winner: str | None, reason: str, message: str
) -> None:
    overrides = Overrides(
        metric=options.get("metric"),
        precision=options.get("precision"),
        gpu_model=options.get("gpu"),
        gpu_count=options.get("count"),
    )
    selection = select_template(candidates, "m", bool(options.get("allow")), overrides, CLUSTER)
    assert (selection.template.name if selection.template else None) == winner
    assert selection.reason == reason
    assert message in selection.message


def test_overrides_from_service_spec() -> None:
    """From the typed spec (the controller) or its wire form (the CLI), to plain strings."""
    spec = {"overrides": {"metric": "throughput", "hardware": {"gpu": {"models": ["MI300X"], "requests": 2}}}}
    for given in (spec, AIMServiceSpec.model_validate(spec)):
        overrides = Overrides.from_service_spec(given)
        assert overrides == Overrides("throughput", None, "MI300X", 2)
        assert type(overrides.metric) is str
    assert not Overrides.from_service_spec({}).any()
    assert not Overrides.from_service_spec(AIMServiceSpec()).any()


@pytest.mark.parametrize(
    ("gpus", "winner"),
    [
        (("MI210", "R9700"), "MI210"),  # every Instinct above the Radeons (upstream 0.2.4)
        (("W7900", "R9700"), "R9700"),  # the newer Radeon first
        (("RX7900", "W7900"), "W7900"),  # a first-class target above an unranked GPU
    ],
)
def test_radeon_workstation_gpus_rank_below_every_instinct(gpus: tuple[str, str], winner: str) -> None:
    candidates = [template(gpu.lower(), gpu=gpu) for gpu in gpus]
    selection = select_template(candidates, "m", False, Overrides(), set(gpus))
    assert selection.template is not None
    assert selection.template.name == winner.lower()

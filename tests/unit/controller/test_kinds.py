"""The add-a-kind checklist, enforced: every reconciled kind's descriptor (controller.kinds)
agrees with the API registry, the chart's RBAC and the layering contracts. A new kind is one entry
in KINDS; these tests say what else it needs."""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from api.registry import CRDS
from controller.kinds import KINDS
from controller.runner import Kind

ROOT = Path(__file__).resolve().parents[3]
WATCHED_ONLY = {"AIMRuntimeConfig", "AIMClusterRuntimeConfig"}
"""Kinds the controller reads but does not reconcile (no status of their own)."""


def controller_rules() -> dict[tuple[str, str], set[str]]:
    """(apiGroup, resource) → verbs the chart's controller ClusterRole grants."""
    template = (ROOT / "helm/aim-engine/templates/rbac.yaml").read_text()
    text = re.sub(r"\{\{.*?\}\}", "x", re.sub(r"(?m)^\s*\{\{.*\}\}\s*$", "", template))
    role = next(d for d in yaml.safe_load_all(text) if d and d["metadata"]["name"] == "x-controller")
    granted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted[(group, resource)] |= set(rule["verbs"])
    return granted


def test_kind_names_are_unique_and_every_crd_is_reconciled_or_only_read() -> None:
    names = [kind.name for kind in KINDS]
    assert len(names) == len(set(names))
    assert set(names) | WATCHED_ONLY == {crd.names.kind for crd in CRDS}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_the_controller_reads_a_served_version(kind: Kind) -> None:
    assert kind.version in {v.name for v in kind.crd.versions}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_the_chart_lets_the_controller_watch_everything_the_kind_watches(kind: Kind) -> None:
    granted = controller_rules()
    for resource in (kind.resource, *(watch.resource for watch in kind.watches)):
        verbs = granted[(resource.group, resource.plural)]
        assert {"get", "list", "watch"} <= verbs, f"{kind.name} watches {resource.plural}; rbac.yaml grants {verbs}"
    assert "patch" in granted[(kind.resource.group, f"{kind.resource.plural}/status")]
    if kind.finalizer:
        assert "patch" in granted[(kind.resource.group, kind.resource.plural)]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_plans_live_where_the_purity_contract_checks_them(kind: Kind) -> None:
    """Every planner is in a `controller.<kind>.plan` module (or `cleanup`), which the wildcard
    import-linter contract keeps free of I/O."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    pure = next(c for c in contracts if c["name"].startswith("the controller's reconcile core is pure"))
    stages = [kind.reconcile, *([kind.clean_up] if kind.clean_up else [])]
    for stage in stages:
        module = stage.plan.__module__
        assert any(
            re.fullmatch(p.replace(".", r"\.").replace("*", r"[a-z_]+"), module) for p in pure["source_modules"]
        ), f"{kind.name}: {module} is not covered by {pure['source_modules']}"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_a_finalizer_comes_with_the_clean_up_that_removes_it(kind: Kind) -> None:
    assert (kind.finalizer is None) == (kind.clean_up is None)

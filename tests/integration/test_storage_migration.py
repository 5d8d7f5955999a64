"""Upgrade path on the real API server: CRDs of the v1alpha1-only era, objects stored in v1alpha1,
upgrade to the current CRDs (v1alpha2 storage) with the conversion webhook, `python -m
controller.migrate` — every object intact through both versions, storedVersions == ["v1alpha2"]."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from devcluster import registration
from devcluster.binaries import REPO_ROOT
from devcluster.controlplane import ControlPlane, ControlPlaneOptions

MULTI_VERSION = ["aimservices", "aimmodels", "aimclustermodels"]


def current_crd(plural: str) -> dict[str, Any]:
    crd: dict[str, Any] = yaml.safe_load((REPO_ROOT / "crds" / f"{plural}.aim.eai.amd.com.yaml").read_text())
    return crd


def v1alpha1_era_crd(plural: str) -> dict[str, Any]:
    crd = copy.deepcopy(current_crd(plural))
    crd["spec"]["versions"] = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    version = crd["spec"]["versions"][0]
    version["storage"] = True
    version.pop("deprecated", None)
    version.pop("deprecationWarning", None)
    return crd


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    options = ControlPlaneOptions(workdir=tmp_path_factory.mktemp("upgrade"), simulate_nodes=False)
    with ControlPlane(options) as control_plane:
        yield control_plane


OBJECTS: list[dict[str, Any]] = [
    {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMClusterModel",
        "metadata": {"name": "qwen-cluster"},
        "spec": {"image": "amdenterpriseai/aim-qwen:0.8.5"},
    },
    {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMModel",
        "metadata": {"name": "tuned", "namespace": "team"},
        "spec": {"image": "amdenterpriseai/aim-base:0.9", "custom": {"templates": [{"name": "a", "type": "preview"}]}},
    },
    {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMService",
        "metadata": {"name": "chat", "namespace": "team", "labels": {"team": "search"}},
        "spec": {
            "model": {"name": "tuned"},
            "caching": {"mode": "Always"},
            "cacheModel": True,
            "routing": {"enabled": True, "routeTemplate": "/{.metadata.namespace}/chat"},
            "overrides": {"hardware": {"gpu": {"model": "MI300X", "requests": 2}}},
        },
    },
]
RESOURCE = {"AIMClusterModel": "aimclustermodels", "AIMModel": "aimmodels", "AIMService": "aimservices"}


def read(plane: ControlPlane, obj: dict[str, Any], version: str) -> dict[str, Any]:
    scope = ["-n", obj["metadata"]["namespace"]] if "namespace" in obj["metadata"] else []
    resource = f"{RESOURCE[obj['kind']]}.{version}.aim.eai.amd.com"
    result: dict[str, Any] = json.loads(
        plane.kubectl("get", resource, obj["metadata"]["name"], *scope, "-o", "json").stdout
    )
    return result


def migrate(plane: ControlPlane) -> subprocess.CompletedProcess[str]:
    """The documented command, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "controller.migrate"],
        capture_output=True,
        text=True,
        env=plane.env(),
        cwd=REPO_ROOT,
        timeout=120,
    )


def stored_versions(plane: ControlPlane, plural: str) -> list[str]:
    crd = json.loads(plane.kubectl("get", "crd", f"{plural}.aim.eai.amd.com", "-o", "json").stdout)
    versions: list[str] = crd["status"]["storedVersions"]
    return versions


def test_upgrade_then_migrate_keeps_every_object(plane: ControlPlane) -> None:
    old = "\n---\n".join(json.dumps(v1alpha1_era_crd(p)) for p in MULTI_VERSION)
    plane.kubectl("apply", "--server-side", "-f", "-", input_text=old)
    plane.wait_crds_established()
    plane.kubectl("create", "namespace", "team")
    for obj in OBJECTS:
        plane.kubectl("apply", "-f", "-", input_text=json.dumps(obj))
    before = {obj["metadata"]["name"]: read(plane, obj, "v1alpha1")["spec"] for obj in OBJECTS}
    assert stored_versions(plane, "aimservices") == ["v1alpha1"]

    # The upgrade: current CRDs (v1alpha2 stored) and the conversion webhook.
    new = "\n---\n".join(json.dumps(current_crd(p)) for p in MULTI_VERSION)
    plane.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input_text=new)
    plane.wait_crds_established()
    ca = (plane.pki.directory / "ca.crt").read_bytes()
    registration.register_conversion(
        plane.kubectl, [f"{p}.aim.eai.amd.com" for p in MULTI_VERSION], plane.webhook_url, ca
    )
    assert stored_versions(plane, "aimservices") == ["v1alpha1", "v1alpha2"]

    migration = migrate(plane)
    assert migration.returncode == 0, migration.stderr
    assert "aimservices.aim.eai.amd.com: 1 rewritten in v1alpha2" in migration.stdout

    for plural in MULTI_VERSION:
        assert stored_versions(plane, plural) == ["v1alpha2"]
    for obj in OBJECTS:
        assert read(plane, obj, "v1alpha1")["spec"] == before[obj["metadata"]["name"]]  # exactly as written
        assert read(plane, obj, "v1alpha2")["apiVersion"] == "aim.eai.amd.com/v1alpha2"
    service = read(plane, OBJECTS[2], "v1alpha2")["spec"]
    assert service["caching"]["mode"] == "Shared"  # legacy value mapped
    assert service["routing"]["pathTemplate"] == "/{.metadata.namespace}/chat"

    again = migrate(plane)
    assert again.returncode == 0, again.stderr  # idempotent

"""`kubectl aim` through the real kubectl plugin mechanism (an executable `kubectl-aim` on PATH)
against the real API server, with the webhooks and a controller running: `validate` gives the
verdicts `kubectl apply` gives (offline, and as an update with `--cluster`), `convert` writes what
the API server accepts, `explain` shows the controller's own template selection, `doctor` checks
the installation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.conftest import Kubectl
from tests.integration.test_service_controller import ready_model, ready_template, service

pytestmark = pytest.mark.usefixtures("controller")


def kubectl_aim(plane: ControlPlane, *args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    """`kubectl aim ...`: kubectl finds the plugin on PATH (the virtualenv's, where pip put it)."""
    env = plane.env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        [str(plane.bin_dir / "kubectl"), "aim", *args],
        input=input_text,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


BAD = {"model": {"name": "m"}, "replicas": "two", "caching": {"mode": "Sometimes"}}


def test_validate_gives_kubectl_applys_verdicts(control_plane: ControlPlane, kubectl: Kubectl, namespace: str) -> None:
    assert "validate" in kubectl_aim(control_plane, "--help").stdout

    bad = service("bad", **BAD)
    refused = kubectl.apply(bad, check=False)
    assert refused.returncode != 0
    offline = kubectl_aim(
        control_plane, "validate", "-f", "-", "-n", namespace, "-o", "json", input_text=json.dumps(bad)
    )
    assert offline.returncode == 1, offline.stderr
    fields = {f["field"] for f in json.loads(offline.stdout)["findings"] if f["severity"] == "error"}
    assert fields == {"spec.replicas", "spec.caching.mode"}
    for field in ("spec.replicas", "spec.caching.mode"):
        assert field in refused.stderr

    # With the cluster: an existing service is checked as the update apply would make.
    chat = service("chat", model={"name": "m"})
    kubectl.apply(chat)
    changed = json.dumps(service("chat", model={"name": "other"}))
    assert kubectl_aim(control_plane, "validate", "-f", "-", "-n", namespace, input_text=changed).returncode == 0
    as_update = kubectl_aim(control_plane, "validate", "--cluster", "-f", "-", "-n", namespace, input_text=changed)
    assert as_update.returncode == 1
    assert "model selection is immutable after creation" in as_update.stdout
    assert "model selection is immutable after creation" in kubectl.apply(json.loads(changed), check=False).stderr
    # ... and references are looked up, in the webhook's words.
    missing = kubectl_aim(
        control_plane,
        "validate",
        "--cluster",
        "-f",
        "-",
        "-n",
        namespace,
        input_text=json.dumps(service("new", model={"name": "nowhere"})),
    )
    assert missing.returncode == 0
    assert "no AIMModel or AIMClusterModel named 'nowhere' exists yet" in missing.stdout


def test_convert_writes_what_the_api_server_accepts(
    control_plane: ControlPlane, kubectl: Kubectl, tmp_path: Path
) -> None:
    old = {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMService",
        "metadata": {"name": "legacy"},
        "spec": {"model": {"name": "m"}, "caching": {"mode": "Always"}, "routing": {"routeTemplate": "/a/b"}},
    }
    path = tmp_path / "legacy.yaml"
    path.write_text("# kept\n" + yaml.safe_dump(old, sort_keys=False))
    converted = kubectl_aim(control_plane, "convert", "-f", str(path), "--to", "v1alpha2")
    assert converted.returncode == 0, converted.stderr
    assert converted.stdout.startswith("# kept\napiVersion: aim.eai.amd.com/v1alpha2")
    kubectl("apply", "-f", "-", input_text=converted.stdout)
    stored = kubectl.get_json("aimservices.v1alpha1.aim.eai.amd.com", "legacy")
    assert stored["spec"]["caching"]["mode"] == "Always"  # lossless: the old spelling comes back
    assert stored["spec"]["routing"]["routeTemplate"] == "/a/b"


def explain(control_plane: ControlPlane, *args: str) -> dict[str, Any]:
    result = kubectl_aim(control_plane, "explain", "service", *args, "-o", "json")
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def test_explain_shows_the_chain_and_the_controllers_selection(
    control_plane: ControlPlane, kubectl: Kubectl, namespace: str
) -> None:
    ready_model(kubectl, "m")
    ready_template(kubectl, "t-mi300x", "m", "MI300X")
    ready_template(kubectl, "t-mi355x", "m", "MI355X")  # no simulated node has it

    def states() -> dict[str, str]:
        items = kubectl.get_json("aimservicetemplates")["items"]
        return {t["metadata"]["name"]: t.get("status", {}).get("status", "") for t in items}

    wait_until(lambda: states().get("t-mi300x") == "Ready" and states().get("t-mi355x"), 60, "the templates' states")
    kubectl.apply(service("chat", model={"name": "m"}))
    wait_until(
        lambda: kubectl.get_json("aimservices.aim.eai.amd.com", "chat").get("status", {}).get("resolvedTemplate"),
        60,
        "the service to resolve a template",
    )
    explained = explain(control_plane, "chat", "-n", namespace)
    verdicts = {c["template"]: c["verdict"] for c in explained["candidates"]}
    assert verdicts["namespace/t-mi300x"] == "selected"
    # Discovery already says the GPU is missing (NotAvailable); selection drops it for that.
    assert verdicts["namespace/t-mi355x"] in ("TemplateNotAvailable", "RequiredGPUNotInCluster")
    roles = {link["role"]: link for link in explained["chain"]}
    assert roles["model"]["state"] == "Ready"
    assert roles["template"]["name"] == "t-mi300x"

    # Not yet applied: the same selection for a manifest.
    draft = Path(control_plane.workdir) / f"{namespace}-draft.json"
    draft.write_text(
        json.dumps(service("draft", model={"name": "m"}) | {"metadata": {"name": "draft", "namespace": namespace}})
    )
    dry = explain(control_plane, "--dry-run", "-f", str(draft))
    assert {c["template"]: c["verdict"] for c in dry["candidates"]} == verdicts

    absent = kubectl_aim(control_plane, "explain", "service", "nothing", "-n", namespace)
    assert absent.returncode == 1
    assert 'AIMService "nothing" not found' in absent.stderr


def test_doctor_checks_the_installation(control_plane: ControlPlane) -> None:
    result = kubectl_aim(control_plane, "doctor", "-o", "json")
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert checks["CRD aimservices.aim.eai.amd.com"]["result"] == "PASS"
    assert checks["admission"]["result"] == "PASS", checks["admission"]
    assert checks["conversion webhook of aimservices.aim.eai.amd.com"]["result"] == "PASS"
    assert checks["GPU nodes"]["result"] == "PASS"
    assert checks["controller"]["result"] == "WARN"  # here the controller runs as a local process
    assert result.returncode == (1 if any(c["result"] == "FAIL" for c in checks.values()) else 0)

"""`kubectl aim clone-templates` against the real API server, as upstream's e2e scenario
(tests/e2e/aimmodel/clone-templates-for-gpu) runs its script: the printed clones go straight into
`kubectl apply -f -`, are admitted (schema, CEL, webhooks), and ask for the target GPU with the
profile's GPU in AIM_GPU_MODEL and the source's labels. The upstream-named wrapper
(hack/clone-templates-for-gpu.sh) prints the same.

AIMClusterServiceTemplates are cluster-scoped and the session's control plane is shared: whatever
this test applies it deletes again, clones of other tests' MI300X templates included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from api.labels import MODEL, ORIGIN, ORIGIN_AUTO_GENERATED, V1ALPHA1
from devcluster.controlplane import ControlPlane
from tests.conftest import REPO_ROOT, Kubectl
from tests.integration.test_kubectl_aim import kubectl_aim

TEMPLATES = "aimclusterservicetemplates.aim.eai.amd.com"


def hack_script(plane: ControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    env = plane.env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        ["bash", str(REPO_ROOT / "hack" / "clone-templates-for-gpu.sh"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_clones_apply_and_ask_for_the_target_gpu(control_plane: ControlPlane, namespace: str) -> None:
    kubectl = Kubectl(control_plane)  # cluster-scoped objects: no namespace
    model_name = f"{namespace}-model"  # never created: the webhook only warns, the clone needs no model
    source_name, clone_name = f"{namespace}-mi300x-lat", f"{namespace}-mi308x-lat"
    kubectl.apply(
        {
            "apiVersion": V1ALPHA1,
            "kind": "AIMClusterServiceTemplate",
            "metadata": {
                "name": source_name,
                "labels": {ORIGIN: ORIGIN_AUTO_GENERATED, MODEL: model_name, "team": "inference"},
            },
            "spec": {
                "modelName": model_name,
                "metric": "latency",
                "precision": "fp8",
                "hardware": {"gpu": {"requests": 1, "model": "MI300X"}},
                "env": [{"name": "AIM_GPU_MODEL", "value": "stale"}, {"name": "HF_HOME", "value": "/cache"}],
            },
        }
    )
    cloned = kubectl_aim(control_plane, "clone-templates", "MI300X", "MI308X")
    try:
        assert cloned.returncode == 0, cloned.stderr
        assert f"  {source_name} -> {clone_name}" in cloned.stderr.splitlines()
        assert f"Model: {model_name}" in cloned.stderr.splitlines()
        wrapped = hack_script(control_plane, "MI300X", "MI308X")
        assert (wrapped.returncode, wrapped.stdout) == (0, cloned.stdout), wrapped.stderr

        kubectl("apply", "-f", "-", input_text=cloned.stdout)
        stored = kubectl.get_json(TEMPLATES, clone_name)
        assert stored["spec"]["hardware"]["gpu"]["model"] == "MI308X"
        assert "models" not in stored["spec"]["hardware"]["gpu"]
        assert stored["spec"]["env"] == [
            {"name": "HF_HOME", "value": "/cache"},
            {"name": "AIM_GPU_MODEL", "value": "MI300X"},
        ]
        assert {ORIGIN: ORIGIN_AUTO_GENERATED, MODEL: model_name, "team": "inference"}.items() <= (
            stored["metadata"]["labels"].items()
        )
        assert kubectl.get_json(TEMPLATES, source_name)["spec"]["hardware"]["gpu"]["model"] == "MI300X"

        # Run again (a runbook repeated): the clones are not clones' sources, and applying converges.
        again = kubectl_aim(control_plane, "clone-templates", "MI300X", "MI308X")
        assert again.stdout == cloned.stdout
        assert f"/{clone_name} unchanged" in kubectl("apply", "-f", "-", input_text=again.stdout).stdout
    finally:
        if cloned.stdout:
            kubectl("delete", "--ignore-not-found", "--wait=false", "-f", "-", input_text=cloned.stdout, check=False)
        kubectl("delete", TEMPLATES, source_name, "--ignore-not-found", "--wait=false", check=False)

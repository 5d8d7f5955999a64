"""Shared helpers of the real-node tests: helm, the chart's values, pods, and the objects the
scenarios deploy. Waiting is always deadline-bounded (`wait_until`)."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from typing import Any

from devcluster.binaries import REPO_ROOT, bin_dir, third_party_crds
from devcluster.controlplane import ControlPlane
from devcluster.realnode import NODE_NAME
from devcluster.waiting import wait_until
from tests.conftest import Kubectl

CHART = REPO_ROOT / "helm" / "aim-engine"
RELEASE = "aim"
SYSTEM_NAMESPACE = "aim-system"
WEBHOOK_DEPLOYMENT = f"deployment/{RELEASE}-aim-engine-webhook"
CONTROLLER_DEPLOYMENT = f"deployment/{RELEASE}-aim-engine-controller"
CERT_SECRET = f"{RELEASE}-aim-engine-webhook-tls"
LEASE = f"{RELEASE}-aim-engine-controller"
ON_REAL_NODE = {"kubernetes.io/hostname": NODE_NAME}
"""The chart's pods go to the real node: on a simulated node a container never runs."""
V1 = "aim.eai.amd.com/v1alpha1"
V2 = "aim.eai.amd.com/v1alpha2"

MODEL: dict[str, Any] = {
    "image": "registry.local/amdenterpriseai/aim-qwen:0.8.5",
    "imageMetadata": {"model": {"canonicalName": "Qwen/Qwen3-32B"}},
}
"""Metadata in the spec: the controller reads no registry for it."""
TEMPLATE: dict[str, Any] = {
    "modelName": "qwen",
    "metric": "latency",
    "precision": "fp8",
    "type": "optimized",
    "hardware": {"gpu": {"requests": 1, "models": ["MI300X"]}},
    "modelSources": [{"modelId": "Qwen/Qwen3-32B", "sourceUri": "hf://Qwen/Qwen3-32B", "size": "1Gi"}],
}
"""MI300X: the simulated node, where kwok completes the download Job (no hub is reachable)."""


def helm(plane: ControlPlane, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(bin_dir() / "helm"), *args],
        capture_output=True,
        text=True,
        env=plane.env() | {"HELM_CACHE_HOME": str(plane.workdir / "helm")},
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def project_image(plane: ControlPlane) -> tuple[str, str]:
    """(repository, tag) of the project's image in the node's registry."""
    assert plane.real_node is not None
    repository, tag = plane.real_node.pushed["project"].rsplit(":", 1)
    return repository, tag


def chart_values(plane: ControlPlane, tag: str | None = None) -> list[str]:
    repository, pushed_tag = project_image(plane)
    values: dict[str, Any] = {
        "image": {"repository": repository, "tag": tag or pushed_tag},
        "controller": {"nodeSelector": ON_REAL_NODE, "resyncSeconds": 3600},
        "webhook": {"nodeSelector": ON_REAL_NODE},
        "activator": {"nodeSelector": ON_REAL_NODE},
    }
    return ["--set-json", f"image={json.dumps(values['image'])}"] + [
        arg
        for key in ("controller", "webhook", "activator")
        for name, value in values[key].items()
        for arg in ("--set-json", f"{key}.{name}={json.dumps(value)}")
    ]


def install(plane: ControlPlane, *extra: str) -> subprocess.CompletedProcess[str]:
    return helm(
        plane,
        "install",
        RELEASE,
        str(CHART),
        "-n",
        SYSTEM_NAMESPACE,
        "--create-namespace",
        *chart_values(plane),
        *extra,
        "--wait",
        "--timeout=240s",
    )


def pods(admin: Kubectl, component: str) -> list[dict[str, Any]]:
    selector = f"app.kubernetes.io/component={component},app.kubernetes.io/instance={RELEASE}"
    items: list[dict[str, Any]] = admin.get_json("pods", "-n", SYSTEM_NAMESPACE, "-l", selector)["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def ready(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def wait_ready(admin: Kubectl, component: str, count: int, timeout: float = 180) -> list[dict[str, Any]]:
    def all_ready() -> list[dict[str, Any]] | None:
        found = pods(admin, component)
        return found if len(found) == count and all(ready(p) for p in found) else None

    return wait_until(all_ready, timeout, f"{count} ready {component} pods")


def wait_admission_answers(admin: Kubectl, timeout: float = 60) -> None:
    """Until the API server reaches a webhook pod through the Service. Ready pods join the
    Service's endpoints a moment after they are Ready, and until then the API server finds no
    one listening ("failed calling webhook ... connection refused")."""
    probe = {"apiVersion": V2, "kind": "AIMService", "metadata": {"name": "admission-probe", "namespace": "default"}}
    probe["spec"] = {"model": {"name": "qwen"}}

    def answered() -> bool:
        result = admin.apply(probe, "--dry-run=server", check=False)
        return "failed calling webhook" not in result.stderr

    wait_until(answered, timeout, "the webhooks to answer through their Service", interval=0.5)


def ensure_installed(plane: ControlPlane, admin: Kubectl) -> None:
    if admin("get", "-n", SYSTEM_NAMESPACE, WEBHOOK_DEPLOYMENT, check=False).returncode:
        install(plane)
    wait_ready(admin, "webhook", 2)
    wait_ready(admin, "controller", 2)
    wait_admission_answers(admin)


def install_third_party_crds(admin: Kubectl) -> None:
    """KServe's InferenceService and Gateway API's HTTPRoute (no controller of theirs runs)."""
    admin("apply", "--server-side", *[arg for path in third_party_crds() for arg in ("-f", str(path))])
    admin("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")


def deploy_model_and_template(admin: Kubectl, namespace: str) -> None:
    admin.apply(
        {"apiVersion": V2, "kind": "AIMModel", "metadata": {"name": "qwen", "namespace": namespace}, "spec": MODEL}
    )
    template = {
        "apiVersion": V1,
        "kind": "AIMServiceTemplate",
        "metadata": {"name": "qwen-mi300x", "namespace": namespace},
    }
    admin.apply(template | {"spec": TEMPLATE})


def service(name: str, namespace: str, **spec: Any) -> dict[str, Any]:
    metadata = {"name": name, "namespace": namespace}
    return {"apiVersion": V2, "kind": "AIMService", "metadata": metadata, "spec": spec or {"model": {"name": "qwen"}}}


def service_state(admin: Kubectl, namespace: str, name: str) -> str:
    status = admin.get_json("aimservices.aim.eai.amd.com", name, "-n", namespace).get("status") or {}
    return str(status.get("status", ""))


def wait_service_state(admin: Kubectl, namespace: str, name: str, state: str, timeout: float = 60) -> None:
    """Until the service reports `state`; on timeout the error shows its last status."""
    seen: dict[str, Any] = {}

    def reached() -> bool:
        seen.update(admin.get_json("aimservices.aim.eai.amd.com", name, "-n", namespace).get("status") or {})
        return seen.get("status") == state

    try:
        wait_until(reached, timeout, f"service {namespace}/{name} to be {state}")
    except TimeoutError as error:
        raise AssertionError(f"{error}; last status: {json.dumps(seen, indent=1)}") from error


def inference_services(admin: Kubectl, namespace: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = admin.get_json("inferenceservices", "-n", namespace)["items"]
    return items


def inference_service_of(admin: Kubectl, namespace: str, owner: str) -> str | None:
    for isvc in inference_services(admin, namespace):
        if any(ref.get("name") == owner for ref in isvc["metadata"].get("ownerReferences", [])):
            return str(isvc["metadata"]["name"])
    return None


def report_ready(admin: Kubectl, namespace: str, isvc: str) -> None:
    """What KServe's controller would write when the predictor is up."""
    ready = {"status": {"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now()}]}}
    admin(
        "patch",
        "inferenceservice",
        isvc,
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps(ready),
    )


def leader_pod(admin: Kubectl) -> str | None:
    """The controller pod holding the Lease (its identity is the pod name and a random suffix);
    None while the holder is no live pod (None, not "", so that wait_until keeps waiting)."""
    holder = str(admin.get_json("lease", "-n", SYSTEM_NAMESPACE, LEASE)["spec"].get("holderIdentity") or "")
    names = {p["metadata"]["name"] for p in pods(admin, "controller")}
    pod = holder.rsplit("-", 1)[0]
    return pod if pod in names else None


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class ApplyLoop:
    """A client applying AIMRuntimeConfigs through the webhooks in a loop, counting every refusal."""

    def __init__(self, admin: Kubectl, namespace: str) -> None:
        self.admin = admin
        self.namespace = namespace
        self.applied = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            config = {
                "apiVersion": V1,
                "kind": "AIMRuntimeConfig",
                "metadata": {"name": f"loop-{self.applied % 5}", "namespace": self.namespace},
                "spec": {"env": [{"name": "AIM_LOOP", "value": str(self.applied)}]},
            }
            result = self.admin.apply(config, check=False)
            if result.returncode != 0:
                self.failures.append(result.stderr.strip())
            self.applied += 1

    def wait_for_more(self, count: int, what: str) -> None:
        target = self.applied + count
        wait_until(lambda: self.applied >= target, 60, what)

    def __enter__(self) -> ApplyLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)

"""The labels upstream AIM Engine's users select by, on the real API server: a service's children
found with `kubectl get -l aim.eai.amd.com/service.name=…`, its `aim.eai.amd.com/*` labels carried
down service → template cache → artifact → PVC and Jobs, each child (and a Job's pods) naming
its owner (`aim.eai.amd.com/<kind>.name`), the Jobs' `aim.eai.amd.com/component`, the PVC's
`source-model`, and `template-created` on artifacts (docs/upstream-differences.md#labels)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.conftest import Kubectl, controller_running
from tests.integration.test_service_controller import ready_model, ready_template, service
from tests.registry import Crane

TIER = "aim.eai.amd.com/tier"


@pytest.fixture(scope="module", autouse=True)
def controller(control_plane: ControlPlane) -> Iterator[None]:
    with controller_running(control_plane, "controller-labels", {"sim.aim.eai.amd.com/run-duration": "3s"}):
        yield


def selected(kubectl: Kubectl, resource: str, selector: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = kubectl.get_json(resource, "-l", selector)["items"]
    return found


def labels_of(obj: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = obj["metadata"].get("labels") or {}
    return found


def test_a_services_children_carry_upstreams_labels_down_the_chain(kubectl: Kubectl) -> None:
    ready_model(kubectl, "m")
    ready_template(kubectl, "t", "m", "MI300X")
    chat = service("chat", model={"name": "m"}, template={"name": "t"})
    chat["metadata"]["labels"] = {TIER: "gold", "team": "a"}
    kubectl.apply(chat)

    by_service = "aim.eai.amd.com/service.name=chat"
    (cache,) = wait_until(lambda: selected(kubectl, "aimtemplatecaches", by_service) or None, 30, "the cache")
    assert labels_of(cache)[TIER] == "gold"
    assert "team" not in labels_of(cache), "only aim.eai.amd.com/* travels without labelPropagation"

    cache_name = cache["metadata"]["name"]
    (artifact,) = wait_until(
        lambda: selected(kubectl, "aimartifacts", f"aim.eai.amd.com/template-cache.name={cache_name}") or None,
        30,
        "the artifact",
    )
    artifact_labels = labels_of(artifact)
    assert artifact_labels["template-created"] == "true"
    assert artifact_labels["aim.eai.amd.com/template.name"] == "t"
    assert artifact_labels[TIER] == "gold"  # from the cache, which had it from the service

    by_artifact = f"aim.eai.amd.com/artifact.name={artifact['metadata']['name']}"
    (pvc,) = wait_until(lambda: selected(kubectl, "persistentvolumeclaims", by_artifact) or None, 30, "the PVC")
    assert labels_of(pvc)["aim.eai.amd.com/source-model"] == "qwen_qwen3-32b"
    assert labels_of(pvc)[TIER] == "gold"

    downloads = wait_until(
        lambda: selected(kubectl, "jobs", f"{by_artifact},aim.eai.amd.com/component=download") or None,
        30,
        "the download Job",
    )
    job_labels = labels_of(downloads[0])
    assert job_labels[TIER] == "gold"
    assert job_labels["aim.eai.amd.com/template-cache.name"] == cache_name
    pods = wait_until(lambda: selected(kubectl, "pods", by_artifact) or None, 30, "the download pod")
    # A Job's pod template cannot change, so only its own labels and the owner's name go there.
    assert labels_of(pods[0])["aim.eai.amd.com/component"] == "download"
    assert TIER not in labels_of(pods[0])

    # Once the cache is Ready, the service deploys.
    isvc = wait_until(lambda: selected(kubectl, "inferenceservices", by_service) or None, 60, "the InferenceService")
    assert labels_of(isvc[0])[TIER] == "gold"
    assert "team" not in labels_of(isvc[0]), "labelPropagation is off by default"


def test_an_inline_cpu_custom_model_and_its_template_are_labelled_and_sized_as_upstream(
    kubectl: Kubectl, crane: Crane
) -> None:
    """Upstream's custom-model/cpu-only(-inline) and model-deduplication scenarios: the model a
    service makes names the service; its template is `origin: auto-generated` (custom is in its
    name only) with the CPU quantities as Kubernetes writes them back ("2000m" → "2")."""
    source = {"modelId": "org/cpu-model", "sourceUri": "s3://models/cpu-model", "size": "1Gi"}
    crane.push_image("amdenterpriseai/aim-base", "cpu")
    custom = {
        "baseImage": crane.ref("amdenterpriseai/aim-base", "cpu"),
        "modelSources": [source],
        "hardware": {"cpu": {"requests": "500m", "limits": "2000m"}},
    }
    kubectl.apply(service("cpu", model={"custom": custom}, template={"allowUnoptimized": True}))

    (model,) = wait_until(
        lambda: selected(kubectl, "aimmodels", "aim.eai.amd.com/custom-model=true") or None, 30, "model"
    )
    assert labels_of(model)["aim.eai.amd.com/service"] == "cpu"
    assert labels_of(model)["aim.eai.amd.com/origin"] == "auto-generated"
    model_name = model["metadata"]["name"]
    (template,) = wait_until(
        lambda: selected(kubectl, "aimservicetemplates", f"aim.eai.amd.com/model={model_name}") or None, 30, "template"
    )
    assert labels_of(template)["aim.eai.amd.com/origin"] == "auto-generated"
    assert "-custom-" in template["metadata"]["name"]
    assert template["spec"]["hardware"]["cpu"] == {"requests": "500m", "limits": "2"}
    assert template["spec"]["resources"] == {"requests": {"cpu": "500m"}, "limits": {"cpu": "2"}}

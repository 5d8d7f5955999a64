"""The model catalog against the real API server and a real OCI registry on 127.0.0.1: image-label
discovery, templates from recommended deployments, discovery Jobs, private registries, unreachable
registries, custom models and fine-tuned copies.

Discovery Jobs run on the simulated nodes for 3 s; the test writes what the AIM image would print
(`dry-run --format=json`) as the Job's log, which the controller reads through `pods/log`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from controller.template.plan import discovery_job_name
from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl, controller_running
from tests.integration.test_service_controller import V1, V2
from tests.registry import Crane, RegistryServer

PodLogs = Callable[[str, str, str], Path]
DEPLOYMENTS = [
    {"gpuModel": "MI300X", "gpuCount": 1, "precision": "fp8", "metric": "latency", "profileId": "vllm-mi300x-fp8"},
    {"gpuModel": "MI250X", "gpuCount": 2, "precision": "fp16", "metric": "throughput"},
]
LABELS = {
    "com.amd.aim.model.canonicalName": "Qwen/Qwen3-32B",
    "com.amd.aim.model.recommendedDeployments": json.dumps(DEPLOYMENTS),
    "com.amd.aim.title": "Qwen 3 32B",
    "org.opencontainers.image.version": "0.9.0",
}
DISCOVERY_OUTPUT = [
    {
        "filename": "vllm-mi300x-fp8-tp1-latency.yaml",
        "profile": {
            "model": "Qwen/Qwen3-32B",
            "metadata": {"engine": "vllm", "gpu": "MI300X", "precision": "fp8", "gpu_count": 1, "metric": "latency"},
            "engine_args": {"max-model-len": 32768},
            "env_vars": {"VLLM_USE_V1": "1"},
        },
        "models": [{"name": "Qwen/Qwen3-32B", "source": "hf://Qwen/Qwen3-32B", "size_gb": 2}],
    }
]


@pytest.fixture(scope="module", autouse=True)
def controller(control_plane: ControlPlane) -> Iterator[None]:
    # A missing or unreachable image is read again after seconds here, not the default minute.
    retry = json.dumps({"unreachable": 2, "not-found": 2, "unauthorized": 300})
    with controller_running(
        control_plane,
        "controller-catalog",
        {"sim.aim.eai.amd.com/run-duration": "3s"},
        image_retry_seconds=retry,
    ):
        yield


def model(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": V2, "kind": "AIMModel", "metadata": {"name": name}, "spec": spec}


def wait_model(kubectl: Kubectl, name: str, predicate: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def check() -> bool:
        seen.clear()
        seen.update(kubectl.get_json("aimmodels.aim.eai.amd.com", name))
        return predicate(seen.get("status") or {})

    try:
        wait_until(check, 60, what)
    except TimeoutError as error:
        raise AssertionError(f"{error}; last status: {json.dumps(seen.get('status'), indent=1)}") from error
    return seen


def templates(kubectl: Kubectl) -> dict[str, dict[str, Any]]:
    return {t["metadata"]["name"]: t for t in kubectl.get_json("aimservicetemplates.aim.eai.amd.com")["items"]}


def templates_when(kubectl: Kubectl, count: int) -> dict[str, dict[str, Any]] | None:
    found = templates(kubectl)
    return found if len(found) == count else None


def test_labels_become_metadata_and_templates_that_discovery_completes(
    kubectl: Kubectl, namespace: str, crane: Crane, oci_registry: RegistryServer, pod_logs: PodLogs
) -> None:
    crane.push_image("amdenterpriseai/aim-qwen3-32b", "0.9.0", labels=LABELS)
    mark = oci_registry.access_log_mark()
    image = crane.ref("amdenterpriseai/aim-qwen3-32b", "0.9.0")
    kubectl.apply(model("qwen", image=image))
    ready = wait_model(
        kubectl, "qwen", lambda s: condition(s, "ImageMetadataReady").get("status") == "True", "the metadata"
    )
    metadata = ready["status"]["imageMetadata"]
    assert metadata["model"]["canonicalName"] == "Qwen/Qwen3-32B"
    assert metadata["model"]["recommendedDeployments"][0]["gpuModel"] == "MI300X"
    assert metadata["originalLabels"]["com.amd.aim.title"] == "Qwen 3 32B"
    assert condition(ready["status"], "ImageMetadataReady")["reason"] == "ImageMetadataFound"
    assert ready["status"]["sourceType"] == "Image"
    pulls = [e for e in oci_registry.requests_since(mark) if e.method == "GET" and "aim-qwen3-32b" in e.path]
    assert all("/manifests/" in e.path or "/blobs/" in e.path for e in pulls)
    assert len([e for e in pulls if "/blobs/" in e.path]) == 1, "the config blob only, never a layer"

    found = wait_until(lambda: templates_when(kubectl, 2), 30, "two templates")
    by_gpu = {t["spec"]["hardware"]["gpu"]["model"]: t for t in found.values()}  # upstream's spelling
    mi300x, mi250x = by_gpu["MI300X"], by_gpu["MI250X"]
    assert mi300x["spec"] == {
        "modelName": "qwen",
        "metric": "latency",
        "precision": "fp8",
        "profileId": "vllm-mi300x-fp8",
        "hardware": {"gpu": {"model": "MI300X", "requests": 1, "resourceName": "amd.com/gpu"}},
    }
    assert mi300x["metadata"]["labels"]["aim.eai.amd.com/origin"] == "auto-generated"
    assert mi300x["metadata"]["labels"]["aim.eai.amd.com/model.name"] == "qwen"
    assert mi300x["metadata"]["ownerReferences"][0]["uid"] == ready["metadata"]["uid"]

    # No MI250X in this cluster: that template is NotAvailable and needs no discovery.
    unavailable = wait_until(
        lambda: (
            (t := templates(kubectl)[mi250x["metadata"]["name"]]).get("status", {}).get("status") == "NotAvailable"
            and t
        ),
        30,
        "the MI250X template to be NotAvailable",
    )
    assert condition(unavailable["status"], "GPUReady")["reason"] == "GPUNotAvailable"

    # The MI300X template runs the image's dry run as a discovery Job and reads its output.
    job_name = discovery_job_name(mi300x, image)
    job = wait_until(lambda: kubectl.get_json("jobs", job_name), 30, "the discovery Job")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == image
    assert container["args"] == ["dry-run", "--format=json"]
    assert {"name": "AIM_GPU_MODEL", "value": "MI300X"} in container["env"]
    assert {"name": "AIM_ACCELERATOR_MODEL", "value": "MI300X"} in container["env"]
    pod_logs(namespace, job_name, "starting\n" + json.dumps(DISCOVERY_OUTPUT))
    discovered = wait_until(
        lambda: (t := templates(kubectl)[mi300x["metadata"]["name"]]).get("status", {}).get("status") == "Ready" and t,
        60,
        "the MI300X template to be discovered",
    )
    status = discovered["status"]
    assert status["modelSources"] == [
        {
            "modelId": "Qwen/Qwen3-32B",
            "sourceUri": "hf://Qwen/Qwen3-32B",
            "size": "2Gi",
        }  # a quantity, as upstream writes it
    ]
    assert status["profile"]["engine_args"] == {"max-model-len": 32768}
    assert status["profile"]["metadata"]["gpuCount"] == 1
    assert condition(status, "Discovered")["reason"] == "DiscoveryComplete"
    assert status["hardwareSummary"] == "1 x MI300X"
    assert status["version"] == image.rsplit(":", 1)[1]  # the model's image tag, as upstream 0.2.4

    settled = wait_model(
        kubectl,
        "qwen",
        lambda s: condition(s, "ServiceTemplatesReady").get("reason") == "SomeTemplatesReady",
        "the model to aggregate its templates",
    )
    assert settled["status"]["status"] == "Ready"


def test_an_image_without_aim_labels_is_found_but_makes_no_templates(kubectl: Kubectl, crane: Crane) -> None:
    crane.push_image("plain/vllm", "1.0", labels={"org.opencontainers.image.title": "vllm"})
    kubectl.apply(model("plain", image=crane.ref("plain/vllm", "1.0")))
    ready = wait_model(kubectl, "plain", lambda s: s.get("status") == "Ready", "the model")
    found = condition(ready["status"], "ImageMetadataReady")
    assert (found["status"], found["reason"]) == ("True", "ImageFound")  # as upstream: found, only no templates
    assert condition(ready["status"], "ServiceTemplatesReady")["reason"] == "NoTemplatesExpected"
    assert ready["status"]["imageMetadata"]["oci"]["title"] == "vllm"
    assert not templates(kubectl)


def test_unreachable_and_missing_images_degrade_and_are_retried(kubectl: Kubectl, crane: Crane) -> None:
    kubectl.apply(model("away", image="127.0.0.1:1/org/aim-x:1.0"))
    away = wait_model(kubectl, "away", lambda s: s.get("status") == "Degraded", "the model to degrade")
    assert condition(away["status"], "DependenciesReachable")["reason"] == "InfrastructureError"
    assert "127.0.0.1:1" in condition(away["status"], "ImageMetadataReady")["message"]

    image = crane.ref("later/aim-y", "1.0")
    kubectl.apply(model("later", image=image))
    wait_model(kubectl, "later", lambda s: s.get("status") == "Degraded", "a missing image to degrade")
    crane.push_image("later/aim-y", "1.0", labels=LABELS)  # the controller retries and finds it
    wait_model(
        kubectl,
        "later",
        lambda s: condition(s, "ImageMetadataReady").get("reason") == "ImageMetadataFound",
        "the retry to find the pushed image",
    )


def test_a_private_registry_needs_the_pull_secret(
    kubectl: Kubectl, private_crane: Crane, private_oci_registry: RegistryServer
) -> None:
    private_crane.push_image("private/aim-z", "2.0", labels=LABELS)
    image = private_crane.ref("private/aim-z", "2.0")
    kubectl.apply(model("anonymous", image=image))
    denied = wait_model(kubectl, "anonymous", lambda s: s.get("status") == "Failed", "anonymous access to fail")
    assert condition(denied["status"], "AuthValid")["reason"] == "AuthError"
    password = private_oci_registry.password
    assert password is not None
    assert password not in json.dumps(denied["status"])

    kubectl.apply(model("missing-secret", image=image, imagePullSecrets=[{"name": "absent"}]))
    missing = wait_model(kubectl, "missing-secret", lambda s: s.get("status") == "Failed", "the missing secret")
    assert condition(missing["status"], "ImageMetadataReady")["reason"] == "SecretNotFound"
    # upstream's aimmodel/invalid-image-pull-secret
    config_valid = condition(missing["status"], "ConfigValid")
    assert (config_valid["status"], config_valid["reason"]) == ("False", "ReferenceNotFound")
    assert condition(missing["status"], "Ready")["status"] == "False"

    kubectl.apply(private_oci_registry.dockerconfigjson_secret("pull"))
    kubectl.apply(model("authorized", image=image, imagePullSecrets=[{"name": "pull"}]))
    wait_model(
        kubectl,
        "authorized",
        lambda s: condition(s, "ImageMetadataReady").get("reason") == "ImageMetadataFound",
        "the metadata through the pull secret",
    )
    events = kubectl("get", "events", "-o", "json").stdout
    assert password not in events


def test_custom_templates_inherit_hardware_and_type(kubectl: Kubectl, crane: Crane) -> None:
    crane.push_image("amdenterpriseai/aim-base", "0.9")  # a base image: no AIM labels
    kubectl.apply(
        model(
            "tuned",
            image=crane.ref("amdenterpriseai/aim-base", "0.9"),
            modelSources=[{"modelId": "org/tuned", "sourceUri": "s3://models/tuned", "size": "1Gi"}],
            custom={"hardware": {"gpu": {"requests": 1, "models": ["MI300X"]}}, "type": "preview"},
            customTemplates=[
                {"name": "fast", "profile": {"metric": "latency", "precision": "fp8"}},
                {"name": "old-gpu", "hardware": {"gpu": {"models": ["MI250X"]}}, "type": "unoptimized"},
            ],
        )
    )
    found = wait_until(lambda: templates_when(kubectl, 2), 30, "two custom templates")
    by_alias = {t["metadata"]["labels"]["aim.eai.amd.com/template.alias"]: t for t in found.values()}
    fast, old = by_alias["fast"], by_alias["old-gpu"]
    assert fast["spec"]["type"] == "preview"
    assert (fast["spec"]["metric"], fast["spec"]["precision"]) == ("latency", "fp8")
    # The model is stored as v1alpha2 (`models: [X]` only); its templates spell one model as upstream.
    assert fast["spec"]["hardware"]["gpu"]["model"] == "MI300X"
    assert old["spec"]["type"] == "unoptimized"
    assert old["spec"]["hardware"]["gpu"] == {"requests": 1, "model": "MI250X", "resourceName": "amd.com/gpu"}
    assert fast["spec"]["modelSources"] == [{"modelId": "org/tuned", "sourceUri": "s3://models/tuned", "size": "1Gi"}]
    ready = wait_model(
        kubectl, "tuned", lambda s: condition(s, "ServiceTemplatesReady").get("reason") == "SomeTemplatesReady", "agg"
    )
    assert ready["status"]["sourceType"] == "Custom"
    # upstream's custom-models/template-creation: each template's own status on the API server.
    # MI250X is on no simulated node.
    wait_until(lambda: template_status(kubectl, old["metadata"]["name"]).get("status") == "NotAvailable", 30, "old")
    fast_status = wait_until(
        lambda: (st := template_status(kubectl, fast["metadata"]["name"])).get("status") == "Ready" and st, 30, "fast"
    )
    assert fast_status["hardwareSummary"] == "1 x MI300X"
    assert fast_status["profile"]["metadata"] == {
        "gpu": "MI300X",
        "gpuCount": 1,
        "metric": "latency",
        "precision": "fp8",
        "type": "preview",
    }
    assert fast_status["modelSources"] == fast["spec"]["modelSources"]
    # As upstream, the base image is looked up: it exists, and needs no AIM labels.
    assert condition(ready["status"], "ImageMetadataReady")["reason"] == "ImageFound"
    assert condition(ready["status"], "ImageMetadataReady")["status"] == "True"


def user_template(name: str, model_name: str, gpu: str = "MI300X") -> dict[str, Any]:
    """A template written by hand (not owned by its model), with inline sources: no discovery."""
    return {
        "apiVersion": V1,
        "kind": "AIMServiceTemplate",
        "metadata": {"name": name},
        "spec": {
            "modelName": model_name,
            "metric": "latency",
            "precision": "fp16",
            "hardware": {"gpu": {"requests": 1, "models": [gpu]}},
            "modelSources": [{"modelId": "org/x", "sourceUri": "s3://models/x", "size": "1Gi"}],
        },
    }


def template_status(kubectl: Kubectl, name: str) -> dict[str, Any]:
    return kubectl.get_json("aimservicetemplates.aim.eai.amd.com", name).get("status") or {}


def test_an_image_models_custom_templates_are_made_beside_its_discovered_ones(kubectl: Kubectl, crane: Crane) -> None:
    """Upstream's aimmodel/additive-custom-templates: customTemplates on an image model (no
    modelSources) add to the templates of its recommended deployments."""
    crane.push_image("additive/aim-qwen", "0.9.0", labels=LABELS)
    custom = [
        {"name": "mine", "hardware": {"gpu": {"requests": 2, "models": ["MI300X"]}}, "type": "preview"},
        {"name": "cheap", "hardware": {"gpu": {"requests": 1, "models": ["MI300X"]}}},
    ]
    kubectl.apply(model("additive", image=crane.ref("additive/aim-qwen", "0.9.0"), customTemplates=custom))
    found = wait_until(lambda: templates_when(kubectl, len(DEPLOYMENTS) + 2), 30, "discovered and custom templates")
    aliases = {(t["metadata"].get("labels") or {}).get("aim.eai.amd.com/template.alias") for t in found.values()}
    assert {"mine", "cheap"} <= aliases
    for t in found.values():
        assert t["metadata"]["labels"]["aim.eai.amd.com/origin"] == "auto-generated"
        assert t["metadata"]["labels"]["aim.eai.amd.com/model"] == "additive"
    # (the templates' discovery Jobs get no profile here: only what the model made is checked)
    wait_model(kubectl, "additive", lambda s: s.get("sourceType") == "Image", "the model's source type")


def test_a_custom_model_with_a_missing_base_image_degrades_itself_and_its_templates(
    kubectl: Kubectl, crane: Crane
) -> None:
    """Upstream's custom-models/nonexistent-image and valid-image scenarios: the base image is
    looked up; missing, the model is Degraded (ImageMetadataReady=False) and makes no template, and
    a template written for it is Degraded too (ModelReady=False ModelFailed); once the image is
    pushed, the retry finds it (ImageFound: no AIM labels needed), the model makes its template and
    both become Ready."""
    base = crane.ref("custom/aim-base", "7.0")  # not pushed yet
    source = {"modelId": "org/custom", "sourceUri": "s3://models/custom", "size": "1Gi"}
    hardware = {"gpu": {"requests": 1, "models": ["MI300X"]}}
    kubectl.apply(model("custom-missing", image=base, modelSources=[source], custom={"hardware": hardware}))
    kubectl.apply(user_template("custom-missing-tpl", "custom-missing"))
    degraded = wait_model(kubectl, "custom-missing", lambda s: s.get("status") == "Degraded", "the model to degrade")
    assert degraded["status"]["sourceType"] == "Custom"
    assert condition(degraded["status"], "ImageMetadataReady")["status"] == "False"
    wait_until(lambda: template_status(kubectl, "custom-missing-tpl").get("status") == "Degraded", 30, "template")
    model_ready = condition(template_status(kubectl, "custom-missing-tpl"), "ModelReady")
    assert (model_ready["status"], model_ready["reason"]) == ("False", "ModelFailed")
    assert set(templates(kubectl)) == {"custom-missing-tpl"}, "no template is made while the image is missing"

    crane.push_image("custom/aim-base", "7.0")  # the controller retries and finds it
    ready = wait_model(kubectl, "custom-missing", lambda s: s.get("status") == "Ready", "the model once pushed")
    found = condition(ready["status"], "ImageMetadataReady")
    assert (found["status"], found["reason"]) == ("True", "ImageFound")
    wait_until(lambda: len(templates(kubectl)) == 2, 30, "the model's own template")
    wait_until(lambda: template_status(kubectl, "custom-missing-tpl").get("status") == "Ready", 30, "template Ready")


def test_a_models_status_counts_templates_it_does_not_own(kubectl: Kubectl) -> None:
    """As upstream (templates indexed by spec.modelName): a model with no templates of its own
    reports the ones written for it by hand, and follows their health."""
    kubectl.apply(
        model("bare", image="registry.example/org/bare:1.0", imageMetadata={"model": {"canonicalName": "o/b"}})
    )
    wait_model(
        kubectl,
        "bare",
        lambda s: condition(s, "ServiceTemplatesReady").get("reason") == "NoTemplatesExpected",
        "no templates expected",
    )
    kubectl.apply(user_template("bare-mi300x", "bare"))
    wait_model(
        kubectl,
        "bare",
        lambda s: condition(s, "ServiceTemplatesReady").get("reason") == "AllTemplatesReady",
        "the model to count the user's template",
    )
    kubectl.apply(user_template("bare-nowhere", "bare", gpu="MI355X"))  # no such GPU among the nodes
    wait_model(
        kubectl,
        "bare",
        lambda s: condition(s, "ServiceTemplatesReady").get("reason") == "SomeTemplatesReady",
        "one of two templates Ready",
    )


def official(kubectl: Kubectl, name: str, image: str, base: str) -> dict[str, Any]:
    """An official model of the `qwen/qwen3` family with one template, as a catalog would ship them."""
    kubectl.apply(
        model(name, image=image, imageMetadata={"baseImageRef": base}, discovery={"createServiceTemplates": False})
    )
    owner = kubectl.get_json("aimmodels.aim.eai.amd.com", name)
    template = {
        "apiVersion": V1,
        "kind": "AIMServiceTemplate",
        "metadata": {
            "name": f"{name}-mi300x",
            "ownerReferences": [{"apiVersion": V2, "kind": "AIMModel", "name": name, "uid": owner["metadata"]["uid"]}],
        },
        "spec": {
            "modelName": name,
            "aimId": "qwen/qwen3",
            "modelId": "Qwen/Qwen3-32B",
            "metric": "latency",
            "precision": "fp8",
            "hardware": {"gpu": {"requests": 1, "models": ["MI300X"]}},
            "modelSources": [{"modelId": "Qwen/Qwen3-32B", "sourceUri": "hf://Qwen/Qwen3-32B", "size": "1Gi"}],
        },
    }
    kubectl.apply(template)
    return template


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param("pinned", {"old-mi300x": "{registry}/mirror/aim-qwen:0.9.0"}, id="pinned-own-image"),
        pytest.param("latest", {"new-mi300x": "{registry}/mirror/aim-base:1.0"}, id="latest-rebased"),
        pytest.param(
            "any",
            {
                "old-mi300x": "{registry}/mirror/aim-base:0.9",
                "new-mi300x": "{registry}/mirror/aim-base:1.0",
            },
            id="any",
        ),
    ],
)
def test_fine_tuned_models_copy_official_templates_per_version_policy(
    kubectl: Kubectl, crane: Crane, policy: str, expected: dict[str, str]
) -> None:
    # The official images are in a registry the controller reaches: a pinned fine-tuned model's own
    # image is looked up as every model's is (upstream).
    crane.push_image("mirror/aim-qwen", "0.9.0")
    registry = crane.server.host
    expected = {k: v.format(registry=registry) for k, v in expected.items()}
    official(kubectl, "old", f"{registry}/mirror/aim-qwen:0.9.0", "docker.io/amdenterpriseai/aim-base:0.9")
    official(kubectl, "new", f"{registry}/mirror/aim-qwen:1.0.0", "docker.io/amdenterpriseai/aim-base:1.0")
    image = f"{registry}/mirror/aim-qwen:0.9.0" if policy == "pinned" else ""
    spec: dict[str, Any] = {
        "aimId": "qwen/qwen3",
        "modelSources": [{"modelId": "Qwen/Qwen3-32B", "sourceUri": "s3://tuned/qwen3-32b-med", "size": "1Gi"}],
        "custom": {"versionPolicy": policy, "hardware": {"gpu": {"requests": 1}}},
    }
    if image:
        spec["image"] = image
    kubectl.apply(model("medical", **spec))

    def copies() -> dict[str, dict[str, Any]]:
        return {
            n: t
            for n, t in templates(kubectl).items()
            if (t["metadata"].get("labels") or {}).get("aim.eai.amd.com/origin") == "fine-tuned"
        }

    def all_copies() -> dict[str, dict[str, Any]] | None:
        found = copies()
        return found if len(found) == len(expected) else None

    found = wait_until(all_copies, 30, "the fine-tuned copies")
    images = {
        t["metadata"]["ownerReferences"][0]["name"]: t["metadata"]["annotations"][
            "aim.eai.amd.com/deployment-image-ref"
        ]
        for t in found.values()
    }
    assert set(images) == {"medical"}
    by_source = {}
    for t in found.values():
        version = "old-mi300x" if "0-9" in t["metadata"]["name"] else "new-mi300x"
        by_source[version] = t["metadata"]["annotations"]["aim.eai.amd.com/deployment-image-ref"]
        assert t["spec"]["modelSources"] == spec["modelSources"]
        assert t["spec"]["modelName"] == "medical"
        assert t["spec"]["aimId"] == "qwen/qwen3"
    assert by_source == expected

    if policy == "any":  # copies follow the official templates: one disappears, its copy goes
        kubectl("delete", "aimservicetemplates.aim.eai.amd.com", "new-mi300x")
        wait_until(lambda: len(copies()) == 1, 30, "the copy of the deleted template to go")

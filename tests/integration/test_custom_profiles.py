"""A template's customProfile on the real API server: kubectl apply of the template and a service
gives the service's profile ConfigMap, its mount and the env selecting it on the InferenceService;
editing the profile rewrites the ConfigMap, removing it deletes the ConfigMap and the mount."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from api.naming import custom_profile_config_map_name
from devcluster.waiting import wait_until
from tests.builders import container_env
from tests.conftest import Kubectl
from tests.integration.test_service_controller import V1, deployed, ready_model, service, wait_service

pytestmark = pytest.mark.usefixtures("controller")

AIM = "meta-llama/Llama-3.1-8B"
FILE = "vllm-mi300x-fp16-tp1-latency.yaml"
SOURCES = [{"modelId": "acme/llama-ft", "sourceUri": "hf://acme/llama-ft", "size": "1Gi"}]


def custom_template(name: str, model: str, engine_args: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": V1,
        "kind": "AIMServiceTemplate",
        "metadata": {"name": name},
        "spec": {
            "modelName": model,
            "metric": "latency",
            "precision": "fp16",
            "hardware": {"gpu": {"requests": 1, "models": ["MI300X"]}},
            "type": "unoptimized",
            "aimId": AIM,
            "modelId": "acme/llama-ft",
            "modelSources": SOURCES,
            "env": [{"name": "LOG_LEVEL", "value": "template"}],
            "customProfile": {"engineArgs": engine_args, "envVars": {"HIP_FORCE_DEV_KERNARG": "1"}},
        },
    }


def the_isvc(kubectl: Kubectl) -> dict[str, Any]:
    [isvc] = kubectl.get_json("inferenceservices.serving.kserve.io")["items"]
    return dict(isvc)


def profile_file(kubectl: Kubectl) -> dict[str, Any]:
    config_map = kubectl.get_json("configmaps", custom_profile_config_map_name("svc"))
    return dict(yaml.safe_load(config_map["data"][FILE]))


def test_a_custom_profile_is_mounted_selected_updated_and_removed(kubectl: Kubectl) -> None:
    ready_model(kubectl, "m")
    kubectl.apply(custom_template("custom", "m", {"max-model-len": 8192, "enforce-eager": True}))
    svc = service("svc", model={"name": "m"}, template={"name": "custom"}, env=[{"name": "LOG_LEVEL", "value": "svc"}])
    kubectl.apply(svc)
    status = wait_service(kubectl, "svc", deployed, "the service to start")
    uid = kubectl.get_json("aimservices.aim.eai.amd.com", "svc")["metadata"]["uid"]

    config_map = kubectl.get_json("configmaps", custom_profile_config_map_name("svc"))
    assert [(o["kind"], o["uid"]) for o in config_map["metadata"]["ownerReferences"]] == [("AIMService", uid)]
    assert config_map["metadata"]["labels"]["aim.eai.amd.com/service"] == "svc"
    assert profile_file(kubectl) == {
        "aim_id": AIM,
        "model_id": "acme/llama-ft",
        "metadata": {
            "engine": "vllm",
            "gpu": "MI300X",
            "gpu_count": 1,
            "manual_selection_only": False,
            "metric": "latency",
            "precision": "fp16",
            "type": "unoptimized",
        },
        "engine_args": {"max-model-len": 8192, "enforce-eager": True},
        "env_vars": {"HIP_FORCE_DEV_KERNARG": "1"},
    }
    assert status["status"]["resolvedTemplate"]["name"] == "custom"

    isvc = the_isvc(kubectl)
    predictor = isvc["spec"]["predictor"]
    volumes = {v["name"]: v for v in predictor["volumes"]}
    assert volumes["custom-profile"]["configMap"]["name"] == config_map["metadata"]["name"]
    mounts = {m["name"]: m for m in predictor["containers"][0]["volumeMounts"]}
    assert mounts["custom-profile"]["mountPath"] == f"/workspace/aim-runtime/profiles/custom/{AIM}"
    assert mounts["custom-profile"]["readOnly"] is True
    env = container_env(isvc)
    assert env["AIM_PROFILE_ID"] == f"custom/{AIM}/vllm-mi300x-fp16-tp1-latency"
    assert env["AIM_ID"] == AIM
    assert "AIM_MODEL_ID" not in env  # the runtime refuses AIM_ID and AIM_MODEL_ID together
    assert (env["AIM_METRIC"], env["AIM_PRECISION"], env["LOG_LEVEL"]) == ("latency", "fp16", "svc")

    # An edited profile rewrites the ConfigMap in place (same name, same mount).
    kubectl.apply(custom_template("custom", "m", {"max-model-len": 4096}))
    wait_until(lambda: profile_file(kubectl)["engine_args"] == {"max-model-len": 4096}, 30, "the edited profile file")

    # Without a custom profile the service deploys the template plainly and the ConfigMap goes.
    remove = [{"op": "remove", "path": "/spec/customProfile"}]
    kubectl("patch", "aimservicetemplate", "custom", "--type=json", "-p", json.dumps(remove))
    wait_until(
        lambda: "custom-profile" not in [v["name"] for v in the_isvc(kubectl)["spec"]["predictor"]["volumes"]],
        30,
        "the InferenceService without the profile volume",
    )
    env = container_env(the_isvc(kubectl))
    assert "AIM_PROFILE_ID" not in env
    assert (env["AIM_ID"], env["AIM_MODEL_ID"]) == ("", "acme/llama-ft")
    wait_until(
        lambda: not kubectl.get_json("configmaps", "-l", "aim.eai.amd.com/service=svc")["items"],
        30,
        "the profile ConfigMap to be deleted",
    )

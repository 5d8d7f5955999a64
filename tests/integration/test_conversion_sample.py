"""A sample of the property test's random objects, written through the real API server in their
version and read back through both versions: nothing is lost in storage or conversion."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from api.conversion import V1, V2, convert
from api.defaulting import apply_defaults
from tests.conftest import Kubectl
from tests.unit.api.test_conversion import objects

# Shrinking would replay dozens of kubectl round trips; the first failing object is reported as is.
NO_SHRINK = [Phase.explicit, Phase.reuse, Phase.generate]
PLURALS = {"AIMService": "aimservices", "AIMModel": "aimmodels", "AIMClusterModel": "aimclustermodels"}


def admissible(obj: dict[str, Any], namespace: str, index: int) -> dict[str, Any]:
    """The random object minus what CEL or the admission webhook refuses, so the sample tests
    conversion and storage rather than validation."""
    obj = copy.deepcopy(obj)
    obj.pop("status", None)
    # Annotation keys must be qualified names: keep the generated ones, made valid.
    annotations = {
        "-".join(filter(None, [f"k{i}", key.strip("-")])): value
        for i, (key, value) in enumerate((obj["metadata"].get("annotations") or {"a": "b"}).items())
    }
    obj["metadata"] = {"name": f"r{index}", "annotations": annotations}
    if obj["kind"] != "AIMClusterModel":
        obj["metadata"]["namespace"] = namespace
    spec = obj["spec"]
    _name_env_vars(spec)
    for hardware in _hardware_blocks(spec):
        gpu = hardware.get("gpu")
        if isinstance(gpu, dict):
            if "model" in gpu:
                gpu.pop("models", None)
            if gpu.get("model") or gpu.get("models"):
                gpu.pop("minVram", None)
        if isinstance(hardware.get("cpu"), dict):
            hardware["cpu"].setdefault("requests", "1")
        if not hardware:
            hardware["cpu"] = {"requests": "1"}
    if obj["kind"] == "AIMService":
        if obj["apiVersion"] == V1:
            spec.pop("profile", None)  # profiles cannot be newly set through v1alpha1
        if "profile" in spec:
            spec.pop("template", None)
        else:
            spec.pop("profileOverrides", None)
        model = spec.get("model")
        if not isinstance(model, dict) or sum(k in model for k in ("name", "image", "custom")) != 1:
            spec["model"] = {"name": "m"}
        elif "custom" in model:
            model["custom"].setdefault("hardware", {"cpu": {"requests": "1"}})
            if not model["custom"].get("modelSources"):
                model["custom"]["modelSources"] = [{"modelId": "org/name", "sourceUri": "hf://org/name"}]
        if "profile" in spec:
            spec["profile"] = {"name": "p"}
        routing = spec.get("routing")
        if isinstance(routing, dict):
            routing.pop("routeTemplate" if "pathTemplate" in routing else "nothing", None)
            for key in ("pathTemplate", "routeTemplate"):
                if key in routing:
                    routing[key] = "/fixed"
    else:
        spec["image"] = "img:1"
        custom = spec.get("custom")
        if isinstance(custom, dict) and spec.get("customTemplates"):
            custom.pop("templates", None)
        if spec.get("modelSources"):
            spec["aimId"] = "org/family"
    return obj


def _name_env_vars(node: Any) -> None:
    """Env lists are list-maps keyed by a C identifier: give every entry a unique valid name."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, list):
                for i, entry in enumerate(value):
                    if isinstance(entry, dict):
                        entry["name"] = f"E{i}"
            else:
                _name_env_vars(value)
    elif isinstance(node, list):
        for item in node:
            _name_env_vars(item)


def _hardware_blocks(spec: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = [
        ((spec.get("model") or {}).get("custom") or {}).get("hardware"),
        (spec.get("overrides") or {}).get("hardware"),
        (spec.get("custom") or {}).get("hardware"),
    ]
    for templates in (spec.get("customTemplates"), (spec.get("custom") or {}).get("templates")):
        blocks += [t.get("hardware") for t in templates or []]
    return [b for b in blocks if isinstance(b, dict)]


@pytest.mark.parametrize("kind", ["AIMService", "AIMModel", "AIMClusterModel"])
@pytest.mark.parametrize("version", [V1, V2], ids=["v1alpha1", "v1alpha2"])
def test_random_objects_survive_the_api_server(kubectl: Kubectl, kind: str, version: str) -> None:
    written: list[str] = []

    @settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck), phases=NO_SHRINK)
    @given(objects(kind, version))
    def write_and_read(random_obj: dict[str, Any]) -> None:
        obj = admissible(random_obj, kubectl.namespace or "", len(written))
        result = kubectl.apply(obj, check=False)
        assert result.returncode == 0, result.stderr
        written.append(obj["metadata"]["name"])
        expected = apply_defaults(obj)  # what the mutating webhook adds
        other = V2 if version == V1 else V1
        for api_version in (version, other):
            group_version = api_version.split("/")[1]
            stored = kubectl.get_json(f"{PLURALS[kind]}.{group_version}.aim.eai.amd.com", obj["metadata"]["name"])
            want = convert(expected, api_version)["spec"] if api_version != version else expected["spec"]
            assert _without_defaults(stored["spec"]) == _without_defaults(want)

    try:
        write_and_read()
    finally:
        for name in written:
            kubectl("delete", f"{PLURALS[kind]}.aim.eai.amd.com", name, "--wait=false", check=False)
    assert len(written) == 8


def _without_defaults(spec: Any) -> Any:
    """Schema defaults the server adds are not conversion's business."""
    defaults = {
        "replicas": 1,
        "adapterMode": "static",
        "resourceName": "amd.com/gpu",
        "mode": "Shared",
        "extractMetadata": True,
        "createServiceTemplates": True,
        "baseImage": "amdenterpriseai/aim-base:latest",
    }
    if isinstance(spec, dict):
        return {k: _without_defaults(v) for k, v in spec.items() if not (k in defaults and v == defaults[k])}
    if isinstance(spec, list):
        return [_without_defaults(v) for v in spec]
    return spec

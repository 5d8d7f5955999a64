"""AIMProfileSet against the real API server: copyable source profiles in, derived AIMProfiles out
(spec with the overrides, annotations, owner), status counts from the derived profiles' own status
(the simulated MI300X node makes them Ready), and pruning when the selector narrows."""

from __future__ import annotations

from typing import Any

import pytest

from devcluster.waiting import wait_until
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl
from tests.integration.test_caching import items, wait_status
from tests.integration.test_profiles import profile
from tests.integration.test_service_controller import V2

pytestmark = pytest.mark.usefixtures("controller")
SET_NAME = "aim.eai.amd.com/profile-set-name"


def copyable(name: str, **spec: Any) -> dict[str, Any]:
    source = profile(name, **spec)
    source["metadata"]["annotations"] = {"aim.eai.amd.com/profile-copyable": "true"}
    return source


def derived(kubectl: Kubectl) -> dict[str, dict[str, Any]]:
    return {
        p["metadata"]["name"]: p
        for p in items(kubectl, "aimprofiles")
        if (p["metadata"].get("annotations") or {}).get(SET_NAME) == "tuned"
    }


def test_a_profile_set_derives_profiles_counts_them_and_prunes_when_narrowed(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(copyable("qwen-fp8", profileId="vllm-mi300x-fp8-tp1-latency"))
    kubectl.apply(copyable("qwen-fp16", precision="fp16", profileId="vllm-mi300x-fp16-tp1-latency"))
    kubectl.apply(profile("qwen-private"))  # not copyable: never a source
    profile_set: dict[str, Any] = {
        "apiVersion": V2,
        "kind": "AIMProfileSet",
        "metadata": {"name": "tuned", "labels": {"aim.eai.amd.com/source-model": "qwen"}},
        "spec": {
            "selector": {"aimId": "qwen/qwen3-32b"},
            "version": "0.8.5",
            "serviceAccountName": "runner",
            "overrides": {
                "engineArgs": {"max-model-len": 32768},
                "containerEnv": [{"name": "LOG_LEVEL", "value": "debug"}],
            },
        },
    }
    kubectl.apply(profile_set)

    ready = wait_status(kubectl, "aimprofilesets", "tuned", "Ready", timeout=90)
    status = ready["status"]
    assert status["managedProfiles"] == {"total": 2, "ready": 2, "notAvailable": 0, "deployable": 0, "base": 2}
    assert (condition(status, "DerivationReady")["status"], condition(status, "DerivationReady")["reason"]) == (
        "True",
        "ManagedProfilesReady",
    )
    assert condition(status, "Ready")["status"] == "True"
    assert status["observedGeneration"] == ready["metadata"]["generation"]
    assert ready["spec"]["versionPolicy"] == "pinned"  # the schema's default
    assert ready["spec"]["selector"]["role"] == "deployable"

    profiles = derived(kubectl)
    assert sorted(n.rsplit("-", 1)[0] for n in profiles) == [
        "tuned-vllm-mi300x-fp16-tp1-latency",
        "tuned-vllm-mi300x-fp8-tp1-latency",
    ]
    fp8 = next(p for n, p in profiles.items() if "fp8" in n)
    metadata = fp8["metadata"]
    assert metadata["annotations"]["aim.eai.amd.com/profile-set-uid"] == ready["metadata"]["uid"]
    assert metadata["annotations"]["aim.eai.amd.com/profile-set-namespace"] == namespace
    assert metadata["annotations"]["aim.eai.amd.com/profile-source"] == "copy"
    assert "aim.eai.amd.com/profile-copyable" not in metadata["annotations"]
    assert metadata["labels"]["aim.eai.amd.com/profile-origin"] == "derived"
    assert metadata["labels"]["aim.eai.amd.com/source-model"] == "qwen"  # the set's aim labels propagate
    [owner] = metadata["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "AIMProfileSet",
        "tuned",
        ready["metadata"]["uid"],
        True,
    )
    spec = fp8["spec"]
    assert spec["engineArgs"] == {"max-model-len": 32768, "enable-prefix-caching": True}
    assert spec["engineEnv"] == {"VLLM_DO_NOT_TRACK": "1"}
    assert spec["containerEnv"] == [{"name": "LOG_LEVEL", "value": "debug"}]
    assert spec["serviceAccountName"] == "runner"
    assert (spec["image"], spec["precision"], spec["acceleratorModel"]) == (
        "registry.local/amdenterpriseai/aim-qwen:0.8.5",
        "fp8",
        "MI300X",
    )
    assert fp8["status"]["status"] == "Ready"
    printed = kubectl("get", "aimprfset").stdout.split("\n")
    assert printed[0].split() == ["NAME", "STATUS", "MANAGED", "READY", "AGE"]
    assert printed[1].split()[:4] == ["tuned", "Ready", "2", "2"]

    profile_set["spec"]["selector"]["precision"] = "fp8"
    kubectl.apply(profile_set)

    def one_left() -> list[str] | None:
        names = list(derived(kubectl))
        return names if len(names) == 1 else None

    def counted_one() -> dict[str, Any] | None:
        found: dict[str, Any] = kubectl.get_json("aimprofilesets", "tuned")["status"]
        return found if found["managedProfiles"]["total"] == 1 else None

    assert wait_until(one_left, 60, "the fp16 profile to be pruned") == [metadata["name"]]
    narrowed = wait_until(counted_one, 30, "the set to count one profile")
    assert narrowed["managedProfiles"]["ready"] == 1
    assert kubectl.get_json("aimprofiles", "qwen-fp16")["metadata"]["name"] == "qwen-fp16", "sources are never pruned"

"""plan_artifact and its parts: an artifact, its runtime config and its Jobs in; RoleBinding, PVC,
check-size and download Jobs and status out (no API server)."""

from __future__ import annotations

from typing import Any

import pytest

from api.quantity import GIB
from api.stored import read_artifact
from api.v1alpha1.aimartifact import DEFAULT_DOWNLOAD_IMAGE
from controller.artifact.observe import ArtifactObservation
from controller.artifact.plan import (
    MAX_SIZE,
    child_name,
    download_env,
    download_job_components,
    failure_reason,
    parse_size_output,
    plan_artifact,
    plan_pvc,
    plan_size_job,
)
from controller.common.runtimeconfig import ResolvedRuntimeConfig
from controller.pipeline.plan import Plan
from tests.builders import condition, conditions, status_of

NOW = "2026-11-23T12:00:00Z"
URI = "hf://Qwen/Qwen3-32B"
OPERATOR_IMAGE = "registry.local/aim-engine:0.3.0"
SIZE = 64 * GIB
AFFINITY = {
    "requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [
            {"matchExpressions": [{"key": "amd.com/gpu.device-id", "operator": "In", "values": ["74a1"]}]}
        ]
    }
}


def artifact(status: dict[str, Any] | None = None, owned: bool = False, **spec: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "qwen3-32b", "namespace": "team", "uid": "a-1", "generation": 1}
    if owned:
        metadata["ownerReferences"] = [{"kind": "AIMTemplateCache", "name": "qwen-cache", "uid": "c-1"}]
    obj: dict[str, Any] = {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMArtifact",
        "metadata": metadata,
        "spec": {"sourceUri": URI, "modelId": "Qwen/Qwen3-32B"} | spec,
    }
    if status is not None:
        obj["status"] = status
    return obj


def config(
    env: list[dict[str, Any]] | None = None, storage_class: str | None = None, headroom: int | None = None
) -> ResolvedRuntimeConfig:
    storage: dict[str, Any] = {}
    if storage_class:
        storage["defaultStorageClassName"] = storage_class
    if headroom is not None:
        storage["pvcHeadroomPercent"] = headroom
    spec: dict[str, Any] = ({"env": env} if env else {}) | ({"storage": storage} if storage else {})
    return ResolvedRuntimeConfig("default", "Namespace" if spec else "", spec)


def observe(art: dict[str, Any] | None = None, **fields: Any) -> ArtifactObservation:
    """The observation of `art` (a dict as the API server sends it, read as the fetch step does)."""
    defaults: dict[str, Any] = {"runtime_config": config(), "downloader_image": OPERATOR_IMAGE}
    return ArtifactObservation(artifact=read_artifact(art or artifact(size="64Gi")), **(defaults | fields))


def job(state: str = "") -> dict[str, Any]:
    status = {"conditions": [{"type": state, "status": "True"}]} if state else {"active": 1}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "status": status}


def pod(exit_code: int, message: str = "", reason: str = "Error", last_state: bool = False) -> dict[str, Any]:
    terminated = {"exitCode": exit_code, "reason": reason} | ({"message": message} if message else {})
    state = {"lastState": {"terminated": terminated}, "state": {"running": {}}} if last_state else {}
    return {"status": {"containerStatuses": [{"name": "download", **(state or {"state": {"terminated": terminated}})}]}}


def applied(plan: Plan) -> dict[str, dict[str, Any]]:
    """kind (Jobs by their component label) → object."""
    out = {}
    for obj in plan.apply:
        key = obj["kind"]
        if key == "Job":
            key = obj["metadata"]["labels"]["app.kubernetes.io/component"]
        out[key] = obj
    return out


# --- check-size output ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("log", "size"),
    [
        pytest.param('{"url": "hf://a/b", "sizeBytes": 1234}\n', 1234, id="one-line"),
        pytest.param('Resolving hf://a/b\nlisting 12 files\n{"url": "hf://a/b", "sizeBytes": 99}', 99, id="after-log"),
        pytest.param('{"url": "x", "sizeBytes": 99}\nDone.\n\n', 99, id="text-after-is-skipped"),
        pytest.param('{"sizeBytes": 1}\n{"sizeBytes": 2}', 2, id="last-json-line-wins"),
        pytest.param(f'{{"sizeBytes": {MAX_SIZE}}}', MAX_SIZE, id="one-pib-is-the-limit"),
        pytest.param('{"sizeBytes": 0}', None, id="zero"),
        pytest.param('{"sizeBytes": -5}', None, id="negative"),
        pytest.param(f'{{"sizeBytes": {MAX_SIZE + 1}}}', None, id="larger-than-one-pib"),
        pytest.param('{"sizeBytes": 12.5}', None, id="float"),
        pytest.param('{"sizeBytes": "123"}', None, id="string"),
        pytest.param('{"sizeBytes": true}', None, id="boolean"),
        pytest.param('{"url": "hf://a/b"}', None, id="missing"),
        pytest.param('[{"sizeBytes": 5}]', None, id="list"),
        pytest.param('{"sizeBytes": 5}\n{"level": "info"}', None, id="a-later-json-line-decides"),
        pytest.param("", None, id="empty"),
        pytest.param("Traceback (most recent call last):\nError: 404", None, id="garbage"),
    ],
)
def test_parse_size_output(log: str, size: int | None) -> None:
    assert parse_size_output(log) == size


# --- why a download failed ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failed_pod", "expected"),
    [
        pytest.param(pod(3), ("SourceNotFound", "exit code 3: source not found"), id="exit-3"),
        pytest.param(pod(4), ("AuthError", "exit code 4: unauthorized"), id="exit-4"),
        pytest.param(pod(5), ("VerificationFailed", "exit code 5: size verification failed"), id="exit-5"),
        pytest.param(pod(6), ("StorageFull", "exit code 6: no space left on device"), id="exit-6"),
        pytest.param(pod(1), ("PodFailed", "exit code 1: transient failure"), id="exit-1"),
        pytest.param(pod(2), ("PodFailed", "exit code 2: usage error"), id="exit-2"),
        pytest.param(pod(42), ("PodFailed", "exit code 42: failed"), id="unknown-exit-code"),
        pytest.param(pod(137, reason="OOMKilled"), ("PodOOMKilled", "The downloader ran out of memory"), id="oom"),
        pytest.param(
            pod(137, "killed", reason="OOMKilled"),
            ("PodOOMKilled", "The downloader ran out of memory"),
            id="oom-wins-over-message",
        ),
        pytest.param(
            pod(4, "trying XET\nHTTP 401 from huggingface.co for Qwen/Qwen3-32B\n"),
            ("AuthError", "HTTP 401 from huggingface.co for Qwen/Qwen3-32B"),
            id="termination-message-last-line-wins",
        ),
        pytest.param(pod(3, "   \n"), ("SourceNotFound", "exit code 3: source not found"), id="blank-message"),
        pytest.param(pod(6, last_state=True), ("StorageFull", "exit code 6: no space left on device"), id="last-state"),
        pytest.param(None, ("PodFailed", "The download Job failed"), id="no-pod"),
        pytest.param(
            {"status": {"containerStatuses": [{"state": {"waiting": {}}}]}},
            ("PodFailed", "The download Job failed"),
            id="not-terminated",
        ),
    ],
)
def test_failure_reason(failed_pod: dict[str, Any] | None, expected: tuple[str, str]) -> None:
    assert failure_reason(failed_pod) == expected


# --- download environment -------------------------------------------------------------------------


def test_download_env_defaults() -> None:
    env = download_env(observe(), SIZE)
    assert env == [
        {"name": "AIM_DOWNLOADER_PROTOCOL", "value": "XET,HF_TRANSFER"},
        {"name": "MOUNT_PATH", "value": "/cache"},
        {"name": "TARGET_DIR", "value": "/cache"},
        {"name": "EXPECTED_SIZE_BYTES", "value": str(SIZE)},
        {"name": "ARTIFACT_NAME", "value": "qwen3-32b"},
        {"name": "ARTIFACT_NAMESPACE", "value": "team"},
        {"name": "STALL_TIMEOUT", "value": "120"},
        {"name": "TMPDIR", "value": "/tmp/"},
        {"name": "HF_HOME", "value": "/tmp/.hf"},
        {"name": "AIM_HF_EXCLUDE", "value": "*/*"},
    ]


# --- download filter ------------------------------------------------------------------------------

FILTER_ENV = {"AIM_HF_INCLUDE", "AIM_HF_EXCLUDE"}


def filter_config(
    download_filter: dict[str, Any] | None, env: list[dict[str, Any]] | None = None
) -> ResolvedRuntimeConfig:
    spec: dict[str, Any] = {"storage": {"downloadFilter": download_filter}} if download_filter is not None else {}
    return ResolvedRuntimeConfig("default", "Namespace", spec | ({"env": env} if env else {}))


@pytest.mark.parametrize(
    ("uri", "artifact_filter", "config_filter", "expected"),
    [
        pytest.param(URI, None, None, {"AIM_HF_EXCLUDE": "*/*"}, id="hub-default-skips-subdirectories"),
        pytest.param("s3://bucket/models/qwen", None, None, {}, id="s3-default-everything"),
        pytest.param(URI, {}, None, {}, id="artifact-empty-filter-everything"),
        pytest.param(URI, None, {}, {}, id="config-empty-filter-everything"),
        pytest.param(
            URI, None, {"include": ["*.json", "*.safetensors"]}, {"AIM_HF_INCLUDE": "*.json,*.safetensors"}, id="config"
        ),
        pytest.param(
            URI, {"exclude": ["*.bin"]}, {"include": ["*.json"]}, {"AIM_HF_EXCLUDE": "*.bin"}, id="artifact-wins-whole"
        ),
        pytest.param(URI, {}, {"include": ["*.json"]}, {}, id="artifact-empty-wins-over-config"),
        pytest.param(
            "s3://bucket/p",
            None,
            {"include": ["a/*"], "exclude": ["*.tmp"]},
            {"AIM_HF_INCLUDE": "a/*", "AIM_HF_EXCLUDE": "*.tmp"},
            id="s3-explicit-filter",
        ),
        pytest.param(URI, {"include": [], "exclude": []}, None, {}, id="empty-lists-no-variables"),
    ],
)
def test_download_filter_reaches_both_jobs(
    uri: str, artifact_filter: dict[str, Any] | None, config_filter: dict[str, Any] | None, expected: dict[str, str]
) -> None:
    fields: dict[str, Any] = {"downloadFilter": artifact_filter} if artifact_filter is not None else {}
    observed = observe(artifact(size="64Gi", sourceUri=uri, **fields), runtime_config=filter_config(config_filter))
    size_job = plan_size_job(observed)["spec"]["template"]["spec"]["containers"][0]["env"]
    for env in (download_env(observed, SIZE), size_job):
        assert {e["name"]: e["value"] for e in env if e["name"] in FILTER_ENV} == expected


def test_download_filter_env_overridden_by_users_env() -> None:
    own = [{"name": "AIM_HF_EXCLUDE", "value": "*.bin"}]
    observed = observe(artifact(size="64Gi"), runtime_config=filter_config(None, env=own))
    env = {e["name"]: e["value"] for e in download_env(observed, SIZE)}
    assert env["AIM_HF_EXCLUDE"] == "*.bin"


TOKEN_REF = {"secretKeyRef": {"name": "hf", "key": "token"}}


@pytest.mark.parametrize(
    ("config_env", "spec_env", "expected"),
    [
        pytest.param([], [], {"STALL_TIMEOUT": "120"}, id="defaults"),
        pytest.param(
            [{"name": "STALL_TIMEOUT", "value": "300"}], [], {"STALL_TIMEOUT": "300"}, id="config-over-default"
        ),
        pytest.param(
            [{"name": "STALL_TIMEOUT", "value": "300"}],
            [{"name": "STALL_TIMEOUT", "value": "600"}],
            {"STALL_TIMEOUT": "600"},
            id="spec-over-config",
        ),
        pytest.param(
            [],
            [{"name": "AIM_DOWNLOADER_PROTOCOL", "value": "HF"}],
            {"AIM_DOWNLOADER_PROTOCOL": "HF"},
            id="spec-over-default",
        ),
        pytest.param(
            [{"name": "HF_TOKEN", "value": "x"}],
            [{"name": "HF_TOKEN", "valueFrom": TOKEN_REF}],
            {"HF_TOKEN": TOKEN_REF},
            id="whole-entry-replaced",
        ),
        pytest.param(
            [{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}],
            [{"name": "AWS_REGION", "value": "eu"}],
            {"HTTPS_PROXY": "http://proxy:3128", "AWS_REGION": "eu"},
            id="new-names-added",
        ),
    ],
)
def test_download_env_precedence(
    config_env: list[dict[str, Any]], spec_env: list[dict[str, Any]], expected: dict[str, Any]
) -> None:
    observed = observe(artifact(size="64Gi", env=spec_env), runtime_config=config(env=config_env))
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in download_env(observed, SIZE)}
    assert {name: env[name] for name in expected} == expected
    names = [e["name"] for e in download_env(observed, SIZE)]
    assert names[:9] == [
        "AIM_DOWNLOADER_PROTOCOL",
        "MOUNT_PATH",
        "TARGET_DIR",
        "EXPECTED_SIZE_BYTES",
        "ARTIFACT_NAME",
        "ARTIFACT_NAMESPACE",
        "STALL_TIMEOUT",
        "TMPDIR",
        "HF_HOME",
    ], "overrides keep the default's position"


# --- the PVC --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "headroom", "storage"),
    [
        pytest.param(SIZE, None, "71Gi", id="ten-percent-by-default"),
        pytest.param(10 * GIB, 10, "11Gi", id="exact"),
        pytest.param(10 * GIB, 0, "10Gi", id="no-headroom"),
        pytest.param(10 * GIB + 1, 0, "11Gi", id="a-byte-more-is-a-gi-more"),
        pytest.param(15 * 10**9, 25, "18Gi", id="decimal-size"),
        pytest.param(1000, 10, "1Gi", id="at-least-1gi"),
    ],
)
def test_pvc_size(size: int, headroom: int | None, storage: str) -> None:
    pvc = plan_pvc(observe(runtime_config=config(headroom=headroom)), size)
    assert pvc["spec"]["resources"] == {"requests": {"storage": storage}}


@pytest.mark.parametrize(
    ("spec_class", "config_class", "expected"),
    [
        pytest.param("spec-sc", "config-sc", "spec-sc", id="spec-wins"),
        pytest.param(None, "config-sc", "config-sc", id="runtime-config"),
        pytest.param(None, None, None, id="cluster-default"),
    ],
)
def test_pvc_storage_class(spec_class: str | None, config_class: str | None, expected: str | None) -> None:
    extra: dict[str, Any] = {"storageClassName": spec_class} if spec_class else {}
    pvc = plan_pvc(observe(artifact(size="64Gi", **extra), runtime_config=config(storage_class=config_class)), SIZE)
    assert pvc["spec"].get("storageClassName") == expected


def test_pvc_object() -> None:
    pvc = plan_pvc(observe(), SIZE)
    assert pvc["metadata"]["name"] == child_name(artifact(), "cache")
    assert pvc["metadata"]["namespace"] == "team"
    assert pvc["metadata"]["ownerReferences"][0]["uid"] == "a-1"
    assert pvc["metadata"]["labels"]["aim.eai.amd.com/cache.name"] == "qwen3-32b"
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]


# --- plan_artifact --------------------------------------------------------------------------------


def test_role_binding_comes_first() -> None:
    plan = plan_artifact(observe(status_role="custom-role"), NOW)
    binding = plan.apply[0]
    assert binding["kind"] == "RoleBinding"
    assert binding["metadata"]["namespace"] == "team"
    assert binding["roleRef"]["name"] == "custom-role"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "default", "namespace": "team"}]


@pytest.mark.parametrize(
    "size",
    [pytest.param("big", id="word"), pytest.param("64 Gi", id="space"), pytest.param("64GB", id="unit")],
)
def test_invalid_spec_size_fails(size: str) -> None:
    plan = plan_artifact(observe(artifact(size=size)), NOW)
    status = status_of(plan)
    assert status["status"] == "Failed"
    assert conditions(status)["CheckSizeOutputReady"] == ("False", "InvalidSize")
    assert condition(status, "Ready")["message"] == f"CheckSizeOutputReady: spec.size {size!r} is not a quantity"
    assert set(applied(plan)) == {"RoleBinding"}, "no size, no volume"
    assert [(e.type, e.reason) for e in plan.events] == [("Warning", "InvalidSize")]


def test_without_size_a_check_size_job_is_planned() -> None:
    art = artifact(env=[{"name": "HF_TOKEN", "valueFrom": TOKEN_REF}])
    observed = observe(
        art,
        runtime_config=config(env=[{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}]),
        node_affinity=AFFINITY,
        pod_annotations={"sim/run": "1s"},
    )
    plan = plan_artifact(observed, NOW)
    status = status_of(plan)
    assert status["status"] == "Progressing"
    assert conditions(status)["CheckSizeOutputReady"] == ("False", "CheckingSize")
    assert "persistentVolumeClaim" not in status
    jobs = applied(plan)
    assert set(jobs) == {"RoleBinding", "check-size"}
    size_job = jobs["check-size"]
    assert size_job["metadata"]["name"] == child_name(art, "check-size")
    assert size_job["spec"]["ttlSecondsAfterFinished"] == 300
    pod_template = size_job["spec"]["template"]
    assert pod_template["metadata"]["annotations"] == {"sim/run": "1s"}
    assert pod_template["spec"]["affinity"] == {"nodeAffinity": AFFINITY}
    (container,) = pod_template["spec"]["containers"]
    assert container["command"] == ["aim-download"]
    assert container["args"] == ["--check-size", URI]
    assert container["env"] == [
        {"name": "AIM_HF_EXCLUDE", "value": "*/*"},
        {"name": "HTTPS_PROXY", "value": "http://proxy:3128"},
        {"name": "HF_TOKEN", "valueFrom": TOKEN_REF},
    ]


SIZE_JOB_CASES = [
    pytest.param(job(), "", "Progressing", ("False", "CheckingSize"), id="running"),
    pytest.param(job("Failed"), "", "Failed", ("False", "CheckSizeFailed"), id="failed"),
    pytest.param(job("Complete"), "HTTP 404\n", "Failed", ("False", "InvalidSizeOutput"), id="complete-bad-output"),
    pytest.param(
        job("Complete"),
        f'{{"url": "{URI}", "sizeBytes": {SIZE}}}\n',
        "Progressing",
        ("True", "SizeDiscovered"),
        id="complete-good-output",
    ),
]


@pytest.mark.parametrize(("size_job", "log", "state", "checked"), SIZE_JOB_CASES)
def test_check_size_job_outcomes(size_job: dict[str, Any], log: str, state: str, checked: tuple[str, str]) -> None:
    plan = plan_artifact(observe(artifact(), size_job=size_job, size_log=log), NOW)
    status = status_of(plan)
    assert status["status"] == state
    assert conditions(status)["CheckSizeOutputReady"] == checked
    assert "check-size" not in applied(plan), "an existing Job is not re-applied"
    sized = checked[1] == "SizeDiscovered"
    assert ("PersistentVolumeClaim" in applied(plan)) is sized
    assert ("download" in applied(plan)) is sized


def test_discovered_size_sizes_the_volume() -> None:
    log = f'checking\n{{"url": "{URI}", "sizeBytes": {SIZE}}}\n'
    plan = plan_artifact(observe(artifact(), size_job=job("Complete"), size_log=log), NOW)
    status = status_of(plan)
    assert status["discoveredSizeBytes"] == SIZE
    assert condition(status, "CheckSizeOutputReady")["message"] == "64.0 GiB"
    assert status["allocatedSize"] == "71Gi"
    env = {
        e["name"]: e.get("value") for e in applied(plan)["download"]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["EXPECTED_SIZE_BYTES"] == str(SIZE)


def test_bad_size_output_names_the_last_line() -> None:
    log = "Resolving\nError: 404 Not Found for " + URI + "\n"
    status = status_of(plan_artifact(observe(artifact(), size_job=job("Complete"), size_log=log), NOW))
    assert condition(status, "CheckSizeOutputReady")["message"] == (
        f"The check-size Job printed no valid size: Error: 404 Not Found for {URI}"
    )


def test_size_discovered_earlier_needs_no_check_size_job() -> None:
    plan = plan_artifact(observe(artifact(status={"status": "Progressing", "discoveredSizeBytes": SIZE})), NOW)
    assert set(applied(plan)) == {"RoleBinding", "PersistentVolumeClaim", "download"}
    assert "CheckSizeOutputReady" not in conditions(status_of(plan))


def test_pvc_and_download_job_planned() -> None:
    observed = observe(node_affinity=AFFINITY, pod_annotations={"sim/run": "3s"})
    plan = plan_artifact(observed, NOW)
    status = status_of(plan)
    objects = applied(plan)
    assert [o["kind"] for o in plan.apply] == ["RoleBinding", "PersistentVolumeClaim", "Job"]
    pvc_name = child_name(artifact(), "cache")
    assert objects["PersistentVolumeClaim"]["metadata"]["name"] == pvc_name
    download = objects["download"]
    assert download["metadata"]["name"] == child_name(artifact(), "download")
    assert download["metadata"]["ownerReferences"][0]["uid"] == "a-1"
    assert download["spec"]["backoffLimit"] == 2
    assert download["spec"]["podFailurePolicy"] == {
        "rules": [
            {"action": "FailJob", "onExitCodes": {"containerName": "download", "operator": "In", "values": [3, 4, 5]}}
        ]
    }
    pod_template = download["spec"]["template"]
    assert pod_template["metadata"]["annotations"] == {"sim/run": "3s"}
    assert pod_template["metadata"]["labels"]["app.kubernetes.io/component"] == "download"
    pod_spec = pod_template["spec"]
    assert pod_spec["affinity"] == {"nodeAffinity": AFFINITY}
    assert {"name": "cache", "persistentVolumeClaim": {"claimName": pvc_name}} in pod_spec["volumes"]
    (container,) = pod_spec["containers"]
    assert container["image"] == OPERATOR_IMAGE
    assert container["args"] == [URI]
    assert {"name": "cache", "mountPath": "/cache"} in container["volumeMounts"]
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert status["status"] == "Progressing"
    assert conditions(status)["DownloadComplete"] == ("False", "Downloading")
    assert conditions(status)["CachePvcReady"] == ("True", "PvcCreated")
    assert (status["persistentVolumeClaim"], status["allocatedSize"], status["headroomPercent"]) == (
        pvc_name,
        "71Gi",
        10,
    )
    assert status["displaySize"] == "64.0 GiB"


def test_no_affinity_and_no_annotations_when_not_observed() -> None:
    pod_template = applied(plan_artifact(observe(), NOW))["download"]["spec"]["template"]
    assert "affinity" not in pod_template["spec"]
    assert not pod_template["metadata"].get("annotations")


def test_bound_pvc() -> None:
    pvc = {"kind": "PersistentVolumeClaim", "metadata": {"name": "x"}, "status": {"phase": "Bound"}}
    status = status_of(plan_artifact(observe(pvc=pvc), NOW))
    assert conditions(status)["CachePvcReady"] == ("True", "PvcBound")


def test_missing_runtime_config_plans_no_volume() -> None:
    missing = ResolvedRuntimeConfig("fast", "", {}, missing=True)
    plan = plan_artifact(observe(artifact(size="64Gi", runtimeConfigName="fast"), runtime_config=missing), NOW)
    status = status_of(plan)
    assert status["status"] == "Failed"
    assert conditions(status)["RuntimeConfigReady"] == ("False", "ConfigNotFound")
    assert set(applied(plan)) == {"RoleBinding"}


def test_complete_download_is_ready_with_full_progress() -> None:
    plan = plan_artifact(
        observe(artifact(status={"status": "Progressing"}, size="64Gi"), download_job=job("Complete")), NOW
    )
    status = status_of(plan)
    assert status["status"] == "Ready"
    assert conditions(status)["DownloadComplete"] == ("True", "Verified")
    assert status["progress"] == {
        "totalBytes": SIZE,
        "downloadedBytes": SIZE,
        "percentage": 100,
        "displayPercentage": "100 %",
    }
    assert [(e.type, e.reason) for e in plan.events] == [("Normal", "DownloadComplete")]


def test_no_event_when_already_ready() -> None:
    plan = plan_artifact(observe(artifact(status={"status": "Ready"}, size="64Gi"), download_job=job("Complete")), NOW)
    assert plan.events == []


@pytest.mark.parametrize(
    ("failed_pod", "reason", "message"),
    [
        pytest.param(pod(4, "HTTP 401 for Qwen/Qwen3-32B"), "AuthError", "HTTP 401 for Qwen/Qwen3-32B", id="auth"),
        pytest.param(pod(3), "SourceNotFound", "exit code 3: source not found", id="not-found"),
        pytest.param(pod(137, reason="OOMKilled"), "PodOOMKilled", "The downloader ran out of memory", id="oom"),
        pytest.param(None, "PodFailed", "The download Job failed", id="pod-gone"),
    ],
)
def test_failed_download(failed_pod: dict[str, Any] | None, reason: str, message: str) -> None:
    observed = observe(artifact(status={"status": "Progressing"}, size="64Gi"), download_job=job("Failed"))
    observed.download_pod = failed_pod
    plan = plan_artifact(observed, NOW)
    status = status_of(plan)
    assert status["status"] == "Failed"
    assert conditions(status)["DownloadComplete"] == ("False", reason)
    assert condition(status, "Ready")["message"] == f"DownloadComplete: {message}"
    assert [(e.type, e.reason) for e in plan.events] == [("Warning", reason)]


def test_ready_artifact_whose_job_was_cleaned_up_stays_ready() -> None:
    previous = {
        "status": "Ready",
        "progress": {"totalBytes": SIZE, "downloadedBytes": SIZE, "percentage": 100, "displayPercentage": "100 %"},
        "lastUsed": "2026-11-20T10:00:00Z",
    }
    plan = plan_artifact(observe(artifact(status=previous, size="64Gi")), NOW)
    status = status_of(plan)
    assert status["status"] == "Ready"
    assert conditions(status)["DownloadComplete"] == ("True", "Verified")
    assert "download" not in applied(plan), "no second download"
    assert status["progress"] == previous["progress"]
    assert status["lastUsed"] == "2026-11-20T10:00:00Z"
    assert plan.events == []


def test_downloader_written_fields_are_kept_while_downloading() -> None:
    previous = {
        "status": "Progressing",
        "progress": {"totalBytes": SIZE, "downloadedBytes": SIZE // 2, "percentage": 50, "displayPercentage": "50 %"},
        "download": {"protocol": "XET", "attempt": 1, "message": "downloading"},
    }
    status = status_of(plan_artifact(observe(artifact(status=previous, size="64Gi"), download_job=job()), NOW))
    assert status["progress"] == previous["progress"]
    assert status["download"] == previous["download"]


@pytest.mark.parametrize(("owned", "mode"), [(True, "Dedicated"), (False, "Shared")], ids=["owned", "unowned"])
def test_mode_follows_owner_references(owned: bool, mode: str) -> None:
    assert status_of(plan_artifact(observe(artifact(owned=owned, size="64Gi")), NOW))["mode"] == mode


@pytest.mark.parametrize(
    ("spec_image", "image"),
    [
        pytest.param(None, OPERATOR_IMAGE, id="unset"),
        pytest.param(DEFAULT_DOWNLOAD_IMAGE, OPERATOR_IMAGE, id="upstream-default-means-ours"),
        pytest.param("registry.local/my-downloader:1", "registry.local/my-downloader:1", id="own-image"),
    ],
)
def test_downloader_image(spec_image: str | None, image: str) -> None:
    extra: dict[str, Any] = {"modelDownloadImage": spec_image} if spec_image else {}
    download = applied(plan_artifact(observe(artifact(size="64Gi", **extra)), NOW))["download"]
    size_job = applied(plan_artifact(observe(artifact(**extra)), NOW))["check-size"]
    for planned in (download, size_job):
        assert planned["spec"]["template"]["spec"]["containers"][0]["image"] == image


def test_pull_secrets_reach_the_pod() -> None:
    art = artifact(size="64Gi", imagePullSecrets=[{"name": "pull"}])
    pod_spec = applied(plan_artifact(observe(art), NOW))["download"]["spec"]["template"]["spec"]
    assert pod_spec["imagePullSecrets"] == [{"name": "pull"}]


def test_zero_spec_size_means_discover() -> None:
    plan = plan_artifact(observe(artifact(size="0")), NOW)
    assert set(applied(plan)) == {"RoleBinding", "check-size"}


FULL = {"totalBytes": SIZE, "downloadedBytes": SIZE, "percentage": 100, "displayPercentage": "100 %"}
HALF = {"totalBytes": SIZE, "downloadedBytes": SIZE // 2, "percentage": 50, "displayPercentage": "50 %"}


@pytest.mark.parametrize(
    ("progress", "job_state", "failed_pod", "state", "download_complete", "display"),
    [
        pytest.param(HALF, "", None, "Progressing", ("False", "Downloading"), "50 %", id="downloading"),
        pytest.param(FULL, "", None, "Progressing", ("True", "Verifying"), "100 %", id="verifying"),
        pytest.param(FULL, "Complete", None, "Ready", ("True", "Verified"), "100 %", id="verified"),
        pytest.param(FULL, "Failed", pod(1), "Failed", ("False", "VerificationFailed"), "N/A", id="failed-verifying"),
        pytest.param(HALF, "Failed", pod(1), "Failed", ("False", "PodFailed"), "N/A", id="failed-downloading"),
        pytest.param(FULL, "Failed", pod(4), "Failed", ("False", "AuthError"), "N/A", id="exit-code-decides-first"),
    ],
)
def test_download_phases_as_upstream_reports_them(
    progress: dict[str, Any],
    job_state: str,
    failed_pod: dict[str, Any] | None,
    state: str,
    download_complete: tuple[str, str],
    display: str,
) -> None:
    previous = {"status": "Progressing", "progress": progress, "download": {"protocol": "HTTP", "attempt": 1}}
    observed = observe(artifact(status=previous, size="64Gi"), download_job=job(job_state))
    observed.download_pod = failed_pod
    status = status_of(plan_artifact(observed, NOW))
    assert status["status"] == state
    assert conditions(status)["DownloadComplete"] == download_complete
    assert status["progress"]["displayPercentage"] == display
    assert status["download"]["protocol"] == "HTTP"  # the downloader's fields are kept
    assert (status["download"].get("message") == "Complete") is (state == "Ready")


def job_with(status: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "status": status}


FAILED_BACKOFF = {
    "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "x"}]
}


@pytest.mark.parametrize(
    ("download_job", "download_pod", "expected"),
    [
        pytest.param(None, None, [("DownloadJobReady", "Progressing", "JobNotFound")], id="being-created"),
        pytest.param(
            job_with({"active": 1, "ready": 0}),
            None,
            [("DownloadJobReady", "Progressing", "JobRunning"), ("DownloadJobPodsReady", "Pending", "PodsPending")],
            id="pod-waiting",
        ),
        pytest.param(
            job_with({"active": 1, "ready": 1}),
            None,
            [("DownloadJobReady", "Progressing", "JobRunning"), ("DownloadJobPodsReady", "Ready", "PodsReady")],
            id="pod-running",
        ),
        pytest.param(
            job_with({"active": 1}),
            None,
            [
                ("DownloadJobReady", "Progressing", "JobRunning"),
                ("DownloadJobPodsReady", "Progressing", "PodsProgressing"),
            ],
            id="no-ready-count",
        ),
        pytest.param(job("Complete"), None, [("DownloadJobReady", "Ready", "JobSucceeded")], id="complete"),
        pytest.param(
            job_with(FAILED_BACKOFF),
            pod(4, "401 from the Hub"),
            [
                ("DownloadJobReady", "Failed", "JobBackoffLimitExceeded"),
                ("DownloadJobPodsReady", "Failed", "AuthError"),
            ],
            id="failed-with-the-downloaders-reason",
        ),
        pytest.param(
            job("Failed"),
            None,
            [("DownloadJobReady", "Failed", "JobFailed"), ("DownloadJobPodsReady", "Failed", "PodFailed")],
            id="failed-without-a-pod",
        ),
    ],
)
def test_download_job_components_as_upstream(
    download_job: dict[str, Any] | None, download_pod: dict[str, Any] | None, expected: list[tuple[str, str, str]]
) -> None:
    observed = observe(download_job=download_job, download_pod=download_pod)
    found = [(c.condition, c.state, c.reason) for c in download_job_components(observed)]
    assert found == expected


def test_a_ready_artifact_reports_no_job_components() -> None:
    observed = observe(artifact(status={"status": "Progressing"}, size="64Gi"), download_job=job("Complete"))
    types = {c["type"] for c in status_of(plan_artifact(observed, NOW))["conditions"]}
    assert "DownloadJobReady" not in types
    assert "DownloadJobPodsReady" not in types

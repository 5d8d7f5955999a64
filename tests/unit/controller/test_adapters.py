"""LoRA adapters, pure: the service's planner (parent, config errors, Jobs, states, condition,
mount) and the artifact's (lineage, adapter disk, reaper)."""

from __future__ import annotations

from typing import Any

import pytest

from api.core import EnvVar
from api.naming import adapter_sync_key
from api.stored import read_artifact, read_service, read_template, read_template_cache
from controller.artifact.adapters import (
    adapter_disk_size,
    live_adapter_services,
    plan_adapter_artifact,
    plan_adapter_disk,
    plan_reaping,
    reap_job_name,
)
from controller.common.caching import service_use
from controller.service import adapters as service_adapters
from controller.service.adapters import AdapterInputs, AdapterUse

NOW = "2026-12-07T12:00:00Z"
COMPLETE = {"conditions": [{"type": "Complete", "status": "True"}]}
FAILED = {"conditions": [{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded: 4 pods failed"}]}


def artifact(name: str, status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMArtifact",
        "metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}"},
        "spec": {"sourceUri": f"hf://org/{name}", **spec},
        "status": status or {},
    }


PARENT = artifact("base", {"status": "Ready", "adapterPersistentVolumeClaim": "base-adapters-1"}, adapterDisk={})


def adapter(name: str, parent: str = "base", ready: bool = True) -> dict[str, Any]:
    return artifact(name, {"status": "Ready" if ready else "Pending"}, type="adapter", parentArtifact=parent)


def service(names: list[str], mode: str = "static", status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha2",
        "kind": "AIMService",
        "metadata": {"name": "svc", "namespace": "ns", "uid": "svc-uid"},
        "spec": {"adapters": [{"name": n, "kind": "AIMArtifact"} for n in names], "adapterMode": mode},
        "status": status or {},
    }


def template(*model_ids: str) -> dict[str, Any]:
    """A Ready template whose discovery found these model sources."""
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMServiceTemplate",
        "metadata": {"name": "t", "namespace": "ns", "uid": "t-uid"},
        "spec": {"modelName": "m"},
        "status": {"status": "Ready", "modelSources": [{"modelId": m, "sourceUri": f"hf://{m}"} for m in model_ids]},
    }


TEMPLATE = template("org/base")
CACHE = {
    "apiVersion": "aim.eai.amd.com/v1alpha1",
    "kind": "AIMTemplateCache",
    "metadata": {"name": "t-cache", "namespace": "ns", "uid": "c-uid"},
    "spec": {"templateName": "t", "templateScope": "Namespace"},
    "status": {"artifacts": {"base": {"name": "base", "uid": "uid-base", "model": "org/base", "status": "Ready"}}},
}


def inputs(*artifacts: dict[str, Any], jobs: dict[str, dict[str, Any]] | None = None) -> AdapterInputs:
    return AdapterInputs({a["metadata"]["name"]: read_artifact(a) for a in artifacts}, jobs or {}, "operator:1")


# The service's adapter planner on objects as the API server sends them, read as its fetch step reads them.


def plan_adapters(
    svc: dict[str, Any], tpl: dict[str, Any], cache: dict[str, Any], known: AdapterInputs
) -> AdapterUse | None:
    return service_adapters.plan_adapters(read_service(svc), read_template(tpl), read_template_cache(cache), known)


def sync_job_name(svc: dict[str, Any]) -> str:
    return service_adapters.sync_job_name(read_service(svc))


def stage_job_name(svc: dict[str, Any], adapter: str) -> str:
    return service_adapters.stage_job_name(read_service(svc), adapter)


def should_mount(svc: dict[str, Any], use: AdapterUse | None, existing: dict[str, Any] | None) -> str:
    return service_adapters.should_mount(read_service(svc), use, existing)


def mount_adapters(isvc: dict[str, Any], svc: dict[str, Any], claim: str) -> None:
    service_adapters.mount_adapters(isvc, read_service(svc), claim)


def job(status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"kind": "Job", "status": status or {}}


def synced(names: list[str]) -> dict[str, Any]:
    return {"adapterSubtreeSyncKey": adapter_sync_key(names)}


@pytest.mark.parametrize(
    ("svc", "template", "known", "state", "reason", "message"),
    [
        (service(["a"]), TEMPLATE, [PARENT, adapter("a")], "Starting", "AdapterSubtreeProvisioning", "Provisioning"),
        (service(["a"]), TEMPLATE, [adapter("a")], "Starting", "ParentLacksAdapterDisk", "no adapter disk yet"),
        (
            service(["a"]),
            template("org/x", "org/y"),
            [PARENT],
            "Failed",
            "AdapterConfigInvalid",
            "single base model, but the resolved template has 2 model sources",
        ),
        (
            service(["base"]),
            TEMPLATE,
            [PARENT],
            "Failed",
            "AdapterConfigInvalid",
            'artifact base referenced as an adapter is type "model"',
        ),
        (
            service(["a"]),
            TEMPLATE,
            [PARENT, adapter("a", parent="other")],
            "Failed",
            "AdapterConfigInvalid",
            "adapter a.parentArtifact (other) does not match the service's resolved base model base",
        ),
        (
            service(["a"], status=synced(["a"])),
            TEMPLATE,
            [PARENT, adapter("a")],
            "Starting",
            "AdaptersStaging",
            "0/1 adapter(s) staged",
        ),
        (
            service(["a"], "dynamic", status=synced(["a"])),
            TEMPLATE,
            [PARENT, adapter("a")],
            "Running",
            "AdaptersStaging",
            "(loading asynchronously)",
        ),
        (service([], "dynamic", status=synced([])), TEMPLATE, [PARENT], "Running", "AdaptersStaged", "no adapters"),
    ],
)
def test_adapters_condition(
    svc: dict[str, Any], template: dict[str, Any], known: list[dict[str, Any]], state: str, reason: str, message: str
) -> None:
    use = plan_adapters(svc, template, CACHE, inputs(*known))
    assert use is not None
    assert (use.component.state, use.component.reason) == (state, reason)
    assert message in use.component.message


def test_no_adapters_no_plan() -> None:
    assert plan_adapters(service([]), TEMPLATE, CACHE, inputs(PARENT)) is None


def test_the_subtree_is_synced_before_any_adapter_is_staged() -> None:
    svc = service(["a"])
    first = plan_adapters(svc, TEMPLATE, CACHE, inputs(PARENT, adapter("a")))
    assert first is not None
    [sync] = first.apply
    env = {e["name"]: e["value"] for e in sync["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env == {"ADAPTER_PVC_ROOT": "/adapter-disk", "SERVICE_ID": "svc-uid", "KEEP_ADAPTER_PATHS": "a"}
    assert sync["metadata"]["labels"]["app.kubernetes.io/component"] == "adapter-subtree-sync"
    done = plan_adapters(svc, TEMPLATE, CACHE, inputs(PARENT, adapter("a"), jobs={sync_job_name(svc): job(COMPLETE)}))
    assert done is not None
    [stage] = done.apply
    assert stage["metadata"]["name"] == stage_job_name(svc, "a")
    assert stage["spec"]["template"]["spec"]["containers"][0]["args"] == ["stage", "hf://org/a"]
    assert done.status["adapterSubtreeSyncKey"] == adapter_sync_key(["a"])


@pytest.mark.parametrize(
    ("stage", "artifact_ready", "previous", "state"),
    [
        (None, False, None, "Pending"),
        (job(), True, None, "Downloading"),
        (job(COMPLETE), True, None, "Downloaded"),
        (None, True, "Downloaded", "Downloaded"),  # its Job's TTL has passed
        (job(FAILED), True, None, "Failed"),
    ],
)
def test_adapter_state(stage: dict[str, Any] | None, artifact_ready: bool, previous: str | None, state: str) -> None:
    status = synced(["a"]) | ({"adapters": [{"name": "a", "state": previous}]} if previous else {})
    svc = service(["a"], "dynamic", status=status)
    jobs = {stage_job_name(svc, "a"): stage} if stage else {}
    use = plan_adapters(svc, TEMPLATE, CACHE, inputs(PARENT, adapter("a", ready=artifact_ready), jobs=jobs))
    assert use is not None
    [entry] = use.status["adapters"]
    assert entry["state"] == state
    if state == "Failed":
        assert entry["lastError"] == "BackoffLimitExceeded: 4 pods failed"
        assert use.component.state == "Degraded"


def test_a_missing_adapter_artifact_is_pending_with_its_reason() -> None:
    use = plan_adapters(service(["gone"], "dynamic", status=synced(["gone"])), TEMPLATE, CACHE, inputs(PARENT))
    assert use is not None
    assert use.status["adapters"] == [{"name": "gone", "state": "Pending", "lastError": "AdapterArtifactNotFound"}]


def test_a_removed_adapter_is_deleting_until_the_prune_and_its_staging_job_goes() -> None:
    before = {"adapters": [{"name": "a", "state": "Downloaded", "adapterPath": "a"}], **synced(["a"])}
    svc = service([], "dynamic", status=before)
    jobs = {stage_job_name(svc, "a"): job(COMPLETE)}
    use = plan_adapters(svc, TEMPLATE, CACHE, inputs(PARENT, adapter("a"), jobs=jobs))
    assert use is not None
    assert use.status["adapters"] == [{"name": "a", "state": "Deleting", "adapterPath": "a"}]
    assert [r.name for r in use.delete] == [stage_job_name(svc, "a")]
    jobs[sync_job_name(svc)] = job(COMPLETE)
    pruned = plan_adapters(svc, TEMPLATE, CACHE, inputs(PARENT, adapter("a"), jobs=jobs))
    assert pruned is not None
    assert pruned.status["adapters"] is None
    assert pruned.status["adapterSubtreeSyncKey"] == adapter_sync_key([])


@pytest.mark.parametrize(
    ("mode", "names", "status", "existing_claim", "mounted"),
    [
        ("static", ["a"], synced(["a"]), "", "base-adapters-1"),
        ("static", [], {}, "", ""),  # nothing declared: nothing to mount
        ("dynamic", [], synced([]), "", "base-adapters-1"),  # mounted even at zero
        ("dynamic", ["a"], {}, "", ""),  # the subtree first
        ("dynamic", ["a"], {}, "old-claim", "old-claim"),  # kept while the disk is unknown
    ],
)
def test_what_is_mounted(
    mode: str, names: list[str], status: dict[str, Any], existing_claim: str, mounted: str
) -> None:
    svc = service(names, mode, status=status)
    parent = PARENT if not existing_claim else artifact("base", {"status": "Ready"}, adapterDisk={})
    use = plan_adapters(svc, TEMPLATE, CACHE, inputs(parent, adapter("a")))
    existing = (
        {
            "spec": {
                "predictor": {
                    "volumes": [{"name": "adapter-disk", "persistentVolumeClaim": {"claimName": existing_claim}}]
                }
            }
        }
        if existing_claim
        else None
    )
    assert should_mount(svc, use, existing) == mounted


def test_mount_is_read_only_on_the_services_subtree_with_upstreams_environment() -> None:
    isvc: dict[str, Any] = {"spec": {"predictor": {"containers": [{"env": [{"name": "X", "value": "1"}]}]}}}
    mount_adapters(isvc, service(["a"]), "disk")
    predictor = isvc["spec"]["predictor"]
    assert predictor["volumes"] == [
        {"name": "adapter-disk", "persistentVolumeClaim": {"claimName": "disk", "readOnly": True}}
    ]
    container = predictor["containers"][0]
    assert container["volumeMounts"] == [
        {"name": "adapter-disk", "mountPath": "/adapters", "subPath": "svc-uid", "readOnly": True}
    ]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env == {
        "X": "1",
        "AIM_ADAPTER_SOURCE": "/adapters",
        "AIM_ADAPTER_MODE": "static",
        "AIM_ADAPTER_MAX_COUNT": "8",
        "AIM_ADAPTER_MAX_CPU_COUNT": "16",
        "AIM_ADAPTER_MAX_RANK": "32",
    }


@pytest.mark.parametrize(
    ("parent", "state", "reason"),
    [
        (None, "Pending", "ParentArtifactNotFound"),
        (artifact("base", type="adapter", parentArtifact="x"), "Failed", "ParentArtifactNotModel"),
        (artifact("base"), "Pending", "ParentLacksAdapterDisk"),
        (PARENT, "Ready", "AdapterValidated"),
    ],
)
def test_adapter_artifact_lineage(parent: dict[str, Any] | None, state: str, reason: str) -> None:
    plan = plan_adapter_artifact(read_artifact(adapter("a")), None if parent is None else read_artifact(parent), NOW)
    status = plan.status or {}
    assert status["status"] == state
    [lineage] = [c for c in status["conditions"] if c["type"] == "AdapterParentReady"]
    assert lineage["reason"] == reason
    assert status["adapterPath"] == "a"
    assert not plan.apply, "an adapter has no volume or Job of its own"


@pytest.mark.parametrize(
    ("disk", "config", "size"),
    [
        ({"size": "10Gi"}, {"adapterDiskSize": "20Gi"}, "10Gi"),
        ({}, {"adapterDiskSize": "20Gi"}, "20Gi"),
        ({}, {}, "50Gi"),
    ],
)
def test_adapter_disk_size(disk: dict[str, Any], config: dict[str, Any], size: str) -> None:
    assert adapter_disk_size(read_artifact(artifact("m", adapterDisk=disk)), config) == size


def test_adapter_disk_is_a_read_write_many_claim_owned_by_the_model() -> None:
    claim = plan_adapter_disk(
        read_artifact(artifact("m", adapterDisk={"storageClassName": "nfs"})), {}, "default-class"
    )
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["spec"]["storageClassName"] == "nfs"
    assert claim["metadata"]["name"].startswith("m-adapters-")
    assert claim["metadata"]["ownerReferences"][0]["name"] == "m"


def test_the_reaper_keeps_live_services_with_adapters() -> None:
    live = service(["a"])
    plain = {"metadata": {"uid": "plain"}, "spec": {}}
    going = service(["a"]) | {"metadata": {"uid": "going", "deletionTimestamp": NOW}}
    assert live_adapter_services([service_use(s) for s in (live, plain, going)]) == ["svc-uid"]


def reaping(tracked: list[str], services: list[dict[str, Any]], jobs: dict[str, dict[str, Any]], now: str = NOW) -> Any:
    model = read_artifact(artifact("m", {"adapterServices": tracked}, adapterDisk={}))
    uses = [service_use(s) for s in services]
    return plan_reaping(model, "disk", uses, jobs, now, 900, 1800, "operator:1")


def keep_of(job: dict[str, Any]) -> str:
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    return str(next(e["value"] for e in env if e["name"] == "KEEP_SERVICE_IDS"))


def test_a_gone_service_is_reaped_at_once_then_forgotten() -> None:
    first = reaping(["gone"], [service(["a"])], {})
    [job] = first.apply
    assert keep_of(job) == "svc-uid"
    assert first.tracked == ["gone", "svc-uid"], "remembered until its reaper completed"
    name = job["metadata"]["name"]
    assert reaping(["gone"], [service(["a"])], {name: job}).apply == [], "never twice"
    done = reaping(["gone"], [service(["a"])], {name: {"status": COMPLETE}})
    assert done.tracked == ["svc-uid"]


def test_without_gone_services_one_sweep_per_interval() -> None:
    first = reaping([], [service(["a"])], {})
    [sweep] = first.apply
    same_interval = reaping([], [service(["a"])], {sweep["metadata"]["name"]: sweep}, "2026-12-07T12:10:00Z")
    assert same_interval.apply == []
    [later] = reaping([], [service(["a"])], {sweep["metadata"]["name"]: sweep}, "2026-12-07T12:20:00Z").apply
    assert later["metadata"]["name"] != sweep["metadata"]["name"]
    model = read_artifact(artifact("m"))
    assert reap_job_name(model, [], "1") != reap_job_name(model, [], ["gone"])


def test_staging_takes_the_runtime_configs_environment_under_the_artifacts() -> None:
    svc = service(["a"], status=synced(["a"]))
    tone = adapter("a")
    tone["spec"]["env"] = [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hub", "key": "token"}}}]
    known = inputs(PARENT, tone, jobs={sync_job_name(svc): job(COMPLETE)})
    known.runtime_env = [EnvVar(name="HF_ENDPOINT", value="http://mirror"), EnvVar(name="HF_TOKEN", value="config")]
    use = plan_adapters(svc, TEMPLATE, CACHE, known)
    assert use is not None
    [stage] = use.apply
    env = {e["name"]: e for e in stage["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["HF_ENDPOINT"]["value"] == "http://mirror"
    assert "valueFrom" in env["HF_TOKEN"], "the artifact's own wins"
    assert env["SERVICE_ID"]["value"] == "svc-uid"

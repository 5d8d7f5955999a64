"""An AIMService's LoRA adapters (pure): spec.adapters, the model cache's artifacts and the Jobs in;
the subtree-sync and staging Jobs, status.adapters, `AdaptersReady` and the mount out.

As upstream (docs/lora-adapters.md): the parent is the cache's artifact of the template's single
model source; it must have an adapter disk. The service's subtree (`<disk>/<service uid>/`) is
created by a sync Job, which also prunes adapters no longer declared; each adapter is downloaded
and promoted into it by its own staging Job (`aim-adapter`). The pods mount only the subtree,
read-only, at /adapters. A new InferenceService waits for the subtree (static mode: for every
adapter, since the engine loads them at start); an existing one is never held back.

Two things differ from upstream: a failed staging Job makes the adapter `Failed` with the Job's
reason (upstream leaves it `Downloading` for ever), and the service is Degraded meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api import labels
from api.conditions import ConditionType, JobConditionType, Reason
from api.core import EnvVar
from api.naming import adapter_stage_job_name, adapter_sync_job_name, adapter_sync_key, derived_name, rfc1123
from api.objects import wire
from api.v1alpha1.aimartifact import DEFAULT_DOWNLOAD_IMAGE, AIMArtifact, ArtifactType
from api.v1alpha1.aimservice import AdapterMode, AdapterState, ServiceStatusValue
from api.v1alpha1.common import LifecycleStatus
from api.v1alpha2.aimservice import AIMService, AIMServiceSpec
from controller.common.jobs import job_failure_message, job_finished
from controller.common.merge import merge_env_layers
from controller.pipeline.components import Component
from controller.pipeline.objects import child_labels, managed, manifest, restricted_container, restricted_job_pod
from controller.pipeline.plan import ObjectRef
from controller.service.common import ModelCache, SourcesOf, cache_artifacts, predictor_volume, source_model_ids

ADAPTER_ROOT = "/adapter-disk"
ADAPTER_VOLUME = labels.COMPONENT_ADAPTER_DISK  # the volume is named after what it holds, as upstream
ADAPTER_MOUNT = "/adapters"
ADAPTER_CAPS = [
    # Upstream's built-in caps (not yet read from a profile or runtime config there either).
    {"name": "AIM_ADAPTER_MAX_COUNT", "value": "8"},
    {"name": "AIM_ADAPTER_MAX_CPU_COUNT", "value": "16"},
    {"name": "AIM_ADAPTER_MAX_RANK", "value": "32"},
]
REFRESH_INTERVAL_SECONDS = "30"
DEFAULT_RANK = "16"
ADAPTER_JOB_COMPONENTS = (labels.COMPONENT_ADAPTER_STAGE, labels.COMPONENT_ADAPTER_SYNC)
PERMANENT_EXIT_CODES = [2, 3, 4, 5]
"""aim-adapter's exit codes that no retry fixes (usage, not found, unauthorized, unsafe)."""


@dataclass
class AdapterInputs:
    """What the planner needs beyond the service (filled by the fetch step)."""

    artifacts: dict[str, AIMArtifact] = field(default_factory=dict)
    """The namespace's AIMArtifacts by name."""
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The service's adapter Jobs by name (as the API server sent them)."""
    image: str = ""
    """The operator's image (runs aim-adapter) when an artifact names no download image."""
    runtime_env: list[EnvVar] = field(default_factory=list)
    """The runtime config's env (a mirror's HF_ENDPOINT, credentials), under the artifact's own."""


@dataclass
class AdapterUse:
    component: Component
    apply: list[dict[str, Any]] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    delete: list[ObjectRef] = field(default_factory=list)
    """Staging Jobs of removed adapters (a re-added adapter is staged again)."""
    claim: str = ""
    """The adapter disk to mount ("" for none)."""


def adapters_enabled(spec: AIMServiceSpec) -> bool:
    """A service serves adapters when it declares some or is in dynamic mode (mounted even at
    zero): api.v1alpha1.aimservice.adapters_enabled, on the typed spec."""
    return bool(spec.adapters) or spec.adapter_mode == AdapterMode.DYNAMIC


def adapters_active(service: AIMService) -> bool:
    """Enabled, or adapters removed from spec still to prune."""
    return adapters_enabled(service.spec) or bool(service.status is not None and service.status.adapters)


def declared(spec: AIMServiceSpec) -> list[str]:
    return [a.name for a in spec.adapters or []]


def sync_job_name(service: AIMService) -> str:
    return adapter_sync_job_name(service.name, service.uid, adapter_sync_key(declared(service.spec)))


def stage_job_name(service: AIMService, adapter: str) -> str:
    return adapter_stage_job_name(service.name, adapter, service.uid)


def plan_adapters(
    service: AIMService, template: SourcesOf | None, cache: ModelCache | None, inputs: AdapterInputs
) -> AdapterUse | None:
    if not adapters_active(service):
        return None
    spec = service.spec
    previous = service.status
    condition = ConditionType.ADAPTERS_READY
    names = declared(spec)
    key = adapter_sync_key(names)
    parent_name, error = _parent_name(template, cache)
    parent = inputs.artifacts.get(parent_name or "")
    error = error or _config_error(names, inputs.artifacts, parent_name)
    entries = _entries(service, names, inputs)
    status: dict[str, Any] = {"adapters": entries or None}
    claim = (parent.status.adapter_persistent_volume_claim if parent and parent.status else None) or (
        (previous.adapter_disk_persistent_volume_claim if previous else None) or ""
    )
    if claim:
        status["adapterDiskPersistentVolumeClaim"] = claim
    if previous is not None and previous.adapter_subtree_sync_key:
        status["adapterSubtreeSyncKey"] = previous.adapter_subtree_sync_key
    if error:
        return AdapterUse(
            Component(condition, ServiceStatusValue.FAILED, Reason.ADAPTER_CONFIG_INVALID, error), status=status
        )
    if parent_name is None:
        message = "waiting for the model cache to list the base model's artifact"
        return AdapterUse(
            Component(condition, ServiceStatusValue.STARTING, Reason.ADAPTER_SUBTREE_PROVISIONING, message),
            status=status,
            claim=claim,
        )
    if not claim:
        message = f"base model artifact {parent_name} has no adapter disk yet (spec.adapterDisk)"
        return AdapterUse(
            Component(condition, ServiceStatusValue.STARTING, Reason.PARENT_LACKS_ADAPTER_DISK, message), status=status
        )
    use = AdapterUse(
        Component(condition, ServiceStatusValue.RUNNING, Reason.ADAPTERS_STAGED), status=status, claim=claim
    )
    sync = inputs.jobs.get(sync_job_name(service))
    synced = job_finished(sync) == JobConditionType.COMPLETE
    if job_finished(sync) == JobConditionType.FAILED:
        message = f"the subtree-sync Job {sync_job_name(service)} failed: {job_failure_message(sync)}"  # type: ignore[arg-type]
        use.component = Component(condition, ServiceStatusValue.DEGRADED, Reason.ADAPTER_SUBTREE_PROVISIONING, message)
        return use
    if synced:
        status["adapterSubtreeSyncKey"] = key
    elif status.get("adapterSubtreeSyncKey") != key and sync is None:
        use.apply.append(plan_sync_job(service, claim, names, parent, inputs.image))
    use.delete = [
        ObjectRef("batch/v1", "Job", stage_job_name(service, e["name"]), service.namespace)
        for e in entries
        if e["state"] == AdapterState.DELETING and stage_job_name(service, e["name"]) in inputs.jobs
    ]
    if status.get("adapterSubtreeSyncKey") == key:
        # The prune is confirmed: removed adapters leave the status. Staging starts only now, so
        # a sync of an older set can never prune a newly staged adapter.
        status["adapters"] = [e for e in entries if e["state"] != AdapterState.DELETING] or None
        for entry in entries:
            artifact = inputs.artifacts.get(entry["name"])
            if entry["state"] == AdapterState.PENDING and artifact is not None and _ready(artifact):
                use.apply.append(plan_stage_job(service, claim, entry, artifact, inputs))
    use.component = _component(spec, entries, subtree=bool(status.get("adapterSubtreeSyncKey")))
    return use


def _parent_name(template: SourcesOf | None, cache: ModelCache | None) -> tuple[str | None, str]:
    """The cache's artifact of the template's single model source, or why there is none."""
    if template is None:
        return None, ""
    model_ids = source_model_ids(template)
    if len(model_ids) != 1:
        count = len(model_ids)
        return None, f"adapters require a single base model, but the resolved template has {count} model sources"
    found = next((a for a in cache_artifacts(cache).values() if a.model == model_ids[0] and a.name), None)
    return (found.name if found else None), ""


def _config_error(names: list[str], artifacts: dict[str, AIMArtifact], parent: str | None) -> str:
    paths: dict[str, str] = {}
    for name in names:
        artifact = artifacts.get(name)
        if artifact is None:
            continue  # Pending with AdapterArtifactNotFound: it may be created later
        kind = str(artifact.spec.type)
        if kind != ArtifactType.ADAPTER:
            return f'artifact {name} referenced as an adapter is type "{kind}"'
        if parent is not None and artifact.spec.parent_artifact != parent:
            return (
                f"adapter {name}.parentArtifact ({artifact.spec.parent_artifact}) does not match the service's"
                f" resolved base model {parent}"
            )
        path = _adapter_path(artifact)
        if path in paths:
            return f"adapters {paths[path]} and {name} resolve to the same adapterPath {path!r}"
        paths[path] = name
    return ""


def _adapter_path(artifact: AIMArtifact) -> str:
    return str((artifact.status.adapter_path if artifact.status is not None else None) or artifact.name)


def _ready(artifact: AIMArtifact) -> bool:
    return artifact.status is not None and artifact.status.status == LifecycleStatus.READY


def _entries(service: AIMService, names: list[str], inputs: AdapterInputs) -> list[dict[str, Any]]:
    """status.adapters: each declared adapter's state from its artifact and staging Job; removed
    ones Deleting (dropped by the caller once the prune is confirmed)."""
    listed = (service.status.adapters if service.status is not None else None) or []
    previous = {e.name: e for e in listed}
    entries = []
    for name in names:
        artifact = inputs.artifacts.get(name)
        entry: dict[str, Any] = {"name": name}
        if artifact is None:
            entries.append(entry | {"state": AdapterState.PENDING, "lastError": Reason.ADAPTER_ARTIFACT_NOT_FOUND})
            continue
        entry |= {"adapterPath": _adapter_path(artifact), "modelId": artifact.spec.model_id}
        job = inputs.jobs.get(stage_job_name(service, name))
        finished = job_finished(job)
        before = previous.get(name)
        if finished == JobConditionType.COMPLETE or (
            job is None and before is not None and before.state == AdapterState.DOWNLOADED
        ):
            entry["state"] = AdapterState.DOWNLOADED
        elif finished == JobConditionType.FAILED:
            entry |= {"state": AdapterState.FAILED, "lastError": job_failure_message(job)}  # type: ignore[arg-type]
        elif job is not None:
            entry["state"] = AdapterState.DOWNLOADING
        else:
            entry["state"] = AdapterState.PENDING
        entries.append({k: v for k, v in entry.items() if v is not None})
    entries += [
        {k: v for k, v in (wire(old) | {"state": AdapterState.DELETING}).items() if k != "lastError"}
        for name, old in previous.items()
        if name not in names and name
    ]
    return entries


def _component(spec: AIMServiceSpec, entries: list[dict[str, Any]], subtree: bool) -> Component:
    condition = ConditionType.ADAPTERS_READY
    if not subtree:
        message = "Provisioning the service adapter subtree"
        return Component(condition, ServiceStatusValue.STARTING, Reason.ADAPTER_SUBTREE_PROVISIONING, message)
    active = [e for e in entries if e["state"] != AdapterState.DELETING]
    failed = [e for e in active if e["state"] == AdapterState.FAILED]
    staged = [e for e in active if e["state"] == AdapterState.DOWNLOADED]
    if failed:
        message = "; ".join(f"adapter {e['name']}: {e.get('lastError', 'staging failed')}" for e in failed)
        return Component(condition, ServiceStatusValue.DEGRADED, Reason.ADAPTERS_STAGING, message, healthy=False)
    if not active:
        return Component(
            condition, ServiceStatusValue.RUNNING, Reason.ADAPTERS_STAGED, "Adapter subtree ready; no adapters declared"
        )
    if len(staged) == len(active):
        return Component(
            condition, ServiceStatusValue.RUNNING, Reason.ADAPTERS_STAGED, f"All {len(active)} adapter(s) staged"
        )
    message = f"Adapter subtree ready; {len(staged)}/{len(active)} adapter(s) staged"
    if spec.adapter_mode == AdapterMode.DYNAMIC:
        # The engine loads them as they land: serving does not wait.
        return Component(
            condition, ServiceStatusValue.RUNNING, Reason.ADAPTERS_STAGING, message + " (loading asynchronously)"
        )
    # Static: the engine reads the adapters once, at start; the pods start when all are there.
    return Component(condition, ServiceStatusValue.STARTING, Reason.ADAPTERS_STAGING, message, healthy=True)


def _image(artifact: AIMArtifact | None, default: str) -> str:
    image = artifact.spec.model_download_image if artifact is not None else None
    return default if not image or image == DEFAULT_DOWNLOAD_IMAGE else str(image)


def _job(
    service: AIMService,
    name: str,
    component: str,
    args: list[str],
    env: list[dict[str, Any]],
    claim: str,
    image: str,
    ttl: int,
) -> dict[str, Any]:
    """A Job of the service's on its adapter disk, as restricted as the download Jobs."""
    own = managed({labels.COMPONENT: component, labels.AIM_COMPONENT: component, labels.SERVICE: rfc1123(service.name)})
    container = restricted_container(
        component,
        image,
        [
            {"name": ADAPTER_VOLUME, "mountPath": ADAPTER_ROOT},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - the pod's own scratch volume
        ],
        command=["aim-adapter"],
        args=args,
        env=env,
        resources={"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
    )
    pod_spec = restricted_job_pod(
        container,
        [{"name": ADAPTER_VOLUME, "persistentVolumeClaim": {"claimName": claim}}, {"name": "tmp", "emptyDir": {}}],
    )
    if service.spec.image_pull_secrets:
        pod_spec["imagePullSecrets"] = wire(service.spec.image_pull_secrets)
    return manifest(
        "batch/v1",
        "Job",
        name,
        service.namespace,
        object_labels=child_labels(service, own),
        owner=service,
        spec={
            "backoffLimit": 3,
            "ttlSecondsAfterFinished": ttl,
            "podFailurePolicy": {
                "rules": [
                    {
                        "action": "FailJob",
                        "onExitCodes": {"containerName": component, "operator": "In", "values": PERMANENT_EXIT_CODES},
                    }
                ]
            },
            "template": {"metadata": {"labels": child_labels(service, own)}, "spec": pod_spec},
        },
    )


def plan_sync_job(
    service: AIMService, claim: str, names: list[str], parent: AIMArtifact | None, image: str
) -> dict[str, Any]:
    env = [
        {"name": "ADAPTER_PVC_ROOT", "value": ADAPTER_ROOT},
        {"name": "SERVICE_ID", "value": service.uid},
        {"name": "KEEP_ADAPTER_PATHS", "value": ",".join(sorted(names))},
    ]
    return _job(
        service,
        sync_job_name(service),
        labels.COMPONENT_ADAPTER_SYNC,
        ["sync"],
        env,
        claim,
        _image(parent, image),
        86400,
    )


def plan_stage_job(
    service: AIMService, claim: str, entry: dict[str, Any], artifact: AIMArtifact, inputs: AdapterInputs
) -> dict[str, Any]:
    uid = service.uid
    spec = artifact.spec
    path = entry["adapterPath"]
    own = [
        {"name": "ADAPTER_PVC_ROOT", "value": ADAPTER_ROOT},
        {"name": "SERVICE_ID", "value": uid},
        {"name": "ADAPTER_PATH", "value": path},
        {"name": "JOB_ID", "value": derived_name([path], [uid, path])},
        {"name": "ADAPTER_BASE_MODEL_ID", "value": spec.model_id or ""},
        {"name": "ADAPTER_RANK", "value": str(spec.rank or DEFAULT_RANK)},
        {"name": "AIM_DOWNLOADER_PROTOCOL", "value": "XET,HF_TRANSFER"},
        {"name": "STALL_TIMEOUT", "value": "120"},
        {"name": "TMPDIR", "value": "/tmp/"},  # noqa: S108 - the pod's own emptyDir
        {"name": "HF_HOME", "value": "/tmp/.hf"},  # noqa: S108 - the pod's own emptyDir
    ]
    env = merge_env_layers([own, inputs.runtime_env, spec.env])
    name = stage_job_name(service, entry["name"])
    return _job(
        service,
        name,
        labels.COMPONENT_ADAPTER_STAGE,
        ["stage", spec.source_uri],
        env,
        claim,
        _image(artifact, inputs.image),
        1800,
    )


def mount_adapters(isvc: dict[str, Any], service: AIMService, claim: str) -> None:
    """The service's subtree read-only at /adapters and the AIM_ADAPTER_* environment."""
    mode = service.spec.adapter_mode
    predictor = isvc["spec"]["predictor"]
    volume = {"name": ADAPTER_VOLUME, "persistentVolumeClaim": {"claimName": claim, "readOnly": True}}
    predictor["volumes"] = [*predictor.get("volumes", []), volume]
    container = predictor["containers"][0]
    mount = {
        "name": ADAPTER_VOLUME,
        "mountPath": ADAPTER_MOUNT,
        "subPath": service.uid,
        "readOnly": True,
    }
    container["volumeMounts"] = [*container.get("volumeMounts", []), mount]
    env = [
        {"name": "AIM_ADAPTER_SOURCE", "value": ADAPTER_MOUNT},
        {"name": "AIM_ADAPTER_MODE", "value": mode.value},
        *ADAPTER_CAPS,
    ]
    if mode == AdapterMode.DYNAMIC:
        env.append({"name": "AIM_ADAPTER_REFRESH_INTERVAL", "value": REFRESH_INTERVAL_SECONDS})
    container["env"] = merge_env_layers([container.get("env"), env])


def mounted_claim(isvc: dict[str, Any] | None) -> str:
    """The adapter disk an InferenceService already mounts (kept while the disk is unknown)."""
    claim = predictor_volume(isvc, ADAPTER_VOLUME).get("persistentVolumeClaim") or {}
    return str(claim.get("claimName") or "")


def should_mount(service: AIMService, use: AdapterUse | None, existing: dict[str, Any] | None) -> str:
    """The claim to mount: static mode only with adapters, dynamic always; once the subtree exists
    (or the running InferenceService has it already: `existing`, as the API server sent it)."""
    if use is None or not adapters_enabled(service.spec):
        return ""
    if (use.status.get("adapterSubtreeSyncKey") or mounted_claim(existing)) and use.claim:
        return use.claim
    return mounted_claim(existing)

"""LoRA adapters on AIMArtifacts (pure).

An artifact of type adapter downloads nothing itself: each service that serves it stages it into
its own subtree of the parent's adapter disk (controller.service.adapters). Here it is Ready once
its lineage holds: the parent exists, is a model and has an adapter disk (`AdapterParentReady`,
upstream's reasons). A model artifact with `spec.adapterDisk` gets the disk (a ReadWriteMany
PVC, after its cache volume) and reaper Jobs that remove the subtrees of services that no longer
exist: one as soon as such a service is gone, and a sweep per interval (upstream: one Job of a
fixed name every 15 minutes, so a deletion waits for the previous Job's TTL and the interval).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api import labels, naming
from api.conditions import ConditionType, JobConditionType, Reason
from api.quantity import QuantityError, quantity_bytes
from api.v1alpha1.aimartifact import DEFAULT_ADAPTER_DISK_SIZE, DEFAULT_DOWNLOAD_IMAGE, AIMArtifact, ArtifactType
from api.v1alpha1.common import LifecycleStatus
from controller.common.caching import ServiceUse
from controller.common.jobs import JOB_API, job_finished
from controller.pipeline.components import Component, component_status
from controller.pipeline.objects import child_labels, managed, manifest, restricted_container, restricted_job_pod
from controller.pipeline.plan import Plan

ADAPTER_ROOT = "/adapter-disk"


def is_adapter(artifact: AIMArtifact) -> bool:
    return artifact.spec.type == ArtifactType.ADAPTER


def has_adapter_disk(artifact: AIMArtifact | None) -> bool:
    return artifact is not None and artifact.spec.type == ArtifactType.MODEL and artifact.spec.adapter_disk is not None


def plan_adapter_artifact(artifact: AIMArtifact, parent: AIMArtifact | None, now: str) -> Plan:
    parent_name = artifact.spec.parent_artifact or ""
    path = artifact.status.adapter_path if artifact.status is not None else None
    extra: dict[str, Any] = {"adapterPath": path or artifact.name}
    condition = ConditionType.ADAPTER_PARENT_READY
    if parent is None:
        component = Component(
            condition, LifecycleStatus.PENDING, Reason.PARENT_ARTIFACT_NOT_FOUND, f"artifact {parent_name} not found"
        )
    elif parent.spec.type != ArtifactType.MODEL:
        message = f"parent artifact {parent_name} is not a model artifact"
        component = Component(condition, LifecycleStatus.FAILED, Reason.PARENT_ARTIFACT_NOT_MODEL, message)
    elif not has_adapter_disk(parent):
        message = f"parent artifact {parent_name} has no adapterDisk"
        component = Component(condition, LifecycleStatus.PENDING, Reason.PARENT_LACKS_ADAPTER_DISK, message)
    else:
        message = f"adapter lineage validated against parent {parent_name}"
        component = Component(condition, LifecycleStatus.READY, Reason.ADAPTER_VALIDATED, message)
    if parent is not None:
        extra["resolvedParent"] = {
            "name": parent.name,
            "namespace": parent.namespace,
            "kind": "AIMArtifact",
            "uid": parent.uid,
        }
        extra["parentModelId"] = parent.spec.model_id
    return Plan(status=component_status(artifact, [component], now, extra))


def adapter_disk_size(artifact: AIMArtifact, config_storage: dict[str, Any]) -> str:
    """spec.adapterDisk.size, else the runtime config's storage.adapterDiskSize, else 50Gi."""
    disk = artifact.spec.adapter_disk
    for candidate in (disk.size if disk is not None else None, config_storage.get("adapterDiskSize")):
        try:
            if candidate is not None and quantity_bytes(candidate) > 0:
                return str(candidate)
        except QuantityError:
            continue
    return DEFAULT_ADAPTER_DISK_SIZE


def plan_adapter_disk(
    artifact: AIMArtifact, config_storage: dict[str, Any], storage_class: str | None
) -> dict[str, Any]:
    disk = artifact.spec.adapter_disk
    own_class = disk.storage_class_name if disk is not None else None
    chosen = own_class or config_storage.get("adapterDiskStorageClassName") or storage_class
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteMany"],
        "resources": {"requests": {"storage": adapter_disk_size(artifact, config_storage)}},
    }
    if chosen:
        spec["storageClassName"] = chosen
    own = managed(
        {
            labels.COMPONENT: labels.COMPONENT_ADAPTER_DISK,
            labels.CACHE_TYPE: labels.CACHE_TYPE_ARTIFACT,
            labels.CACHE_NAME: naming.name_label_value(artifact.name),
        }
    )
    return manifest(
        "v1",
        "PersistentVolumeClaim",
        naming.adapter_disk_name(artifact.name, artifact.uid),
        artifact.namespace,
        object_labels=child_labels(artifact, own),
        owner=artifact,
        spec=spec,
    )


def live_adapter_services(services: list[ServiceUse]) -> list[str]:
    """The uids whose subtrees the reaper keeps: services with adapters that are not being deleted."""
    return sorted(s.uid for s in services if not s.deleting and s.adapters)


def reap_job_name(artifact: AIMArtifact, keep: list[str], reason: list[str] | str) -> str:
    """A reaper per (kept set, reason): the services gone since the last one, or the interval's
    sweep (`reason` the interval's number). A new reason is a new Job at once; the same one never
    runs twice."""
    return naming.derived_name([artifact.name, labels.COMPONENT_ADAPTER_REAP], [artifact.uid, keep, reason])


@dataclass
class Reaping:
    apply: list[dict[str, Any]]
    tracked: list[str]
    """status.adapterServices: the services whose subtrees may be on the disk."""


def plan_reaping(
    artifact: AIMArtifact,
    claim: str,
    services: list[ServiceUse],
    jobs: dict[str, dict[str, Any]],
    now: str,
    interval_seconds: float,
    min_age_seconds: float,
    default_image: str,
) -> Reaping:
    """When services with adapters are gone, a reaper for them at once (their subtrees go when old
    enough; the sweep takes the younger ones later); otherwise one sweep per interval for what a
    crash left behind."""
    live = live_adapter_services(services)
    previous = (artifact.status.adapter_services if artifact.status is not None else None) or []
    tracked = sorted(set(previous) | set(live))
    gone = [uid for uid in tracked if uid not in live]
    if gone:
        name = reap_job_name(artifact, live, gone)
        job = jobs.get(name)
        if job_finished(job) == JobConditionType.COMPLETE:
            return Reaping([], live)
    else:
        epoch = datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp()
        name = reap_job_name(artifact, live, str(int(epoch // max(interval_seconds, 1))))
    if name in jobs:
        return Reaping([], tracked)
    return Reaping([plan_reap_job(artifact, name, claim, live, min_age_seconds, default_image)], tracked)


def plan_reap_job(
    artifact: AIMArtifact, name: str, claim: str, keep: list[str], min_age_seconds: float, default_image: str
) -> dict[str, Any]:
    image = artifact.spec.model_download_image
    image = default_image if not image or image == DEFAULT_DOWNLOAD_IMAGE else image
    own = managed(
        {
            labels.COMPONENT: labels.COMPONENT_ADAPTER_REAP,
            labels.AIM_COMPONENT: labels.COMPONENT_ADAPTER_REAP,
            labels.CACHE_TYPE: labels.CACHE_TYPE_ARTIFACT,
            labels.CACHE_NAME: naming.name_label_value(artifact.name),
        }
    )
    env = [
        {"name": "ADAPTER_PVC_ROOT", "value": ADAPTER_ROOT},
        {"name": "KEEP_SERVICE_IDS", "value": ",".join(keep)},
        {"name": "MIN_AGE_SECONDS", "value": str(int(min_age_seconds))},
    ]
    container = restricted_container(
        labels.COMPONENT_ADAPTER_REAP,
        image,
        [{"name": labels.COMPONENT_ADAPTER_DISK, "mountPath": ADAPTER_ROOT}],
        command=["aim-adapter"],
        args=["reap"],
        env=env,
        resources={"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
    )
    pod_spec = restricted_job_pod(
        container, [{"name": labels.COMPONENT_ADAPTER_DISK, "persistentVolumeClaim": {"claimName": claim}}]
    )
    return manifest(
        JOB_API,
        "Job",
        name,
        artifact.namespace,
        object_labels=child_labels(artifact, own),
        owner=artifact,
        spec={
            "backoffLimit": 1,
            "ttlSecondsAfterFinished": 300,
            "template": {"metadata": {"labels": child_labels(artifact, own)}, "spec": pod_spec},
        },
    )

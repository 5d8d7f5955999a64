"""AIMArtifact: source, size and runtime config in; PVC, download Job and status out (pure).

The size comes from the spec, else from a check-size Job (`aim-download --check-size`), before the
PVC is created, so the volume is sized once: size plus the runtime config's headroom. The download
Job runs `aim-download` where the GPUs that will serve the model are, and writes progress into this
object's status itself; the controller keeps those fields and decides Ready/Failed from the Job.
Permanent failures (exit codes of the downloader) fail the Job at once through a podFailurePolicy;
transient ones are retried by the Job with its exponential back-off.
"""

from __future__ import annotations

import json
from typing import Any

from api import labels, naming
from api.conditions import ConditionType, JobConditionType, Reason
from api.downloads import effective_filter, filter_env
from api.objects import AnyObject, as_stored, wire
from api.quantity import QuantityError, display_size, quantity_bytes, whole_gibibytes
from api.v1alpha1.aimartifact import DEFAULT_DOWNLOAD_IMAGE, AIMArtifact
from api.v1alpha1.common import LifecycleStatus
from controller.artifact import adapters, retention
from controller.artifact.observe import ArtifactObservation
from controller.common.jobs import JOB_API, job_finished
from controller.common.runtimeconfig import merge_env, runtime_config_component
from controller.pipeline.components import Component, component_status
from controller.pipeline.conditions import FALSE, Condition
from controller.pipeline.objects import (
    child_labels,
    manifest,
    pod_template_labels,
    restricted_container,
    restricted_job_pod,
)
from controller.pipeline.plan import Event, Plan, object_ref, owner_reference

STATUS_UPDATER = "aim-engine-artifact-status-updater"
MOUNT_PATH = "/cache"
MAX_SIZE = 2**50  # 1 PiB: anything larger is a broken size report, not a model
# Exit codes of aim-download (docs/downloader.md): permanent failures are not retried.
EXIT_REASONS = {
    3: Reason.SOURCE_NOT_FOUND,
    4: Reason.AUTH_ERROR,
    5: Reason.VERIFICATION_FAILED,
    6: Reason.STORAGE_FULL,
}
EXIT_MEANINGS = {
    1: "transient failure",
    2: "usage error",
    3: "source not found",
    4: "unauthorized",
    5: "size verification failed",
    6: "no space left on device",
}
PERMANENT_EXIT_CODES = [3, 4, 5]
DOWNLOAD_COMPLETE_MESSAGE = "Complete"
"""status.download.message once the Job succeeded (as upstream writes it)."""
NOT_APPLICABLE = "N/A"
"""status.progress.displayPercentage of a failed download."""


def child_name(artifact: AnyObject, purpose: str) -> str:
    """The name of an artifact's PVC or Job (the artifact typed, or as the API server sends it)."""
    metadata = as_stored(artifact)["metadata"]
    return naming.artifact_child_name(metadata["name"], metadata["uid"], purpose)


def parse_size_output(log: str) -> int | None:
    """The byte count in the last JSON line `{"url": ..., "sizeBytes": N}`; None when invalid."""
    for line in reversed(log.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        size = value.get("sizeBytes") if isinstance(value, dict) else None
        if isinstance(size, int) and not isinstance(size, bool) and 0 < size <= MAX_SIZE:
            return size
        return None
    return None


def plan_role_binding(namespace: str, role: str) -> dict[str, Any]:
    """Lets the download pod (the namespace's default service account) patch artifact status."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {
            "name": STATUS_UPDATER,
            "namespace": namespace,
            "labels": {labels.MANAGED_BY: labels.MANAGED_BY_VALUE},
        },
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}],
    }


def _builder_labels(artifact: AIMArtifact, component: str, **extra: str) -> dict[str, str]:
    """The PVC's and the Jobs' own labels: ours (the controller watches them by cache.type) and
    upstream's `aim.eai.amd.com/component` on Jobs."""
    return {
        labels.MANAGED_BY: labels.MANAGED_BY_VALUE,
        labels.COMPONENT: component,
        labels.CACHE_TYPE: labels.CACHE_TYPE_ARTIFACT,
        labels.CACHE_NAME: naming.name_label_value(artifact.name),
    } | extra


def _labels(artifact: AIMArtifact, component: str, **extra: str) -> dict[str, str]:
    """With the artifact's propagated labels and its name."""
    return child_labels(artifact, _builder_labels(artifact, component, **extra))


def source_without_scheme(artifact: AIMArtifact) -> str:
    return artifact.spec.source_uri.split("://", 1)[-1]


def plan_pvc(observed: ArtifactObservation, size: int) -> dict[str, Any]:
    artifact = observed.artifact
    storage_class = artifact.spec.storage_class_name or observed.runtime_config.storage_class
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteMany"],
        "resources": {"requests": {"storage": whole_gibibytes(size, observed.runtime_config.pvc_headroom_percent)}},
    }
    if storage_class:
        spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": child_name(artifact, "cache"),
            "namespace": artifact.namespace,
            "labels": _labels(
                artifact, "cache", **{labels.SOURCE_MODEL: naming.label_value(source_without_scheme(artifact))}
            ),
            "ownerReferences": [owner_reference(artifact)],
        },
        "spec": spec,
    }


def _image(observed: ArtifactObservation) -> str:
    image = observed.artifact.spec.model_download_image
    # The CRD default names upstream's shell-script image; ours runs `aim-download` (docs/caching.md).
    return observed.downloader_image if not image or image == DEFAULT_DOWNLOAD_IMAGE else image


def _job(
    observed: ArtifactObservation, name: str, component: str, args: list[str], env: list[dict[str, Any]]
) -> dict[str, Any]:
    artifact = observed.artifact
    job_labels = _labels(artifact, component, **{labels.AIM_COMPONENT: component})
    pod_labels = pod_template_labels(
        artifact, _builder_labels(artifact, component, **{labels.AIM_COMPONENT: component})
    )
    container = restricted_container(
        component,
        _image(observed),
        [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - the pod's own scratch volume
        command=["aim-download"],
        args=args,
        env=env,
        resources={"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}},
    )
    pod_spec = restricted_job_pod(container, [{"name": "tmp", "emptyDir": {}}])
    if artifact.spec.image_pull_secrets:
        pod_spec["imagePullSecrets"] = wire(artifact.spec.image_pull_secrets)
    if observed.node_affinity:
        pod_spec["affinity"] = {"nodeAffinity": observed.node_affinity}
    return manifest(
        JOB_API,
        "Job",
        name,
        artifact.namespace,
        object_labels=job_labels,
        owner=artifact,
        spec={
            "backoffLimit": 2,
            "ttlSecondsAfterFinished": 600,
            "podFailurePolicy": {
                "rules": [
                    {
                        "action": "FailJob",
                        "onExitCodes": {"containerName": component, "operator": "In", "values": PERMANENT_EXIT_CODES},
                    }
                ]
            },
            "template": {"metadata": pod_metadata(pod_labels, observed.pod_annotations), "spec": pod_spec},
        },
    )


def pod_metadata(pod_labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    # No empty map: the API server drops it, and the applied object would never look up to date.
    return {"labels": pod_labels} | ({"annotations": dict(annotations)} if annotations else {})


def download_env(observed: ArtifactObservation, size: int) -> list[dict[str, Any]]:
    artifact = observed.artifact
    defaults = [
        {"name": "AIM_DOWNLOADER_PROTOCOL", "value": "XET,HF_TRANSFER"},
        {"name": "MOUNT_PATH", "value": MOUNT_PATH},
        {"name": "TARGET_DIR", "value": MOUNT_PATH},
        {"name": "EXPECTED_SIZE_BYTES", "value": str(size)},
        {"name": "ARTIFACT_NAME", "value": artifact.name},
        {"name": "ARTIFACT_NAMESPACE", "value": artifact.namespace},
        {"name": "STALL_TIMEOUT", "value": "120"},
        {"name": "TMPDIR", "value": "/tmp/"},  # noqa: S108 - the pod's own emptyDir
        {"name": "HF_HOME", "value": "/tmp/.hf"},  # noqa: S108 - the pod's own emptyDir
    ]
    # A user's own AIM_HF_* entries override the filter, as upstream orders them.
    layered = merge_env(defaults + download_filter_env(observed), list(observed.runtime_config.spec.get("env") or []))
    return merge_env(layered, wire(artifact.spec.env or []))


def download_filter_env(observed: ArtifactObservation) -> list[dict[str, str]]:
    """The same filter for the check-size and the download Job: the size is the bytes written."""
    spec = observed.artifact.spec
    chosen = effective_filter(wire(spec.download_filter), observed.runtime_config.download_filter, spec.source_uri)
    return filter_env(chosen)


def plan_download_job(observed: ArtifactObservation, size: int, pvc_name: str) -> dict[str, Any]:
    artifact = observed.artifact
    job = _job(
        observed,
        child_name(artifact, labels.COMPONENT_DOWNLOAD),
        labels.COMPONENT_DOWNLOAD,
        [artifact.spec.source_uri],
        download_env(observed, size),
    )
    pod = job["spec"]["template"]["spec"]
    pod["volumes"].append({"name": "cache", "persistentVolumeClaim": {"claimName": pvc_name}})
    pod["containers"][0]["volumeMounts"].append({"name": "cache", "mountPath": MOUNT_PATH})
    return job


def plan_size_job(observed: ArtifactObservation) -> dict[str, Any]:
    artifact = observed.artifact
    env = merge_env(
        merge_env(download_filter_env(observed), list(observed.runtime_config.spec.get("env") or [])),
        wire(artifact.spec.env or []),
    )
    job = _job(
        observed,
        child_name(artifact, labels.COMPONENT_CHECK_SIZE),
        labels.COMPONENT_CHECK_SIZE,
        ["--check-size", artifact.spec.source_uri],
        env,
    )
    job["spec"]["ttlSecondsAfterFinished"] = 300
    return job


def failure_reason(pod: dict[str, Any] | None) -> tuple[Reason, str]:
    """(reason, message) of a failed download from its pod's terminated container."""
    for status in ((pod or {}).get("status") or {}).get("containerStatuses") or []:
        terminated = (status.get("state") or {}).get("terminated") or (status.get("lastState") or {}).get("terminated")
        if not terminated:
            continue
        code = int(terminated.get("exitCode") or 0)
        if terminated.get("reason") == "OOMKilled":
            return Reason.POD_OOM_KILLED, "The downloader ran out of memory"
        message = (terminated.get("message") or "").strip().splitlines()
        meaning = EXIT_MEANINGS.get(code, "failed")
        return EXIT_REASONS.get(code, Reason.POD_FAILED), (message[-1] if message else f"exit code {code}: {meaning}")
    return Reason.POD_FAILED, "The download Job failed"


def _size(observed: ArtifactObservation) -> tuple[int | None, str]:
    artifact = observed.artifact
    try:
        size = quantity_bytes(artifact.spec.size)
    except QuantityError:
        return None, f"spec.size {artifact.spec.size!r} is not a quantity"
    if size > 0:
        return size, ""
    discovered = artifact.status.discovered_size_bytes if artifact.status is not None else None
    return (discovered, "") if discovered else (None, "")


def plan_artifact(observed: ArtifactObservation, now: str) -> Plan:
    artifact = observed.artifact
    if adapters.is_adapter(artifact):
        return adapters.plan_adapter_artifact(artifact, observed.parent, now)
    previous = artifact.status
    namespace = artifact.namespace
    config = observed.runtime_config
    using = retention.in_use(artifact, observed.consumers)
    last_used = retention.refreshed_last_used(artifact, using, now)
    reap = retention.reap_in(
        artifact, observed.consumers, config.default_retention_priority, config.reap_unreferenced_after, last_used, now
    )
    if reap == 0:
        return plan_reaping(artifact)
    plan = Plan(apply=[plan_role_binding(namespace, observed.status_role)])
    components = [runtime_config_component(config)]
    # The downloader writes progress and download; the controller keeps them as written.
    extra: dict[str, Any] = {
        "mode": "Shared" if retention.shared(artifact) else "Dedicated",
        "progress": wire(previous.progress) if previous is not None else None,
        "download": wire(previous.download) if previous is not None else None,
        "discoveredSizeBytes": previous.discovered_size_bytes if previous is not None else None,
        "lastUsed": last_used,
    }
    quota_condition = _carried_quota_condition(observed)
    size, size_error = _size(observed)
    if size_error:
        components.append(
            Component(ConditionType.CHECK_SIZE_OUTPUT_READY, LifecycleStatus.FAILED, Reason.INVALID_SIZE, size_error)
        )
    elif size is None:
        components.append(_discover_size(observed, plan, extra))
        size = extra.get("discoveredSizeBytes")
    decision = _quota_decision(observed, size) if size and components[0].state == LifecycleStatus.READY else None
    if decision is not None:
        quota_condition = decision.condition
        components.append(_quota_component(decision))
        plan.delete += [object_ref(a) for a in decision.evict]
        plan.events += [
            Event(
                "Warning",
                Reason.EVICTED,
                f"Evicted to free storage quota for artifact {namespace}/{artifact.name}",
                a.stored,
            )
            for a in decision.evict
        ]
        if decision.blocked:
            plan.requeue_after = retention.BLOCKED_RECHECK_SECONDS
        elif decision.evict:
            plan.requeue_after = retention.EVICTED_RECHECK_SECONDS
    if size and components[0].state == LifecycleStatus.READY and (decision is None or decision.fits):
        pvc = plan_pvc(observed, size)
        plan.apply.append(pvc)
        pvc_name = pvc["metadata"]["name"]
        extra |= {
            "persistentVolumeClaim": pvc_name,
            "allocatedSize": pvc["spec"]["resources"]["requests"]["storage"],
            "headroomPercent": config.pvc_headroom_percent,
            "displaySize": display_size(size),
        }
        phase = ((observed.pvc or {}).get("status") or {}).get("phase")
        # Not a gate: with WaitForFirstConsumer storage the claim binds only once the Job's pod runs.
        components.append(
            Component(ConditionType.CACHE_PVC_READY, LifecycleStatus.READY, Reason.PVC_BOUND, pvc_name)
            if phase == "Bound"
            else Component(
                ConditionType.CACHE_PVC_READY,
                LifecycleStatus.READY,
                Reason.PVC_CREATED,
                f"{pvc_name} is {phase or 'being created'}",
            )
        )
        download = _download(observed, plan, extra, size, pvc_name)
        components.append(download)
        if download.state != LifecycleStatus.READY:
            components += download_job_components(observed)
        if adapters.has_adapter_disk(artifact) and observed.pvc is not None:
            _plan_adapter_disk(observed, plan, extra, now)
    plan.status = component_status(
        artifact, components, now, extra, conditions=[quota_condition] if quota_condition else []
    )
    if plan.status["status"] != (previous.status if previous is not None else None) and plan.status["status"] in (
        LifecycleStatus.READY,
        LifecycleStatus.FAILED,
    ):
        ready = next(c for c in plan.status["conditions"] if c["type"] == ConditionType.READY)
        if plan.status["status"] == LifecycleStatus.READY:
            # The event is named after the condition that completed.
            cached = f"{artifact.spec.source_uri} is cached"
            plan.events.append(Event("Normal", ConditionType.DOWNLOAD_COMPLETE, cached))
        else:
            plan.events.append(Event("Warning", ready["reason"], ready["message"]))
    plan.requeue_after = _sooner(
        plan.requeue_after,
        reap,
        retention.LAST_USED_REFRESH.total_seconds()
        if using and plan.status["status"] == LifecycleStatus.READY
        else None,
    )
    return plan


def _plan_adapter_disk(observed: ArtifactObservation, plan: Plan, extra: dict[str, Any], now: str) -> None:
    """The adapter disk once the cache volume exists (not a gate: it binds with its first pod),
    and while it exists, the reaper of deleted services' subtrees."""
    artifact = observed.artifact
    storage = observed.runtime_config.spec.get("storage") or {}
    disk = adapters.plan_adapter_disk(artifact, storage, observed.runtime_config.storage_class)
    plan.apply.append(disk)
    if observed.adapter_disk is None:
        return
    claim = disk["metadata"]["name"]
    extra["adapterPersistentVolumeClaim"] = claim
    reaping = adapters.plan_reaping(
        artifact,
        claim,
        observed.consumers.services,
        observed.reap_jobs,
        now,
        observed.adapter_reap_interval,
        observed.adapter_reap_min_age,
        observed.downloader_image,
    )
    plan.apply += reaping.apply
    extra["adapterServices"] = reaping.tracked or None
    plan.requeue_after = _sooner(plan.requeue_after, observed.adapter_reap_interval)


def plan_reaping(artifact: AIMArtifact) -> Plan:
    """An evictable artifact no cache referenced for the runtime config's grace period deletes itself."""
    since = retention.last_used(artifact)
    message = f"Deleted: no template or profile cache has referenced it and no service has used it since {since}"
    return Plan(delete=[object_ref(artifact)], events=[Event("Warning", Reason.REAPED, message)])


def _quota_decision(observed: ArtifactObservation, size: int) -> retention.QuotaDecision | None:
    """Only before the volume exists: an artifact that has its volume keeps it."""
    if observed.quota is None or observed.pvc is not None:
        return None
    headroom = observed.runtime_config.pvc_headroom_percent
    return retention.evaluate_quota(
        observed.artifact,
        retention.with_headroom(size, headroom),
        headroom,
        observed.quota,
        observed.runtime_config.default_retention_priority,
    )


def _quota_component(decision: retention.QuotaDecision) -> Component:
    condition = decision.condition
    if decision.blocked:
        return Component(ConditionType.STORAGE_QUOTA_READY, LifecycleStatus.FAILED, condition.reason, condition.message)
    if decision.evict:
        return Component(
            ConditionType.STORAGE_QUOTA_READY, LifecycleStatus.PROGRESSING, condition.reason, condition.message
        )
    return Component(ConditionType.STORAGE_QUOTA_READY, LifecycleStatus.READY, condition.reason, condition.message)


def _carried_quota_condition(observed: ArtifactObservation) -> Condition | None:
    """An artifact that was checked against a quota and has its volume fit: it keeps saying so (the
    volume is never taken away, whatever the quota becomes)."""
    if observed.pvc is None:
        return None
    status = observed.artifact.status
    if not any(c.type == ConditionType.STORAGE_QUOTA_EXCEEDED for c in (status.conditions if status else None) or []):
        return None
    return Condition(ConditionType.STORAGE_QUOTA_EXCEEDED, FALSE, Reason.WITHIN_QUOTA, retention.WITHIN_QUOTA_MESSAGE)


def _sooner(*seconds: float | None) -> float | None:
    return min((s for s in seconds if s is not None), default=None)


def _discover_size(observed: ArtifactObservation, plan: Plan, extra: dict[str, Any]) -> Component:
    job = observed.size_job
    condition = ConditionType.CHECK_SIZE_OUTPUT_READY
    finished = job_finished(job)
    if job is None:
        plan.apply.append(plan_size_job(observed))
        return Component(condition, LifecycleStatus.PROGRESSING, Reason.CHECKING_SIZE, "Finding the size at the source")
    if finished == JobConditionType.FAILED:
        return Component(condition, LifecycleStatus.FAILED, Reason.CHECK_SIZE_FAILED, "The check-size Job failed")
    if finished != JobConditionType.COMPLETE:
        return Component(condition, LifecycleStatus.PROGRESSING, Reason.CHECKING_SIZE, "Finding the size at the source")
    size = parse_size_output(observed.size_log)
    if size is None:
        last = (observed.size_log.strip().splitlines() or ["nothing"])[-1][:200]
        return Component(
            condition,
            LifecycleStatus.FAILED,
            Reason.INVALID_SIZE_OUTPUT,
            f"The check-size Job printed no valid size: {last}",
        )
    extra["discoveredSizeBytes"] = size
    return Component(condition, LifecycleStatus.READY, Reason.SIZE_DISCOVERED, display_size(size))


# How a failed Job ended (its Failed condition's reason), in upstream's words.
_JOB_FAILURE_REASONS = {
    "BackoffLimitExceeded": Reason.JOB_BACKOFF_LIMIT_EXCEEDED,
    "DeadlineExceeded": Reason.JOB_DEADLINE_EXCEEDED,
}


def download_job_components(observed: ArtifactObservation) -> list[Component]:
    """DownloadJobReady and DownloadJobPodsReady, as upstream reports them while an artifact is not
    Ready. Read from the Job alone (its Failed condition, `active` and `ready` pod counts): the pods
    are not read, so an image that cannot be pulled shows as PodsPending, not by its pull error."""
    job = observed.download_job
    job_ready = ConditionType.DOWNLOAD_JOB_READY
    pods_ready = ConditionType.DOWNLOAD_JOB_PODS_READY
    if job is None:
        return [Component(job_ready, LifecycleStatus.PROGRESSING, Reason.JOB_NOT_FOUND, "Job not found")]
    finished = job_finished(job)
    if finished == JobConditionType.COMPLETE:
        return [Component(job_ready, LifecycleStatus.READY, Reason.JOB_SUCCEEDED, "Job completed")]
    status = job.get("status") or {}
    if finished == JobConditionType.FAILED:
        failed: dict[str, Any] = next(
            (c for c in status.get("conditions") or [] if c.get("type") == JobConditionType.FAILED), {}
        )
        reason = _JOB_FAILURE_REASONS.get(str(failed.get("reason")), Reason.JOB_FAILED)
        pod_reason, pod_message = failure_reason(observed.download_pod)
        return [
            Component(job_ready, LifecycleStatus.FAILED, reason, failed.get("message") or "Job failed"),
            Component(pods_ready, LifecycleStatus.FAILED, pod_reason, pod_message),
        ]
    running = Component(job_ready, LifecycleStatus.PROGRESSING, Reason.JOB_RUNNING, "Job is in progress")
    if int(status.get("ready") or 0) > 0:
        return [running, Component(pods_ready, LifecycleStatus.READY, Reason.PODS_READY, "Pods are running")]
    if int(status.get("active") or 0) > 0 and "ready" in status:
        return [running, Component(pods_ready, LifecycleStatus.PENDING, Reason.PODS_PENDING, "Pods are pending")]
    return [
        running,
        Component(pods_ready, LifecycleStatus.PROGRESSING, Reason.PODS_PROGRESSING, "Pods are progressing"),
    ]


def _download(observed: ArtifactObservation, plan: Plan, extra: dict[str, Any], size: int, pvc_name: str) -> Component:
    previous = observed.artifact.status
    job = observed.download_job
    condition = ConditionType.DOWNLOAD_COMPLETE
    finished = job_finished(job)
    if job is None and previous is not None and previous.status == LifecycleStatus.READY:
        return Component(condition, LifecycleStatus.READY, Reason.VERIFIED, "Downloaded (the Job has been cleaned up)")
    if job is None:  # a Job's template cannot change: it is created once, never re-applied
        plan.apply.append(plan_download_job(observed, size, pvc_name))
    progress = previous.progress if previous is not None else None
    all_bytes_there = ((progress.percentage if progress is not None else None) or 0) >= 100
    if finished == JobConditionType.COMPLETE:
        extra["progress"] = {
            "totalBytes": size,
            "downloadedBytes": size,
            "percentage": 100,
            "displayPercentage": "100 %",
        }
        download = previous.download if previous is not None else None
        extra["download"] = (wire(download) or {}) | {"message": DOWNLOAD_COMPLETE_MESSAGE}
        return Component(condition, LifecycleStatus.READY, Reason.VERIFIED, "Downloaded and verified")
    if finished == JobConditionType.FAILED:
        reason, message = failure_reason(observed.download_pod)
        if all_bytes_there and reason == Reason.POD_FAILED:
            reason = Reason.VERIFICATION_FAILED  # it failed after every byte had arrived
        # A percentage would read as progress towards something that will not come.
        extra["progress"] = (wire(progress) or {}) | {"displayPercentage": NOT_APPLICABLE}
        return Component(condition, LifecycleStatus.FAILED, reason, message)
    if all_bytes_there:
        return Component(
            condition, LifecycleStatus.PROGRESSING, Reason.VERIFYING, "Downloaded; verifying", healthy=True
        )
    return Component(
        condition,
        LifecycleStatus.PROGRESSING,
        Reason.DOWNLOADING,
        f"Downloading {observed.artifact.spec.source_uri}",
    )

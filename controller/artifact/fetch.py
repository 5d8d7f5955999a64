"""Fetch step of the artifact reconciler (edge layer)."""

from __future__ import annotations

from typing import Any

from api import labels
from api.conditions import JobConditionType
from api.naming import adapter_disk_name, name_label_value
from api.stored import read_artifact, read_profile_cache, read_template, read_template_cache
from controller.artifact import adapters
from controller.artifact.observe import ArtifactObservation
from controller.artifact.plan import STATUS_UPDATER, child_name
from controller.artifact.retention import Consumers, QuotaObservation
from controller.common.caching import AnyCache, service_use
from controller.common.jobs import job_finished
from controller.common.runtimeconfig import config_name, resolve_runtime_config
from controller.kube.client import Kube


def _latest_pod(kube: Kube, namespace: str, job_name: str) -> dict[str, Any] | None:
    pods = kube.list("v1", "Pod", namespace, label_selector=f"{labels.JOB_NAME}={job_name}")
    return max(pods, key=lambda p: p["metadata"].get("creationTimestamp") or "", default=None)


def _caches(kube: Kube, namespace: str | None) -> list[AnyCache]:
    template_caches = [read_template_cache(c) for c in kube.list(labels.V1ALPHA1, "AIMTemplateCache", namespace)]
    profile_caches = [read_profile_cache(c) for c in kube.list(labels.V1ALPHA2, "AIMProfileCache", namespace)]
    return [*template_caches, *profile_caches]


def _quota_observation(
    kube: Kube, namespace: str, quota: dict[str, Any], consumers: Consumers
) -> QuotaObservation | None:
    """What a quota counts, None without one. With a cluster limit every namespace's artifacts
    count; otherwise the namespace's (its annotation alone is a limit too)."""
    found = kube.get("v1", "Namespace", namespace)  # a Namespace stays as the API server sent it
    annotation = ((found or {}).get("metadata", {}).get("annotations") or {}).get(labels.ARTIFACT_STORAGE_QUOTA)
    if not quota and annotation is None:
        return None
    if quota.get("clusterLimit"):
        artifacts = [read_artifact(a) for a in kube.list(labels.V1ALPHA1, "AIMArtifact")]
        return QuotaObservation(quota, annotation, artifacts, _caches(kube, None))
    artifacts = [read_artifact(a) for a in kube.list(labels.V1ALPHA1, "AIMArtifact", namespace)]
    return QuotaObservation(quota, annotation, artifacts, consumers.caches)


def fetch_artifact(
    kube: Kube,
    stored: dict[str, Any],
    downloader_image: str,
    pod_annotations: dict[str, str],
    status_role: str,
    reap: tuple[float, float] = (900.0, 1800.0),
) -> ArtifactObservation:
    """`reap`: the adapter reaper's interval and minimum subtree age, in seconds. The services of
    the namespace are read only for the few fields the artifact needs (retention.service_use)."""
    artifact = read_artifact(stored)
    namespace = artifact.namespace
    spec = artifact.spec
    if adapters.is_adapter(artifact):  # lineage only: nothing is downloaded for it
        parent = kube.get(labels.V1ALPHA1, "AIMArtifact", spec.parent_artifact or "", namespace)
        return ArtifactObservation(
            artifact=artifact,
            runtime_config=resolve_runtime_config(spec.runtime_config_name, None, None),
            downloader_image=downloader_image,
            parent=None if parent is None else read_artifact(parent),
        )
    name = config_name(spec.runtime_config_name)
    observed = ArtifactObservation(
        artifact=artifact,
        runtime_config=resolve_runtime_config(
            spec.runtime_config_name,
            kube.get(labels.V1ALPHA1, "AIMRuntimeConfig", name, namespace),
            kube.get(labels.V1ALPHA1, "AIMClusterRuntimeConfig", name),
        ),
        downloader_image=downloader_image,
        pod_annotations=pod_annotations,
        status_role=status_role,
        role_binding=kube.get("rbac.authorization.k8s.io/v1", "RoleBinding", STATUS_UPDATER, namespace),
        pvc=kube.get("v1", "PersistentVolumeClaim", child_name(artifact, "cache"), namespace),
        download_job=kube.get("batch/v1", "Job", child_name(artifact, labels.COMPONENT_DOWNLOAD), namespace),
    )
    template_name = artifact.labels.get(labels.TEMPLATE_NAME)
    if template_name:
        if artifact.labels.get(labels.TEMPLATE_SCOPE) == "Cluster":
            found = kube.get(labels.V1ALPHA1, "AIMClusterServiceTemplate", template_name)
        else:
            found = kube.get(labels.V1ALPHA1, "AIMServiceTemplate", template_name, namespace)
        template = None if found is None else read_template(found)
        observed.node_affinity = template.status.resolved_node_affinity if template and template.status else None
    observed.consumers = Consumers(
        caches=_caches(kube, namespace),
        services=kube.list_read(labels.V1ALPHA2, "AIMService", service_use, namespace),
    )
    if observed.pvc is None:
        observed.quota = _quota_observation(
            kube, namespace, observed.runtime_config.artifact_storage_quota, observed.consumers
        )
    if adapters.has_adapter_disk(artifact) and observed.pvc is not None:
        observed.adapter_reap_interval, observed.adapter_reap_min_age = reap
        observed.adapter_disk = kube.get(
            "v1", "PersistentVolumeClaim", adapter_disk_name(artifact.name, artifact.uid), namespace
        )
        selector = f"{labels.AIM_COMPONENT}={labels.COMPONENT_ADAPTER_REAP}"
        observed.reap_jobs = {
            job["metadata"]["name"]: job
            for job in kube.list("batch/v1", "Job", namespace, label_selector=selector)
            if (job["metadata"].get("labels") or {}).get(labels.CACHE_NAME) == name_label_value(artifact.name)
        }
    if job_finished(observed.download_job) == JobConditionType.FAILED:
        observed.download_pod = _latest_pod(kube, namespace, observed.download_job["metadata"]["name"])  # type: ignore[index]
    if not spec.size and not (artifact.status and artifact.status.discovered_size_bytes):
        observed.size_job = kube.get("batch/v1", "Job", child_name(artifact, labels.COMPONENT_CHECK_SIZE), namespace)
        if job_finished(observed.size_job) == JobConditionType.COMPLETE:
            pod = _latest_pod(kube, namespace, child_name(artifact, labels.COMPONENT_CHECK_SIZE))
            if pod is not None:
                observed.size_log = kube.pod_log_tail(pod["metadata"]["name"], namespace, lines=20)
    return observed

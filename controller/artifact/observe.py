"""What the artifact reconciler observed (pure data filled by controller.artifact.fetch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.v1alpha1.aimartifact import AIMArtifact
from controller.artifact.retention import Consumers, QuotaObservation
from controller.common.runtimeconfig import ResolvedRuntimeConfig


@dataclass
class ArtifactObservation:
    """The artifact and what it references are typed (AIMArtifact, caches, services' uses); the
    objects it applies (RoleBinding, PVCs, Jobs) and the download pod stay as the API server sent
    them: the apply diff compares those wire forms."""

    artifact: AIMArtifact
    """An AIMArtifact (v1alpha1)."""
    runtime_config: ResolvedRuntimeConfig
    downloader_image: str
    """The image to run when the artifact names none of its own (the operator's own image)."""
    pod_annotations: dict[str, str] = field(default_factory=dict)
    status_role: str = "aim-engine-artifact-status-updater"
    """The ClusterRole letting the download pod patch artifact status (installed by the chart)."""
    node_affinity: dict[str, Any] | None = None
    """Where the GPUs that will serve the model are (the creating template's resolved affinity, a
    Kubernetes NodeAffinity as the template's status holds it)."""
    role_binding: dict[str, Any] | None = None
    pvc: dict[str, Any] | None = None
    download_job: dict[str, Any] | None = None
    download_pod: dict[str, Any] | None = None
    """The most recent pod of the download Job (for the failure reason)."""
    size_job: dict[str, Any] | None = None
    size_log: str = ""
    """The check-size Job's log once it completed."""
    consumers: Consumers = field(default_factory=Consumers)
    """The caches and services of the namespace (what uses the artifact)."""
    quota: QuotaObservation | None = None
    """What a storage quota counts; only while the volume does not exist and a quota is configured."""
    parent: AIMArtifact | None = None
    """An adapter's parent artifact (spec.parentArtifact); None when missing."""
    adapter_disk: dict[str, Any] | None = None
    """A model's adapter disk (PVC), once it exists."""
    reap_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """A model's reaper Jobs (of its adapter disk) by name, while they exist."""
    adapter_reap_interval: float = 900.0
    adapter_reap_min_age: float = 1800.0

    def existing(self, kind: str, name: str) -> dict[str, Any] | None:
        for obj in (
            self.role_binding,
            self.pvc,
            self.download_job,
            self.size_job,
            self.adapter_disk,
            *self.reap_jobs.values(),
        ):
            if obj and obj.get("kind") == kind and obj["metadata"]["name"] == name:
                return obj
        return None

"""What the template reconciler observed (pure data filled by controller.template.fetch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.v1alpha1.aimservicetemplate import AIMClusterServiceTemplate, AnyServiceTemplate
from api.v1alpha2.aimmodel import AnyModel
from controller.common.lookup import Found
from controller.common.runtimeconfig import ResolvedRuntimeConfig


@dataclass
class TemplateObservation:
    template: AnyServiceTemplate
    """An AIMServiceTemplate or AIMClusterServiceTemplate (v1alpha1)."""
    runtime_config: ResolvedRuntimeConfig
    model: Found[AnyModel]
    nodes: list[dict[str, Any]] = field(default_factory=list)
    operator_namespace: str = "aim-system"
    pod_annotations: dict[str, str] = field(default_factory=dict)
    """Annotations for the discovery Job's pod (controller setting)."""
    discovery_job: dict[str, Any] | None = None
    """The discovery Job for the current spec, when one exists."""
    active_discoveries: int = 0
    """Discovery Jobs of any template running in the cluster (counted only when this template
    would start one)."""
    discovery_log: str = ""
    """The log of the discovery Job's pod once the Job succeeded."""
    cache: dict[str, Any] | None = None
    """The template-owned AIMTemplateCache (namespaced templates with caching enabled): kept as
    stored, because it is compared with the one the plan applies."""

    @property
    def cluster_scoped(self) -> bool:
        return isinstance(self.template, AIMClusterServiceTemplate)

    @property
    def model_image(self) -> str | None:
        return self.model.obj.spec.image if self.model.obj is not None else None

    def existing(self, kind: str, name: str) -> dict[str, Any] | None:
        for obj in (self.discovery_job, self.cache):
            if obj and obj.get("kind") == kind and obj["metadata"]["name"] == name:
                return obj
        return None

"""What the model reconciler observed (pure data filled by controller.model.fetch)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from api.v1alpha1.aimservicetemplate import AnyServiceTemplate
from api.v1alpha2.aimmodel import AIMClusterModel, AnyModel
from controller.common.retries import IMAGE_RETRY_SECONDS
from controller.common.runtimeconfig import ResolvedRuntimeConfig


@dataclass(frozen=True)
class ImageLookup:
    """The outcome of reading the image's config from its registry."""

    labels: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    error: str = ""
    """"" on success, else one of: unauthorized, not-found, unreachable, invalid."""
    message: str = ""


@dataclass
class ModelObservation:
    model: AnyModel
    """An AIMModel or AIMClusterModel (v1alpha2)."""
    runtime_config: ResolvedRuntimeConfig
    missing_secrets: list[str] = field(default_factory=list)
    """imagePullSecrets that do not exist (in the model's namespace, or the operator's)."""
    lookup: ImageLookup | None = None
    """Set when the registry was asked this time (metadata not known yet)."""
    templates: list[AnyServiceTemplate] = field(default_factory=list)
    """Templates of the model's kind (namespace, or cluster) whose spec.modelName is the model, owned
    by it or not. The plan applies some of them: `existing` hands the apply diff their stored form."""
    official_templates: list[AnyServiceTemplate] = field(default_factory=list)
    """For fine-tuned models: templates with the same spec.aimId not made for fine-tuning."""
    template_owners: dict[str, AnyModel] = field(default_factory=dict)
    """For fine-tuned models: the models owning official templates, by "<kind>/<name>"."""
    retry_seconds: Mapping[str, float] = field(default_factory=lambda: dict(IMAGE_RETRY_SECONDS))
    """When to read the image again after a registry error, by error (settings.image_retry_seconds)."""

    @property
    def cluster_scoped(self) -> bool:
        return isinstance(self.model, AIMClusterModel)

    def existing(self, kind: str, name: str) -> dict[str, Any] | None:
        return next((t.stored for t in self.templates if t.kind == kind and t.name == name), None)

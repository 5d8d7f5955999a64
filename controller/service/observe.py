"""What the AIMService reconciler observed (pure data: the fetch step fills it, the planner reads it).

Lookups that found nothing are data (`Found(None, ...)`), not exceptions: the planner turns them
into conditions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from controller.common.kserve_events import KServeWarning
from controller.common.lookup import Found
from controller.common.runtimeconfig import ResolvedRuntimeConfig
from controller.service.adapters import AdapterInputs
from controller.service.autoscaling import ScalingObservation


@dataclass
class ServiceObservation:
    service: dict[str, Any]
    """The AIMService as read through aim.eai.amd.com/v1alpha2."""
    runtime_config: ResolvedRuntimeConfig
    model: Found[dict[str, Any]] = field(default_factory=lambda: Found(None))
    """By spec.model.name; for spec.model.image the (single) model whose spec.image matches."""
    models_with_image: int = 0
    """How many models carry spec.model.image (more than one is ambiguous)."""
    template: Found[dict[str, Any]] | None = None
    """By spec.template.name, when named."""
    derived_template: Found[dict[str, Any]] | None = None
    """The namespaced copy of the named template with the service's overrides, when overridden."""
    template_candidates: list[dict[str, Any]] = field(default_factory=list)
    """For auto-selection: namespace AIMServiceTemplates and all AIMClusterServiceTemplates."""
    nodes: list[dict[str, Any]] = field(default_factory=list)
    caches: list[dict[str, Any]] = field(default_factory=list)
    """AIMTemplateCaches in the service's namespace."""
    inference_service: dict[str, Any] | None = None
    """The service's InferenceService: the one it owns, under whatever name (see adopt_owned)."""
    predictor_pods: list[dict[str, Any]] | None = None
    """The InferenceService's predictor pods (KServe's `serving.kserve.io/inferenceservice` label);
    None while there is no InferenceService."""
    kv_cache: dict[str, Any] | None = None
    """The AIMKVCache spec.kvCache names (or kvcache-<namespace>); None without one or while missing."""
    kserve_warning: KServeWarning | None = None
    """KServe's latest fatal Warning event on the InferenceService (controller.common.kserve_events)."""
    http_route: dict[str, Any] | None = None
    stale: list[dict[str, Any]] = field(default_factory=list)
    """Other InferenceServices and HTTPRoutes the service owns (duplicates): deleted once its own
    is applied."""
    profile: Found[dict[str, Any]] | None = None
    """By spec.profile.name: an AIMProfile in the namespace, else an AIMClusterProfile."""
    profile_caches: list[dict[str, Any]] = field(default_factory=list)
    """AIMProfileCaches in the service's namespace (profile-based services)."""
    profile_config_map: dict[str, Any] | None = None
    """The ConfigMap holding the service's profile file: its spec.profile's, or its template's
    customProfile's (read only when a template it may deploy has one or its InferenceService
    mounts one)."""
    lmcache_config_map: dict[str, Any] | None = None
    """The service's LMCache ConfigMap (read only once its KV cache is Ready)."""
    adapters: AdapterInputs = field(default_factory=AdapterInputs)
    """The namespace's artifacts and the service's adapter Jobs (read only with adapters)."""
    activator_url: str = ""
    """The aim-activator's base URL (controller settings); empty when none runs."""
    scaling: ScalingObservation | None = None
    """KEDA's ScaledObject and HPA of the service: read when it autoscales or its InferenceService
    says it did (a ScaledObject left after autoscaling is turned off is deleted)."""

    def existing(self, kind: str, name: str) -> dict[str, Any] | None:
        """The observed object a planned one would replace (None when it does not exist yet)."""
        candidates = [
            self.inference_service,
            self.http_route,
            self.derived_template.obj if self.derived_template else None,
            self.model.obj,
            *self.caches,
            *self.profile_caches,
            self.profile_config_map,
            self.lmcache_config_map,
            self.kv_cache,
            self.scaling.scaled_object if self.scaling else None,
        ]
        for obj in candidates:
            if obj and obj.get("kind") == kind and obj["metadata"]["name"] == name:
                return obj
        return None

"""What the AIMService reconciler observed (pure data: the fetch step fills it, the planner reads it).

Lookups that found nothing are data (`Found(None, ...)`), not exceptions: the planner turns them
into conditions. AIM objects are their API models (api.stored); Nodes and the third-party objects
(InferenceService, HTTPRoute, pods, KEDA's, ConfigMaps, Jobs) are dicts as the API server sent them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.v1alpha1.aimkvcache import AIMKVCache
from api.v1alpha1.aimservicetemplate import AnyServiceTemplate
from api.v1alpha1.aimtemplatecache import AIMTemplateCache
from api.v1alpha2.aimmodel import AnyModel
from api.v1alpha2.aimprofile import AnyProfile
from api.v1alpha2.aimprofilecache import AIMProfileCache
from api.v1alpha2.aimservice import AIMService
from controller.common.kserve_events import KServeWarning
from controller.common.lookup import Found
from controller.common.runtimeconfig import ResolvedRuntimeConfig
from controller.service.adapters import AdapterInputs
from controller.service.autoscaling import ScalingObservation


@dataclass
class ServiceObservation:
    service: AIMService
    """The AIMService as read through aim.eai.amd.com/v1alpha2."""
    runtime_config: ResolvedRuntimeConfig
    model: Found[AnyModel] = field(default_factory=lambda: Found(None))
    """By spec.model.name; for spec.model.image the (single) model whose spec.image matches."""
    models_with_image: int = 0
    """How many models carry spec.model.image (more than one is ambiguous)."""
    template: Found[AnyServiceTemplate] | None = None
    """By spec.template.name, when named."""
    derived_template: Found[AnyServiceTemplate] | None = None
    """The namespaced copy of the named template with the service's overrides, when overridden."""
    template_candidates: list[AnyServiceTemplate] = field(default_factory=list)
    """For auto-selection: the namespace's AIMServiceTemplates and all AIMClusterServiceTemplates
    of the service's model."""
    nodes: list[dict[str, Any]] = field(default_factory=list)
    caches: list[AIMTemplateCache] = field(default_factory=list)
    """AIMTemplateCaches in the service's namespace."""
    inference_service: dict[str, Any] | None = None
    """The service's InferenceService: the one it owns, under whatever name (see adopt_owned)."""
    predictor_pods: list[dict[str, Any]] | None = None
    """The InferenceService's predictor pods (KServe's `serving.kserve.io/inferenceservice` label);
    None while there is no InferenceService."""
    kv_cache: AIMKVCache | None = None
    """The AIMKVCache spec.kvCache names (or kvcache-<namespace>); None without one or while missing."""
    kserve_warning: KServeWarning | None = None
    """KServe's latest fatal Warning event on the InferenceService (controller.common.kserve_events)."""
    http_route: dict[str, Any] | None = None
    stale: list[dict[str, Any]] = field(default_factory=list)
    """Other InferenceServices and HTTPRoutes the service owns (duplicates): deleted once its own
    is applied."""
    profile: Found[AnyProfile] | None = None
    """By spec.profile.name: an AIMProfile in the namespace, else an AIMClusterProfile."""
    profile_caches: list[AIMProfileCache] = field(default_factory=list)
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
        """The observed object a planned one would replace (None when it does not exist yet), as
        the API server sent it: the apply diff compares wire forms."""
        derived = self.derived_template.obj if self.derived_template else None
        candidates = [
            self.inference_service,
            self.http_route,
            derived.stored if derived is not None else None,
            self.model.obj.stored if self.model.obj is not None else None,
            *(cache.stored for cache in self.caches),
            *(cache.stored for cache in self.profile_caches),
            self.profile_config_map,
            self.lmcache_config_map,
            self.kv_cache.stored if self.kv_cache is not None else None,
            self.scaling.scaled_object if self.scaling else None,
        ]
        for obj in candidates:
            if obj and obj.get("kind") == kind and obj["metadata"]["name"] == name:
                return obj
        return None

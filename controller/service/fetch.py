"""Fetch step of the AIMService reconciler: read everything the planner needs (edge layer).

Namespace first, then cluster, for profiles, models, templates and runtime configs. Missing objects are
recorded as data; API errors propagate and are retried by the work queue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from api import labels
from api.conditions import ConditionType
from api.naming import (
    NameTooLongError,
    http_route_name,
    inference_service_name,
    lmcache_config_map_name,
    predictor_name,
    rfc1123,
)
from api.objects import ObjectRoot
from api.stored import (
    read_artifact,
    read_kv_cache,
    read_model,
    read_profile,
    read_profile_cache,
    read_service,
    read_template,
    read_template_cache,
)
from api.v1alpha1.common import LifecycleStatus
from api.v1alpha2.aimmodel import AnyModel
from api.v1alpha2.aimservice import AIMService
from controller.common.kserve_events import KServeWarnings
from controller.common.lookup import CLUSTER, NAMESPACE, Found
from controller.common.runtimeconfig import config_name, resolve_runtime_config
from controller.common.selection import Overrides
from controller.kube.client import Kube
from controller.pipeline.plan import owned_by
from controller.service.adapters import ADAPTER_JOB_COMPONENTS, AdapterInputs, adapters_active
from controller.service.autoscaling import (
    HPA,
    HPA_API,
    SCALED_OBJECT,
    SCALED_OBJECT_CRD,
    ScalingObservation,
    autoscaling,
    hpa_name,
)
from controller.service.cleanup import CleanupObservation
from controller.service.common import adopt_owned, predictor_volume
from controller.service.derived import derived_template_name
from controller.service.kvcache import kv_cache_name
from controller.service.observe import ServiceObservation
from controller.service.plan import custom_model_name
from controller.service.pods import served_by_kserve
from controller.service.profile import CUSTOM_PROFILE_VOLUME, custom_profile_config_map_name, profile_config_map_name

Typed = TypeVar("Typed", bound=ObjectRoot)


def _first(
    kube: Kube,
    namespaced: tuple[str, str],
    cluster: tuple[str, str],
    name: str,
    namespace: str,
    read: Callable[[Mapping[str, Any]], Typed],
) -> Found[Typed]:
    obj = kube.get(*namespaced, name, namespace)
    if obj is not None:
        return Found(read(obj), NAMESPACE)
    obj = kube.get(*cluster, name)
    return Found(read(obj), CLUSTER) if obj is not None else Found(None)


def _spec_field(stored: Mapping[str, Any], key: str) -> Any:
    """One field of a listed object's spec, read before the object is: a list is narrowed to the
    objects the service can use, so only those are parsed (a namespace's and the cluster's
    templates or models may be many) and only those can fail its fetch."""
    return (stored.get("spec") or {}).get(key)


def fetch_service(
    kube: Kube,
    stored: dict[str, Any],
    kserve_warnings: KServeWarnings | None = None,
    job_image: str = "",
    activator_url: str = "",
) -> ServiceObservation:
    service = read_service(stored)
    namespace = service.namespace
    spec = service.spec
    config = config_name(spec.runtime_config_name)
    runtime_config = resolve_runtime_config(
        spec.runtime_config_name,
        kube.get(labels.V1ALPHA1, "AIMRuntimeConfig", config, namespace),
        kube.get(labels.V1ALPHA1, "AIMClusterRuntimeConfig", config),
    )
    observed = ServiceObservation(service=service, runtime_config=runtime_config, activator_url=activator_url)
    profile = spec.profile
    if profile is not None:
        observed.profile = _first(
            kube,
            (labels.V1ALPHA2, "AIMProfile"),
            (labels.V1ALPHA2, "AIMClusterProfile"),
            profile.name,
            namespace,
            read_profile,
        )
        caches = kube.list(labels.V1ALPHA2, "AIMProfileCache", namespace)
        observed.profile_caches = [read_profile_cache(c) for c in caches]
        observed.profile_config_map = kube.get("v1", "ConfigMap", profile_config_map_name(service.name), namespace)
    else:
        _fetch_model_and_template(kube, observed, namespace)
    kv_cache = kv_cache_name(service)
    if kv_cache is not None:
        found = kube.get(labels.V1ALPHA1, "AIMKVCache", kv_cache, namespace)
        observed.kv_cache = read_kv_cache(found) if found is not None else None
        status = observed.kv_cache.status if observed.kv_cache is not None else None
        if status is not None and status.status == LifecycleStatus.READY:
            name = lmcache_config_map_name(service.name, namespace)
            observed.lmcache_config_map = kube.get("v1", "ConfigMap", name, namespace)
    if adapters_active(service):
        artifacts = [read_artifact(a) for a in kube.list(labels.V1ALPHA1, "AIMArtifact", namespace)]
        observed.adapters = AdapterInputs(
            artifacts={a.name: a for a in artifacts},
            jobs={
                j["metadata"]["name"]: j
                for j in _owned(kube, "batch/v1", "Job", service)
                if (j["metadata"].get("labels") or {}).get(labels.COMPONENT) in ADAPTER_JOB_COMPONENTS
            },
            image=job_image,
            runtime_env=list(runtime_config.typed_spec.env or []),
        )
    try:
        isvc_name = inference_service_name(service.name, namespace)
    except NameTooLongError:
        isvc_name = ""
    observed.inference_service, stale_isvcs = adopt_owned(
        _owned(kube, labels.INFERENCE_SERVICE_API, "InferenceService", service), isvc_name
    )
    isvc = observed.inference_service
    if isvc is not None and kserve_warnings is not None:
        observed.kserve_warning = kserve_warnings.get(namespace, isvc["metadata"]["name"])
    if isvc is not None and served_by_kserve(isvc):
        # KServe copies the InferenceService's labels (managed-by among them) to its pods.
        managed = f"{labels.MANAGED_BY}={labels.MANAGED_BY_VALUE}"
        selector = f"{managed},{labels.KSERVE_INFERENCE_SERVICE}={isvc['metadata']['name']}"
        observed.predictor_pods = kube.list("v1", "Pod", namespace, label_selector=selector)
    if isvc_name and (autoscaling(spec) or _autoscaled(isvc) or _reported_scaling(service)):
        observed.scaling = _fetch_scaling(kube, isvc["metadata"]["name"] if isvc else isvc_name, namespace)
    route_name = http_route_name(service.name, namespace)
    observed.http_route, stale_routes = adopt_owned(
        _owned(kube, labels.HTTP_ROUTE_API, "HTTPRoute", service), route_name
    )
    observed.stale = stale_isvcs + stale_routes
    if profile is None and _may_have_custom_profile(observed):
        observed.profile_config_map = kube.get(
            "v1", "ConfigMap", custom_profile_config_map_name(service.name), namespace
        )
    return observed


def _reported_scaling(service: AIMService) -> bool:
    """The service's status still reports HPAReady: the reconcile that turned autoscaling off has
    not finished (a failed delete of the ScaledObject), so it is looked at again."""
    conditions = (service.status.conditions if service.status is not None else None) or []
    return any(c.type == ConditionType.HPA_READY for c in conditions)


def _autoscaled(inference_service: dict[str, Any] | None) -> bool:
    annotations = ((inference_service or {}).get("metadata") or {}).get("annotations") or {}
    return annotations.get(labels.AUTOSCALER_CLASS) == labels.AUTOSCALER_CLASS_EXTERNAL


def _fetch_scaling(kube: Kube, isvc_name: str, namespace: str) -> ScalingObservation:
    """The ScaledObject and KEDA's HPA; whether KEDA's CRD is there (without it nothing scales)."""
    installed = kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", SCALED_OBJECT_CRD) is not None
    if not installed:
        return ScalingObservation(keda_installed=False)
    return ScalingObservation(
        keda_installed=True,
        scaled_object=kube.get(labels.SCALED_OBJECT_API, SCALED_OBJECT, predictor_name(isvc_name), namespace),
        hpa=kube.get(HPA_API, HPA, hpa_name(isvc_name), namespace),
    )


def _may_have_custom_profile(observed: ServiceObservation) -> bool:
    """Whether the service may deploy a template's customProfile or did: a template it may deploy
    carries one, or its InferenceService mounts one. Services without custom profiles read no
    ConfigMap (ConfigMaps are not kept in memory)."""
    model = observed.model.obj.name if observed.model.obj is not None else None
    templates = [found.obj for found in (observed.template, observed.derived_template) if found and found.obj]
    templates += [t for t in observed.template_candidates if t.spec.model_name == model]
    if any(t.spec.custom_profile is not None for t in templates):
        return True
    return bool(predictor_volume(observed.inference_service, CUSTOM_PROFILE_VOLUME))


def _owned(kube: Kube, api_version: str, kind: str, service: AIMService) -> list[dict[str, Any]]:
    """The service's children of `kind`: labelled with it (as this project and upstream label
    them) and owned by it."""
    # managed-by as the children's watch filters on it: the list is then served from memory.
    selector = f"{labels.MANAGED_BY}={labels.MANAGED_BY_VALUE},{labels.SERVICE}={rfc1123(service.name)}"
    children = kube.list(api_version, kind, service.namespace, label_selector=selector)
    return [child for child in children if owned_by(child, service.uid)]


def _fetch_model_and_template(kube: Kube, observed: ServiceObservation, namespace: str) -> None:
    spec = observed.service.spec
    model_spec = spec.model
    if model_spec is not None and model_spec.name:
        observed.model = _first(
            kube,
            (labels.V1ALPHA2, "AIMModel"),
            (labels.V1ALPHA2, "AIMClusterModel"),
            model_spec.name,
            namespace,
            read_model,
        )
    elif model_spec is not None and model_spec.image:
        image = model_spec.image
        in_namespace: list[Found[AnyModel]] = [
            Found(read_model(m), NAMESPACE)
            for m in kube.list(labels.V1ALPHA2, "AIMModel", namespace)
            if _spec_field(m, "image") == image
        ]
        in_cluster: list[Found[AnyModel]] = [
            Found(read_model(m), CLUSTER)
            for m in kube.list(labels.V1ALPHA2, "AIMClusterModel")
            if _spec_field(m, "image") == image
        ]
        matches = in_namespace + in_cluster
        observed.models_with_image = len(matches)
        if len(matches) == 1:
            observed.model = matches[0]
    elif model_spec is not None and model_spec.custom is not None:
        found = kube.get(labels.V1ALPHA2, "AIMModel", custom_model_name(model_spec.custom), namespace)
        observed.model = Found(read_model(found), NAMESPACE) if found is not None else Found(None)
    template_name = spec.template.name if spec.template is not None else None
    if template_name:
        observed.template = _first(
            kube,
            (labels.V1ALPHA1, "AIMServiceTemplate"),
            (labels.V1ALPHA1, "AIMClusterServiceTemplate"),
            template_name,
            namespace,
            read_template,
        )
        overrides = Overrides.from_service_spec(spec)
        if overrides.any():
            derived = kube.get(
                labels.V1ALPHA1, "AIMServiceTemplate", derived_template_name(template_name, overrides), namespace
            )
            observed.derived_template = Found(read_template(derived) if derived is not None else None, NAMESPACE)
    elif observed.model.obj is not None:
        model_name = observed.model.obj.name
        listed = kube.list(labels.V1ALPHA1, "AIMServiceTemplate", namespace) + kube.list(
            labels.V1ALPHA1, "AIMClusterServiceTemplate"
        )
        observed.template_candidates = [read_template(t) for t in listed if _spec_field(t, "modelName") == model_name]
        observed.nodes = kube.list("v1", "Node")
    observed.caches = [read_template_cache(c) for c in kube.list(labels.V1ALPHA1, "AIMTemplateCache", namespace)]


def fetch_service_cleanup(kube: Kube, service: dict[str, Any]) -> CleanupObservation:
    """What deleting `service` may leave behind: its namespace's caches and services (nothing is
    read while the namespace itself is deleted: everything goes with it). Read as stored, not as
    API models: a deletion never waits on an object the model refuses (controller.service.cleanup)."""
    namespace = service["metadata"]["namespace"]
    if kube.namespace_terminating(namespace):
        return CleanupObservation(service, namespace_terminating=True)
    return CleanupObservation(
        service,
        namespace_terminating=False,
        template_caches=kube.list(labels.V1ALPHA1, "AIMTemplateCache", namespace),
        profile_caches=kube.list(labels.V1ALPHA2, "AIMProfileCache", namespace),
        services=kube.list(labels.V1ALPHA2, "AIMService", namespace),
    )

"""AIMService: observed objects in, desired objects, status and events out (pure; no client calls).

The pipeline follows upstream's Fetch → Compose → Plan → Apply → Status: each dependency becomes a
component with a state; the worst state decides `status.status`; desired children are planned only
when their inputs are usable. Once an InferenceService exists it keeps being updated even while a
dependency is transiently unhealthy, so replica and env changes still propagate.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from api import labels, naming
from api.conditions import ConditionType, HTTPRouteConditionType, Reason
from api.naming import NameTooLongError, http_route_name, inference_service_name, predictor_name, rfc1123
from api.objects import wire
from api.routing import RouteTemplateError, default_route_path, render_route_path
from api.v1alpha1.aimservice import ServiceStatusValue
from api.v1alpha1.aimservicetemplate import (
    AIMClusterServiceTemplate,
    AIMServiceTemplate,
    AnyServiceTemplate,
    ProfileMetadata,
)
from api.v1alpha1.common import LifecycleStatus, RoutingConfig
from api.v1alpha2.aimmodel import AnyModel
from api.v1alpha2.aimservice import AIMService, CustomModel
from api.v1alpha2.common import CacheMode, ServiceRouting
from controller.common.gpus import cluster_gpu_models, device_ids_for
from controller.common.kserve_events import KServeWarning
from controller.common.lookup import CLUSTER, NAMESPACE, Found
from controller.common.merge import gpu_default_resources, merge_env_layers, merge_resources
from controller.common.selection import Overrides, select_template, template_gpu
from controller.pipeline.components import Component, overall_state, ready_condition
from controller.pipeline.conditions import FALSE, TRUE, Condition, condition_of, is_true, merge_conditions
from controller.pipeline.objects import child_labels, managed, manifest, with_present
from controller.pipeline.plan import Event, ObjectRef, Plan, object_ref, owned_by, owner_reference
from controller.service.adapters import adapters_active, mount_adapters, plan_adapters
from controller.service.adapters import should_mount as adapter_claim
from controller.service.autoscaling import (
    PREDICTOR_PORT,
    ScalingObservation,
    autoscaling,
    plan_scaled_object,
    runtime_status,
    scaled_to_zero,
    scaling_component,
)
from controller.service.common import (
    ModelCache,
    Resolution,
    mount_cache,
    plain,
    plan_workload,
    reference,
    serving_container,
    source_model_ids,
    use_cache,
)
from controller.service.derived import overrides_differ, plan_derived_template
from controller.service.kvcache import lmcache_volume, mount_lmcache, plan_kv_cache_use
from controller.service.observe import ServiceObservation
from controller.service.pods import observed_replicas, pods_component, ready_pods
from controller.service.profile import (
    CUSTOM_PROFILE_VOLUME,
    custom_profile_id,
    mount_profile,
    plan_template_profile_config_map,
    resolve_profile,
)

OPERATOR_ENV = [
    {"name": "AIM_CACHE_PATH", "value": "/workspace/cache"},
    {"name": "VLLM_ENABLE_METRICS", "value": "true"},
]
PREDICTOR_SERVICE_PORT = PREDICTOR_PORT

# Worst first: the first component in one of these states decides the service's status.


def plan_service(observed: ServiceObservation, now: str) -> Plan:
    service = observed.service
    spec = service.spec
    # The status as stored: conditions are merged field by field and transitions compared with it.
    previous_status = service.stored.get("status") or {}
    plan = Plan()
    components: list[Component] = []
    status: dict[str, Any] = {}

    config = observed.runtime_config
    if config.missing:
        components.append(
            Component(
                ConditionType.RUNTIME_CONFIG_READY,
                ServiceStatusValue.FAILED,
                Reason.CONFIG_NOT_FOUND,
                f"spec.runtimeConfigName: no AIMRuntimeConfig or AIMClusterRuntimeConfig named {config.name!r}",
            )
        )
    else:
        found = bool(config.scope)
        components.append(
            Component(
                ConditionType.RUNTIME_CONFIG_READY,
                ServiceStatusValue.RUNNING,
                Reason.CONFIG_FOUND if found else Reason.DEFAULT_CONFIG_NOT_FOUND,
                f"runtime config {config.name!r} ({config.scope})"
                if found
                else "no default runtime config; none needed",
            )
        )
        if found:
            status["resolvedRuntimeConfig"] = {"name": config.name, "scope": config.scope}

    resolution = resolve_profile(observed) if spec.profile is not None else _resolve_model_and_template(observed)
    components += resolution.components
    status |= resolution.status
    plan.apply += resolution.apply
    plan.delete += resolution.delete

    kv_cache = plan_kv_cache_use(service, observed.kv_cache)
    if kv_cache is not None:
        components.append(kv_cache.component)
        status |= kv_cache.status
        plan.apply += kv_cache.apply

    adapters = (
        plan_adapters(service, resolution.sources_of, resolution.cache, observed.adapters)
        if adapters_active(service)
        else None
    )
    if adapters is not None:
        components.append(adapters.component)
        status |= adapters.status
        plan.apply += adapters.apply
        plan.delete += adapters.delete

    blocking = [c for c in components if c.state != ServiceStatusValue.RUNNING]
    inference_service = None
    isvc_name = ""
    try:
        isvc_name = inference_service_name(service.name, service.namespace)
        if observed.inference_service is not None:  # adopted under the name it has
            isvc_name = observed.inference_service["metadata"]["name"]
    except NameTooLongError as error:
        components.append(
            Component(
                ConditionType.INFERENCE_SERVICE_READY, ServiceStatusValue.FAILED, Reason.NAME_TOO_LONG, str(error)
            )
        )
        blocking.append(components[-1])
    if resolution.build is not None and isvc_name and (not blocking or observed.inference_service is not None):
        inference_service = resolution.build(isvc_name)
        lmcache = (kv_cache.config_map or lmcache_volume(observed.inference_service)) if kv_cache else None
        if lmcache:
            mount_lmcache(inference_service, lmcache)
        claim = adapter_claim(service, adapters, observed.inference_service)
        if claim:
            mount_adapters(inference_service, service, claim)
        plan.apply.append(inference_service)
        plan.delete += [object_ref(stale) for stale in observed.stale]
    if isvc_name and not any(c.condition == ConditionType.INFERENCE_SERVICE_READY for c in components):
        components.append(
            inference_service_component(
                observed.inference_service,
                inference_service is not None,
                blocking,
                resolution.waiting_for,
                observed.kserve_warning,
                # Only an autoscaled service is "scaling": a fixed one with a pod stuck in a rollout
                # must not read Running.
                ready_pods(observed.predictor_pods) if autoscaling(spec) else 0,
            )
        )
    scaling = observed.scaling or ScalingObservation(keda_installed=True)
    idle = autoscaling(spec) and scaled_to_zero(spec, scaling)
    pods = (
        pods_component(observed.inference_service, observed.predictor_pods, scaled_to_zero=idle)
        if inference_service
        else None
    )
    if pods is not None:
        components.append(pods)  # pods are watched: a change of theirs brings the service back
    if inference_service is not None:
        _plan_scaling(observed, inference_service["metadata"]["name"], plan, components)

    route_component, route = _plan_route(observed, isvc_name)
    if route_component is not None:
        components.append(route_component)
        status["routing"] = {"path": route["spec"]["rules"][0]["matches"][0]["path"]["value"]} if route else {}
    if route is not None and inference_service is not None:
        plan.apply.append(route)

    status["status"] = overall_state(components, ServiceStatusValue.RUNNING)
    if inference_service is not None:
        status["runtime"] = runtime_status(spec, observed_replicas(observed.predictor_pods), observed.scaling)
    conditions = [c.as_condition() for c in components]
    conditions.append(ready_condition(components, ServiceStatusValue.RUNNING, "the service is serving"))
    conditions.append(_config_valid(components))
    generation = service.metadata.get("generation")
    status["conditions"] = merge_conditions(previous_status.get("conditions"), conditions, generation, now)
    status["observedGeneration"] = generation
    plan.status = status
    plan.events = _transition_events(previous_status, status, components)
    return plan


def _resolve_model_and_template(observed: ServiceObservation) -> Resolution:
    """The model, the template to deploy it with, and the template's cache."""
    resolution = Resolution()
    model, model_component, model_to_create = _resolve_model(observed)
    resolution.components.append(model_component)
    if model_to_create is not None:
        resolution.apply.append(model_to_create)
    if model is not None and model_component.state == ServiceStatusValue.RUNNING:
        resolution.status["resolvedModel"] = reference(model, observed.model.scope)

    template: AnyServiceTemplate | None = None
    if model is not None:
        template, template_component, derived = _resolve_template(observed, model)
        if derived is not None:
            resolution.apply.append(derived)
        resolution.components.append(template_component)
        if template is not None and template_component.state == ServiceStatusValue.RUNNING:
            resolution.status["resolvedTemplate"] = reference(
                template, CLUSTER if isinstance(template, AIMClusterServiceTemplate) else NAMESPACE
            )
    else:
        resolution.components.append(
            Component(
                ConditionType.TEMPLATE_READY,
                ServiceStatusValue.PENDING,
                Reason.TEMPLATE_NOT_FOUND,
                "waiting for the model",
            )
        )

    cache: ModelCache | None = None
    if template is not None and resolution.status.get("resolvedTemplate"):
        cache_component, cache, cache_to_create = _resolve_cache(observed, template)
        if cache_component is not None:
            resolution.components.append(cache_component)
        if cache_to_create is not None:
            resolution.apply.append(cache_to_create)
        if cache is not None:
            resolution.status["cache"] = {"templateCacheRef": {"name": cache.name, "kind": "AIMTemplateCache"}}
    if model is not None and template is not None:
        _plan_custom_profile(observed, template, resolution)
        resolution.build = partial(_template_inference_service, observed, model, template, cache)
    if resolution.status.get("resolvedTemplate"):
        resolution.sources_of, resolution.cache = template, cache
    return resolution


def _plan_custom_profile(observed: ServiceObservation, template: AnyServiceTemplate, resolution: Resolution) -> None:
    """The ConfigMap with the deployed template's customProfile file; without one, the ConfigMap an
    earlier template's profile left (the InferenceService planned with it no longer mounts it)."""
    config_map = plan_template_profile_config_map(observed.service, template)
    if config_map is not None:
        resolution.apply.append(config_map)
        return
    left = observed.profile_config_map
    if left is not None and owned_by(left, observed.service.uid):
        resolution.delete.append(ObjectRef("v1", "ConfigMap", left["metadata"]["name"], left["metadata"]["namespace"]))


def _template_inference_service(
    observed: ServiceObservation,
    model: AnyModel,
    template: AnyServiceTemplate,
    cache: ModelCache | None,
    name: str,
) -> dict[str, Any]:
    inference_service = plan_inference_service(observed, model, template, name)
    mount_cache(inference_service, cache, observed.inference_service)
    return inference_service


# -- model ---------------------------------------------------------------------------------------


def _resolve_model(
    observed: ServiceObservation,
) -> tuple[AnyModel | None, Component, dict[str, Any] | None]:
    model_spec = observed.service.spec.model
    image = model_spec.image if model_spec is not None else None
    custom = model_spec.custom if model_spec is not None else None
    condition = ConditionType.MODEL_READY
    if image and observed.model.obj is None:
        if observed.models_with_image > 1:
            message = f"spec.model.image: {observed.models_with_image} models use image {image}; name one"
            return None, Component(condition, ServiceStatusValue.FAILED, Reason.MODEL_NOT_FOUND, message), None
        try:
            created = plan_model_for_image(observed.service, image)
        except ValueError as error:
            return (
                None,
                Component(condition, ServiceStatusValue.FAILED, Reason.INVALID_IMAGE_REFERENCE, str(error)),
                None,
            )
        message = f"creating AIMModel {created['metadata']['name']} for image {image}"
        return None, Component(condition, ServiceStatusValue.PENDING, Reason.CREATING_MODEL, message), created
    if custom is not None and observed.model.obj is None:
        created = plan_custom_model(observed.service, custom)
        source = custom.model_sources[0].source_uri
        message = f"creating custom AIMModel {created['metadata']['name']} from {source}"
        return None, Component(condition, ServiceStatusValue.PENDING, Reason.CREATING_MODEL, message), created
    if observed.model.obj is None:
        name = (model_spec.name if model_spec is not None else None) or ""
        message = f"spec.model.name: no AIMModel or AIMClusterModel named {name!r}"
        return None, Component(condition, ServiceStatusValue.FAILED, Reason.MODEL_NOT_FOUND, message), None
    failing = (LifecycleStatus.FAILED, LifecycleStatus.DEGRADED)
    component = _dependency(condition, observed.model, "model", Reason.MODEL_RESOLVED, Reason.MODEL_NOT_READY, failing)
    return observed.model.obj, component, None


def _dependency(
    condition: str,
    found: Found[AnyModel] | Found[AnyServiceTemplate],
    noun: str,
    resolved: Reason,
    not_ready: Reason,
    failing: tuple[str, ...],
) -> Component:
    """A dependency the service found (its model or template): Running once it is Ready, Failed
    while in one of the `failing` states, Pending otherwise."""
    status = found.obj.status if found.obj is not None else None
    state = status.status if status is not None else LifecycleStatus.PENDING
    described = f"{found.scope.lower()} {noun} {found.name}"
    if state == LifecycleStatus.READY:
        return Component(condition, ServiceStatusValue.RUNNING, resolved, f"{described} is Ready")
    health = ServiceStatusValue.FAILED if state in failing else ServiceStatusValue.PENDING
    return Component(condition, health, not_ready, f"{described} is {state}")


_IMAGE = re.compile(
    r"^(?:(?P<registry>[^/]+\.[^/]+|[^/]+:\d+|localhost)/)?(?P<path>[a-z0-9._/-]+?)(?::(?P<tag>[\w.-]+))?(?:@.+)?$"
)


def plan_model_for_image(service: AIMService, image: str) -> dict[str, Any]:
    """A namespaced AIMModel for `spec.model.image` (`image`), shared (no owner): other services
    using the same image find and reuse it."""
    match = _IMAGE.match(image)
    if match is None:
        raise ValueError(f"spec.model.image: {image!r} is not an image reference")
    image_name = match.group("path").rsplit("/", 1)[-1]
    tag = match.group("tag") or "latest"
    name = naming.image_model_name(image_name, tag, image)
    return _auto_model(service, name, {"image": image})


def _auto_model(
    service: AIMService, name: str, model_spec: dict[str, Any], with_env: bool = False, **extra_labels: str
) -> dict[str, Any]:
    """A namespaced AIMModel created for a service, not owned by it (other services share it). It
    inherits the service's runtime config, pull secrets and service account, and with `with_env`
    its env (those that are set)."""
    spec = service.spec
    model_spec = with_present(
        model_spec,
        env=wire(spec.env) if with_env else None,
        runtimeConfigName=spec.runtime_config_name,
        imagePullSecrets=wire(spec.image_pull_secrets),
        serviceAccountName=spec.service_account_name,
    )
    origin = {labels.ORIGIN: labels.ORIGIN_AUTO_GENERATED} | extra_labels
    namespace = service.namespace
    return manifest(
        labels.V1ALPHA2,
        "AIMModel",
        name,
        namespace,
        object_labels=child_labels(service, managed(origin)),
        spec=model_spec,
    )


def custom_model_name(custom: CustomModel) -> str:
    """Identical inline custom models (same base image and sources, including the S3 endpoint)
    from any number of services share one AIMModel: the name is a hash of that identity (of the
    sources in their wire form)."""
    return naming.custom_model_name(custom.base_image, wire(custom.model_sources))


def plan_custom_model(service: AIMService, custom: CustomModel) -> dict[str, Any]:
    """The AIMModel of the service's `spec.model.custom`."""
    model_spec = {
        "image": custom.base_image,
        "modelSources": wire(custom.model_sources),
        "custom": {"hardware": wire(custom.hardware)},
    }
    # Upstream labels the model with the first service that made it (aim.eai.amd.com/service).
    extra = {labels.CUSTOM_MODEL: "true", labels.SERVICE: rfc1123(service.name)}
    return _auto_model(service, custom_model_name(custom), model_spec, with_env=True, **extra)


# -- template ------------------------------------------------------------------------------------


def _resolve_template(
    observed: ServiceObservation, model: AnyModel
) -> tuple[AnyServiceTemplate | None, Component, dict[str, Any] | None]:
    """The template to deploy, its component, and a derived template to apply (or None)."""
    spec = observed.service.spec
    selector = spec.template
    condition = ConditionType.TEMPLATE_READY
    if selector is not None and selector.name:
        found = observed.template
        if found is None or found.obj is None:
            message = f"spec.template.name: no AIMServiceTemplate or AIMClusterServiceTemplate named {selector.name!r}"
            return None, Component(condition, ServiceStatusValue.FAILED, Reason.TEMPLATE_NOT_FOUND, message), None
        overrides = Overrides.from_service_spec(spec)
        derived = None
        if overrides.any() and overrides_differ(found.obj, overrides):
            derived = plan_derived_template(
                observed.service, found.obj, model.name, overrides, owner_reference(observed.service)
            )
            existing = observed.derived_template.obj if observed.derived_template else None
            if existing is None:
                message = (
                    f"creating template {derived['metadata']['name']} from {found.name} with the service's overrides"
                )
                return (
                    None,
                    Component(condition, ServiceStatusValue.PENDING, Reason.TEMPLATE_NOT_READY, message),
                    derived,
                )
            found = Found(existing, NAMESPACE)
        failing = (LifecycleStatus.FAILED, LifecycleStatus.DEGRADED, LifecycleStatus.NOT_AVAILABLE)
        component = _dependency(condition, found, "template", Reason.RESOLVED, Reason.TEMPLATE_NOT_READY, failing)
        ready = component.state == ServiceStatusValue.RUNNING
        return (found.obj if ready else None), component, derived
    gpus = set(cluster_gpu_models(observed.nodes))
    selection = select_template(
        observed.template_candidates,
        model.name,
        bool(selector is not None and selector.allow_unoptimized),
        Overrides.from_service_spec(spec),
        gpus,
    )
    if selection.template is None:
        # Nothing usable yet is Pending (templates may become Ready, GPUs may be added); ambiguity
        # needs the user, so it fails.
        ambiguous = selection.reason == Reason.TEMPLATE_SELECTION_AMBIGUOUS
        state = ServiceStatusValue.FAILED if ambiguous else ServiceStatusValue.PENDING
        return None, Component(condition, state, selection.reason, selection.message), None
    return (
        selection.template,
        Component(condition, ServiceStatusValue.RUNNING, Reason.RESOLVED, selection.message),
        None,
    )


# -- cache ---------------------------------------------------------------------------------------


def cache_mode(service: AIMService) -> str:
    caching = service.spec.caching
    return "Dedicated" if caching is not None and caching.mode == CacheMode.DEDICATED else "Shared"


def template_cache_name(template: AnyServiceTemplate, service: AIMService) -> str:
    dedicated = cache_mode(service) == "Dedicated"
    return naming.template_cache_name(template.name, service.name, service.namespace, service.uid, dedicated)


def _resolve_cache(
    observed: ServiceObservation, template: AnyServiceTemplate
) -> tuple[Component | None, ModelCache | None, dict[str, Any] | None]:
    """(CacheReady component, the cache in use, a cache to create). Nothing to cache without
    model sources: such a template's runtime downloads by itself."""
    service = observed.service
    if not (template.status is not None and template.status.model_sources):
        return None, None, None
    mode = cache_mode(service)
    scope = CLUSTER if isinstance(template, AIMClusterServiceTemplate) else NAMESPACE
    name = template_cache_name(template, service)
    usable: list[ModelCache]
    if mode == "Dedicated":
        usable = [c for c in observed.caches if c.name == name and owned_by(c, service.uid)]
    else:
        usable = [
            c
            for c in observed.caches
            if c.spec.template_name == template.name and c.spec.template_scope == scope and c.spec.mode == "Shared"
        ]
    storage_class = observed.runtime_config.storage_class
    return use_cache(
        usable,
        observed.inference_service,
        "template cache",
        lambda: plan_template_cache(service, template, name, mode, scope, storage_class),
        shared=mode == "Shared",
    )


def plan_template_cache(
    service: AIMService, template: AnyServiceTemplate, name: str, mode: str, scope: str, config_storage: str | None
) -> dict[str, Any]:
    spec = service.spec
    template_caching = template.spec.caching if isinstance(template, AIMServiceTemplate) else None
    env = merge_env_layers(
        [
            template.spec.env,
            template_caching.env if template_caching is not None else None,
            spec.caching.env if spec.caching is not None else None,
            spec.env,
        ],
        by_name=False,
    )
    cache_spec = with_present(
        {"templateName": template.name, "templateScope": scope, "mode": mode},
        storageClassName=(spec.storage.default_storage_class_name if spec.storage is not None else None)
        or config_storage,
        runtimeConfigName=spec.runtime_config_name,
        env=env,
    )
    return manifest(
        labels.V1ALPHA1,
        "AIMTemplateCache",
        name,
        service.namespace,
        object_labels=child_labels(service, managed({labels.SERVICE: rfc1123(service.name)})),
        owner=service if mode == "Dedicated" else None,
        spec=cache_spec,
    )


# -- InferenceService ----------------------------------------------------------------------------


def _plan_scaling(observed: ServiceObservation, isvc_name: str, plan: Plan, components: list[Component]) -> None:
    """The ScaledObject and HPAReady of an autoscaled service; a ScaledObject it owns but no longer
    wants (autoscaling turned off) is deleted."""
    service = observed.service
    spec = service.spec
    scaling = observed.scaling
    existing = scaling.scaled_object if scaling else None
    if not autoscaling(spec):
        if existing is not None and owned_by(existing, service.uid):
            plan.delete.append(object_ref(existing))
        return
    scaling = scaling or ScalingObservation(keda_installed=True)
    scaled_object = plan_scaled_object(service, isvc_name, observed.runtime_config.spec, observed.activator_url)
    if scaled_object is not None and scaling.keda_installed:
        plan.apply.append(scaled_object)
    elif existing is not None and owned_by(existing, service.uid):
        plan.delete.append(object_ref(existing))  # its metrics were removed: no trigger is left
    components.append(scaling_component(spec, scaled_object is not None, scaling))


def plan_inference_service(
    observed: ServiceObservation, model: AnyModel, template: AnyServiceTemplate, name: str
) -> dict[str, Any]:
    service = observed.service
    spec = service.spec
    template_spec = template.spec
    template_status = template.status
    config = observed.runtime_config.typed_spec
    model_spec = model.spec

    gpu_model, gpu_count = template_gpu(template)
    resolved = template_status.resolved_hardware if template_status is not None else None
    resolved_gpu = resolved.gpu if resolved is not None else None
    gpu_resource = (resolved_gpu.resource_name if resolved_gpu is not None else None) or "amd.com/gpu"
    resources = merge_resources(
        [gpu_default_resources(gpu_count, gpu_resource), model_spec.resources, template_spec.resources, spec.resources]
    )
    discovered = template_status.profile if template_status is not None else None
    profile_metadata = (discovered.metadata if discovered is not None else None) or ProfileMetadata()
    metric = profile_metadata.metric or plain(template_spec.metric)
    precision = profile_metadata.precision or plain(template_spec.precision)
    config_map = plan_template_profile_config_map(service, template)
    aim_id = template_spec.aim_id or ""
    derived = [
        {
            "name": "AIM_PROFILE_ID",
            "value": custom_profile_id(aim_id, next(iter(config_map["data"])))
            if config_map
            else template_spec.profile_id,
        },
        {"name": "AIM_METRIC", "value": metric},
        {"name": "AIM_PRECISION", "value": precision},
    ]
    env = merge_env_layers(
        [
            OPERATOR_ENV,
            config.env,
            [e for e in derived if e["value"]],
            template_spec.env,
            _runtime_identity(template, aim_id if config_map else None),
            spec.env,
        ]
    )
    container = serving_container(
        # A fine-tuned model's template names the image it runs (the family's base image).
        template.annotations.get(labels.DEPLOYMENT_IMAGE) or model_spec.image,
        env,
        resources,
    )
    isvc_labels = {
        labels.TEMPLATE: rfc1123(template.name),
        labels.MODEL: rfc1123(template_spec.model_name),
    }
    for label, value in ((labels.METRIC, metric), (labels.PRECISION, precision)):
        if value:
            isvc_labels[label] = rfc1123(value)
    isvc = plan_workload(
        service,
        observed.runtime_config.spec,
        name,
        container,
        affinity=(template_status.resolved_node_affinity if template_status is not None else None)
        or _gpu_node_affinity(gpu_model),
        pull_secrets=wire(spec.image_pull_secrets)
        or wire(model_spec.image_pull_secrets)
        or wire(config.image_pull_secrets),
        service_account=spec.service_account_name or model_spec.service_account_name or config.service_account_name,
        extra_labels=isvc_labels,
    )
    if config_map is not None:
        mount_profile(isvc, config_map, aim_id, CUSTOM_PROFILE_VOLUME)
    return isvc


def _runtime_identity(template: AnyServiceTemplate, custom_aim_id: str | None) -> list[dict[str, Any]]:
    """AIM_ID or AIM_MODEL_ID, which the AIM runtime refuses together: a custom profile is selected
    by its AIM id; weights from model sources by AIM_MODEL_ID, with AIM_ID cleared so an id baked
    into the image does not clash; otherwise the image's own AIM id stands."""
    if custom_aim_id is not None:
        return [{"name": "AIM_ID", "value": custom_aim_id}]
    model_ids = source_model_ids(template)
    if not model_ids:
        return []
    return [{"name": "AIM_ID", "value": ""}, {"name": "AIM_MODEL_ID", "value": model_ids[0]}]


def _gpu_node_affinity(gpu_model: str) -> dict[str, Any] | None:
    ids = device_ids_for(gpu_model) if gpu_model else []
    if not ids:
        return None
    return {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": labels.GPU_DEVICE_ID, "operator": "In", "values": ids}]}
            ]
        }
    }


SERVERLESS_REJECTED_MESSAGE = "Knative is not available. Configure KServe to use RawDeployment mode."
"""Upstream's words for KServe's ServerlessModeRejected (KServe's own message follows them)."""


def inference_service_component(
    existing: dict[str, Any] | None,
    planned: bool,
    blocking: list[Component] | None = None,
    waiting_for: str = "the model and template",
    warning: KServeWarning | None = None,
    ready_predictor_pods: int = 0,
) -> Component:
    condition = ConditionType.INFERENCE_SERVICE_READY
    if not planned:
        caches: dict[str, str] = {
            ConditionType.CACHE_READY: "the model cache",
            ConditionType.KV_CACHE_READY: "the KV cache",
            ConditionType.ADAPTERS_READY: "the LoRA adapters",
        }
        if blocking and all(c.condition in caches and c.state == ServiceStatusValue.STARTING for c in blocking):
            # Everything is resolved and the caches are on their way: so is the service.
            waiting = " and ".join(dict.fromkeys(caches[c.condition] for c in blocking))
            return Component(condition, ServiceStatusValue.STARTING, Reason.CREATING_RUNTIME, f"waiting for {waiting}")
        return Component(condition, ServiceStatusValue.PENDING, Reason.CREATING_RUNTIME, f"waiting for {waiting_for}")
    if is_true(existing, ConditionType.READY):  # KServe's Ready condition
        return Component(condition, ServiceStatusValue.RUNNING, Reason.RUNTIME_READY, "the InferenceService is Ready")
    ready = condition_of(existing, ConditionType.READY) or {}
    if warning is not None and warning.at >= str(ready.get("lastTransitionTime") or ""):
        # Upstream fails on such an event even once the InferenceService is Ready; here a Ready
        # InferenceService, or one whose readiness changed after the event, is past it.
        message = warning.message
        if warning.reason == Reason.SERVERLESS_MODE_REJECTED:
            message = f"{SERVERLESS_REJECTED_MESSAGE} KServe: {warning.message}"
        return Component(condition, ServiceStatusValue.FAILED, Reason(warning.reason), message)
    if ready_predictor_pods > 0:
        # Pods serve while KServe reports the InferenceService not Ready: a scale in progress; the
        # service stays Running (upstream's RuntimeScaling).
        message = f"InferenceService has {ready_predictor_pods} ready pod(s), scaling in progress"
        return Component(condition, ServiceStatusValue.RUNNING, Reason.RUNTIME_SCALING, message)
    # The same words whether it was created a moment ago or exists: one status write, not two.
    message = ready.get("message") or ready.get("reason") or "waiting for KServe to report the InferenceService Ready"
    return Component(condition, ServiceStatusValue.STARTING, Reason.CREATING_RUNTIME, message)


# -- HTTPRoute -----------------------------------------------------------------------------------


def _plan_route(observed: ServiceObservation, isvc_name: str) -> tuple[Component | None, dict[str, Any] | None]:
    service = observed.service
    routing = service.spec.routing or ServiceRouting()
    defaults = observed.runtime_config.typed_spec.routing or RoutingConfig()  # the runtime config's
    enabled = routing.enabled if routing.enabled is not None else defaults.enabled
    if not enabled or not isvc_name:
        return None, None
    condition = ConditionType.HTTP_ROUTE_READY
    gateway = routing.gateway_ref or defaults.gateway_ref
    if gateway is None:
        message = "routing is enabled but no gatewayRef is set on the service or its runtime config"
        return Component(condition, ServiceStatusValue.DEGRADED, Reason.GATEWAY_NOT_CONFIGURED, message), None
    template = routing.path_template or defaults.path_template
    try:
        # The template's JSONPath reads the service as stored (its wire names).
        path = (
            render_route_path(template, service.stored)
            if template
            else default_route_path(service.namespace, service.uid)
        )
    except RouteTemplateError as error:
        where = "spec.routing.pathTemplate" if routing.path_template else "runtime config routing.pathTemplate"
        return Component(
            condition, ServiceStatusValue.DEGRADED, Reason.ROUTE_TEMPLATE_INVALID, f"{where}: {error}"
        ), None
    annotations = dict(defaults.annotations or {}) | dict(routing.annotations or {})
    route_spec: dict[str, Any] = {
        "parentRefs": [wire(gateway)],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": path}}],
                "filters": [
                    {
                        "type": "URLRewrite",
                        "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}},
                    }
                ],
                "backendRefs": [{"kind": "Service", "name": predictor_name(isvc_name), "port": PREDICTOR_SERVICE_PORT}],
            }
        ],
    }
    timeout = routing.request_timeout or defaults.request_timeout
    if timeout:
        route_spec["rules"][0]["timeouts"] = {"request": timeout}
    existing = observed.http_route
    route = {
        "apiVersion": labels.HTTP_ROUTE_API,
        "kind": "HTTPRoute",
        "metadata": {
            "name": existing["metadata"]["name"] if existing else http_route_name(service.name, service.namespace),
            "namespace": service.namespace,
            "labels": child_labels(
                service,
                {
                    labels.COMPONENT: labels.COMPONENT_ROUTING,
                    labels.MANAGED_BY: labels.MANAGED_BY_VALUE,
                    labels.SERVICE: rfc1123(service.name),
                },
                observed.runtime_config.spec,
            ),
            "annotations": annotations,
            "ownerReferences": [owner_reference(service)],
        },
        "spec": route_spec,
    }
    accepted = _route_accepted(observed.http_route)
    if accepted:
        return Component(condition, ServiceStatusValue.RUNNING, Reason.HTTP_ROUTE_ACCEPTED, f"routed at {path}"), route
    return Component(
        condition, ServiceStatusValue.STARTING, Reason.HTTP_ROUTE_PENDING, f"waiting for the gateway to accept {path}"
    ), route


def _route_accepted(route: dict[str, Any] | None) -> bool:
    for parent in ((route or {}).get("status") or {}).get("parents") or []:
        for condition in parent.get("conditions") or []:
            if condition.get("type") == HTTPRouteConditionType.ACCEPTED and condition.get("status") == TRUE:
                return True
    return False


# -- shared --------------------------------------------------------------------------------------


def _config_valid(components: list[Component]) -> Condition:
    invalid = next(
        (
            c
            for c in components
            if c.reason
            in (
                Reason.CONFIG_NOT_FOUND,
                Reason.NAME_TOO_LONG,
                Reason.ROUTE_TEMPLATE_INVALID,
                Reason.GATEWAY_NOT_CONFIGURED,
                Reason.ADAPTER_CONFIG_INVALID,
                Reason.AUTOSCALING_REQUIRES_METRICS,
            )
            or (
                c.state == ServiceStatusValue.FAILED
                and c.reason in (Reason.MODEL_NOT_FOUND, Reason.TEMPLATE_NOT_FOUND, Reason.PROFILE_NOT_FOUND)
            )
        ),
        None,
    )
    if invalid is None:
        return Condition(ConditionType.CONFIG_VALID, TRUE, Reason.CONFIGURATION_VALID, "")
    return Condition(ConditionType.CONFIG_VALID, FALSE, invalid.reason, invalid.message)


def _transition_events(previous: dict[str, Any], status: dict[str, Any], components: list[Component]) -> list[Event]:
    events = []
    chosen, chosen_reason = "", ""  # the template chosen at first sight, told with the status transition
    before = {c.get("type"): c for c in previous.get("conditions") or []}
    for condition in status["conditions"]:
        old = before.get(condition["type"])
        if old and old.get("status") == condition["status"] and old.get("reason") == condition["reason"]:
            continue
        if condition["type"] == ConditionType.READY:
            continue  # repeats a component's reason; the status transition below reports it
        # First sight: only problems are news, and which template was chosen; the status
        # transition below says the rest, and the choice with it. A rollout of 1,000 services
        # posts 1 event each.
        first_sight = not old
        if first_sight and condition["type"] == ConditionType.TEMPLATE_READY and condition["status"] == TRUE:
            chosen = f"{condition['type']}: {condition['message']}".rstrip(": ")
            chosen_reason = condition["reason"]
            continue
        if first_sight and (condition["status"] == TRUE or condition["reason"] in _PROGRESS_REASONS):
            continue
        kind = "Normal" if condition["status"] == TRUE or condition["reason"] in _PROGRESS_REASONS else "Warning"
        events.append(Event(kind, condition["reason"], f"{condition['type']}: {condition['message']}".rstrip(": ")))
    if previous.get("status") != status["status"]:
        kind = "Warning" if status["status"] in (ServiceStatusValue.FAILED, ServiceStatusValue.DEGRADED) else "Normal"
        transition = f"status {previous.get('status') or 'none'} -> {status['status']}"
        events.append(Event(kind, f"Service{status['status']}", f"{transition}; {chosen}" if chosen else transition))
    elif chosen:
        events.append(Event("Normal", chosen_reason, chosen))
    return events


_PROGRESS_REASONS = {
    Reason.CREATING_RUNTIME,
    Reason.CREATING_MODEL,
    Reason.HTTP_ROUTE_PENDING,
    Reason.MODEL_NOT_READY,
    Reason.PROFILE_NOT_READY,
    Reason.CACHE_CREATING,
    Reason.CACHE_NOT_READY,
    Reason.ADAPTER_SUBTREE_PROVISIONING,
    Reason.PARENT_LACKS_ADAPTER_DISK,
    Reason.ADAPTERS_STAGING,
    Reason.HPA_NOT_FOUND,
    Reason.WAITING_FOR_METRICS,
    Reason.SCALE_TARGET_NOT_READY,
}

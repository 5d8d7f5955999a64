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
from api.routing import RouteTemplateError, default_route_path, render_route_path
from api.v1alpha1.aimservice import DEFAULT_BASE_IMAGE, ServiceStatusValue
from api.v1alpha1.common import LifecycleStatus
from controller.common.gpus import cluster_gpu_models, device_ids_for
from controller.common.kserve_events import KServeWarning
from controller.common.lookup import CLUSTER, Found
from controller.common.merge import gpu_default_resources, merge_env_layers, merge_resources
from controller.common.selection import CLUSTER_KIND, Overrides, select_template, template_gpu
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
    Resolution,
    mount_cache,
    plan_workload,
    reference,
    serving_container,
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
    spec = service.get("spec") or {}
    metadata = service["metadata"]
    previous_status = service.get("status") or {}
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

    resolution = resolve_profile(observed) if spec.get("profile") else _resolve_model_and_template(observed)
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
        isvc_name = inference_service_name(metadata["name"], metadata["namespace"])
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
    status["conditions"] = merge_conditions(
        previous_status.get("conditions"), conditions, metadata.get("generation"), now
    )
    status["observedGeneration"] = metadata.get("generation")
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

    template: dict[str, Any] | None = None
    if model is not None:
        template, template_component, derived = _resolve_template(observed, model)
        if derived is not None:
            resolution.apply.append(derived)
        resolution.components.append(template_component)
        if template is not None and template_component.state == ServiceStatusValue.RUNNING:
            resolution.status["resolvedTemplate"] = reference(
                template, CLUSTER if template["kind"] == CLUSTER_KIND else "Namespace"
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

    cache: dict[str, Any] | None = None
    if template is not None and resolution.status.get("resolvedTemplate"):
        cache_component, cache, cache_to_create = _resolve_cache(observed, template)
        if cache_component is not None:
            resolution.components.append(cache_component)
        if cache_to_create is not None:
            resolution.apply.append(cache_to_create)
        if cache is not None:
            resolution.status["cache"] = {
                "templateCacheRef": {"name": cache["metadata"]["name"], "kind": "AIMTemplateCache"}
            }
    if model is not None and template is not None:
        _plan_custom_profile(observed, template, resolution)
        resolution.build = partial(_template_inference_service, observed, model, template, cache)
    if resolution.status.get("resolvedTemplate"):
        resolution.sources_of, resolution.cache = template, cache
    return resolution


def _plan_custom_profile(observed: ServiceObservation, template: dict[str, Any], resolution: Resolution) -> None:
    """The ConfigMap with the deployed template's customProfile file; without one, the ConfigMap an
    earlier template's profile left (the InferenceService planned with it no longer mounts it)."""
    config_map = plan_template_profile_config_map(observed.service, template)
    if config_map is not None:
        resolution.apply.append(config_map)
        return
    left = observed.profile_config_map
    if left is not None and owned_by(left, observed.service["metadata"]["uid"]):
        resolution.delete.append(ObjectRef("v1", "ConfigMap", left["metadata"]["name"], left["metadata"]["namespace"]))


def _template_inference_service(
    observed: ServiceObservation,
    model: dict[str, Any],
    template: dict[str, Any],
    cache: dict[str, Any] | None,
    name: str,
) -> dict[str, Any]:
    inference_service = plan_inference_service(observed, model, template, name)
    mount_cache(inference_service, cache, observed.inference_service)
    return inference_service


# -- model ---------------------------------------------------------------------------------------


def _resolve_model(
    observed: ServiceObservation,
) -> tuple[dict[str, Any] | None, Component, dict[str, Any] | None]:
    spec = observed.service.get("spec") or {}
    model_spec = spec.get("model") or {}
    condition = ConditionType.MODEL_READY
    if model_spec.get("image") and observed.model.obj is None:
        if observed.models_with_image > 1:
            message = f"spec.model.image: {observed.models_with_image} models use image {model_spec['image']}; name one"
            return None, Component(condition, ServiceStatusValue.FAILED, Reason.MODEL_NOT_FOUND, message), None
        try:
            created = plan_model_for_image(observed.service)
        except ValueError as error:
            return (
                None,
                Component(condition, ServiceStatusValue.FAILED, Reason.INVALID_IMAGE_REFERENCE, str(error)),
                None,
            )
        message = f"creating AIMModel {created['metadata']['name']} for image {model_spec['image']}"
        return None, Component(condition, ServiceStatusValue.PENDING, Reason.CREATING_MODEL, message), created
    if model_spec.get("custom") and observed.model.obj is None:
        created = plan_custom_model(observed.service)
        source = model_spec["custom"]["modelSources"][0]["sourceUri"]
        message = f"creating custom AIMModel {created['metadata']['name']} from {source}"
        return None, Component(condition, ServiceStatusValue.PENDING, Reason.CREATING_MODEL, message), created
    if observed.model.obj is None:
        name = model_spec.get("name", "")
        message = f"spec.model.name: no AIMModel or AIMClusterModel named {name!r}"
        return None, Component(condition, ServiceStatusValue.FAILED, Reason.MODEL_NOT_FOUND, message), None
    failing = (LifecycleStatus.FAILED, LifecycleStatus.DEGRADED)
    component = _dependency(condition, observed.model, "model", Reason.MODEL_RESOLVED, Reason.MODEL_NOT_READY, failing)
    return observed.model.obj, component, None


def _dependency(
    condition: str,
    found: Found[dict[str, Any]],
    noun: str,
    resolved: Reason,
    not_ready: Reason,
    failing: tuple[str, ...],
) -> Component:
    """A dependency the service found (its model or template): Running once it is Ready, Failed
    while in one of the `failing` states, Pending otherwise."""
    state = ((found.obj or {}).get("status") or {}).get("status") or LifecycleStatus.PENDING
    described = f"{found.scope.lower()} {noun} {found.name}"
    if state == LifecycleStatus.READY:
        return Component(condition, ServiceStatusValue.RUNNING, resolved, f"{described} is Ready")
    health = ServiceStatusValue.FAILED if state in failing else ServiceStatusValue.PENDING
    return Component(condition, health, not_ready, f"{described} is {state}")


_IMAGE = re.compile(
    r"^(?:(?P<registry>[^/]+\.[^/]+|[^/]+:\d+|localhost)/)?(?P<path>[a-z0-9._/-]+?)(?::(?P<tag>[\w.-]+))?(?:@.+)?$"
)


def plan_model_for_image(service: dict[str, Any]) -> dict[str, Any]:
    """A namespaced AIMModel for `spec.model.image`, shared (no owner): other services using the
    same image find and reuse it."""
    spec = service["spec"]
    image = spec["model"]["image"]
    match = _IMAGE.match(image)
    if match is None:
        raise ValueError(f"spec.model.image: {image!r} is not an image reference")
    image_name = match.group("path").rsplit("/", 1)[-1]
    tag = match.group("tag") or "latest"
    name = naming.image_model_name(image_name, tag, image)
    return _auto_model(service, name, {"image": image}, ("runtimeConfigName", "imagePullSecrets", "serviceAccountName"))


def _auto_model(
    service: dict[str, Any], name: str, model_spec: dict[str, Any], inherited: tuple[str, ...], **extra_labels: str
) -> dict[str, Any]:
    """A namespaced AIMModel created for a service, not owned by it (other services share it)."""
    spec = service["spec"]
    model_spec = model_spec | {key: spec[key] for key in inherited if spec.get(key)}
    origin = {labels.ORIGIN: labels.ORIGIN_AUTO_GENERATED} | extra_labels
    namespace = service["metadata"]["namespace"]
    return manifest(
        labels.V1ALPHA2,
        "AIMModel",
        name,
        namespace,
        object_labels=child_labels(service, managed(origin)),
        spec=model_spec,
    )


def custom_model_name(custom: dict[str, Any]) -> str:
    """Identical inline custom models (same base image and sources, including the S3 endpoint)
    from any number of services share one AIMModel: the name is a hash of that identity."""
    return naming.custom_model_name(custom.get("baseImage") or DEFAULT_BASE_IMAGE, custom.get("modelSources") or [])


def plan_custom_model(service: dict[str, Any]) -> dict[str, Any]:
    custom = service["spec"]["model"]["custom"]
    model_spec = {
        "image": custom.get("baseImage") or DEFAULT_BASE_IMAGE,
        "modelSources": custom["modelSources"],
        "custom": {"hardware": custom["hardware"]},
    }
    inherited = ("env", "runtimeConfigName", "imagePullSecrets", "serviceAccountName")
    # Upstream labels the model with the first service that made it (aim.eai.amd.com/service).
    extra = {labels.CUSTOM_MODEL: "true", labels.SERVICE: rfc1123(service["metadata"]["name"])}
    return _auto_model(service, custom_model_name(custom), model_spec, inherited, **extra)


# -- template ------------------------------------------------------------------------------------


def _resolve_template(
    observed: ServiceObservation, model: dict[str, Any]
) -> tuple[dict[str, Any] | None, Component, dict[str, Any] | None]:
    """The template to deploy, its component, and a derived template to apply (or None)."""
    spec = observed.service.get("spec") or {}
    selector = spec.get("template") or {}
    condition = ConditionType.TEMPLATE_READY
    if selector.get("name"):
        found = observed.template
        if found is None or found.obj is None:
            message = (
                f"spec.template.name: no AIMServiceTemplate or AIMClusterServiceTemplate named {selector['name']!r}"
            )
            return None, Component(condition, ServiceStatusValue.FAILED, Reason.TEMPLATE_NOT_FOUND, message), None
        overrides = Overrides.from_service_spec(spec)
        derived = None
        if overrides.any() and overrides_differ(found.obj, overrides):
            derived = plan_derived_template(
                observed.service, found.obj, model["metadata"]["name"], overrides, owner_reference(observed.service)
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
            found = Found(existing, "Namespace")
        failing = (LifecycleStatus.FAILED, LifecycleStatus.DEGRADED, LifecycleStatus.NOT_AVAILABLE)
        component = _dependency(condition, found, "template", Reason.RESOLVED, Reason.TEMPLATE_NOT_READY, failing)
        ready = component.state == ServiceStatusValue.RUNNING
        return (found.obj if ready else None), component, derived
    gpus = set(cluster_gpu_models(observed.nodes))
    selection = select_template(
        observed.template_candidates,
        model["metadata"]["name"],
        bool(selector.get("allowUnoptimized")),
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


def cache_mode(spec: dict[str, Any]) -> str:
    return "Dedicated" if (spec.get("caching") or {}).get("mode") == "Dedicated" else "Shared"


def template_cache_name(template: dict[str, Any], service: dict[str, Any]) -> str:
    metadata = service["metadata"]
    dedicated = cache_mode(service.get("spec") or {}) == "Dedicated"
    template_name = template["metadata"]["name"]
    return naming.template_cache_name(
        template_name, metadata["name"], metadata["namespace"], metadata["uid"], dedicated
    )


def _resolve_cache(
    observed: ServiceObservation, template: dict[str, Any]
) -> tuple[Component | None, dict[str, Any] | None, dict[str, Any] | None]:
    """(CacheReady component, the cache in use, a cache to create). Nothing to cache without
    model sources: such a template's runtime downloads by itself."""
    service = observed.service
    spec = service.get("spec") or {}
    if not (template.get("status") or {}).get("modelSources"):
        return None, None, None
    mode = cache_mode(spec)
    scope = "Cluster" if template["kind"] == CLUSTER_KIND else "Namespace"
    name = template_cache_name(template, service)
    if mode == "Dedicated":
        usable = [
            c for c in observed.caches if c["metadata"]["name"] == name and owned_by(c, service["metadata"]["uid"])
        ]
    else:
        usable = [
            c
            for c in observed.caches
            if (c.get("spec") or {}).get("templateName") == template["metadata"]["name"]
            and (c.get("spec") or {}).get("templateScope", "Namespace") == scope
            and (c.get("spec") or {}).get("mode", "Shared") == "Shared"
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
    service: dict[str, Any], template: dict[str, Any], name: str, mode: str, scope: str, config_storage: str | None
) -> dict[str, Any]:
    spec = service.get("spec") or {}
    template_spec = template.get("spec") or {}
    env = merge_env_layers(
        [
            template_spec.get("env"),
            (template_spec.get("caching") or {}).get("env"),
            (spec.get("caching") or {}).get("env"),
            spec.get("env"),
        ],
        by_name=False,
    )
    cache_spec = with_present(
        {"templateName": template["metadata"]["name"], "templateScope": scope, "mode": mode},
        storageClassName=(spec.get("storage") or {}).get("defaultStorageClassName") or config_storage,
        runtimeConfigName=spec.get("runtimeConfigName"),
        env=env,
    )
    return manifest(
        labels.V1ALPHA1,
        "AIMTemplateCache",
        name,
        service["metadata"]["namespace"],
        object_labels=child_labels(service, managed({labels.SERVICE: rfc1123(service["metadata"]["name"])})),
        owner=service if mode == "Dedicated" else None,
        spec=cache_spec,
    )


# -- InferenceService ----------------------------------------------------------------------------


def _plan_scaling(observed: ServiceObservation, isvc_name: str, plan: Plan, components: list[Component]) -> None:
    """The ScaledObject and HPAReady of an autoscaled service; a ScaledObject it owns but no longer
    wants (autoscaling turned off) is deleted."""
    service = observed.service
    spec = service.get("spec") or {}
    scaling = observed.scaling
    existing = scaling.scaled_object if scaling else None
    if not autoscaling(spec):
        if existing is not None and owned_by(existing, service["metadata"]["uid"]):
            plan.delete.append(object_ref(existing))
        return
    scaling = scaling or ScalingObservation(keda_installed=True)
    scaled_object = plan_scaled_object(service, isvc_name, observed.runtime_config.spec, observed.activator_url)
    if scaled_object is not None and scaling.keda_installed:
        plan.apply.append(scaled_object)
    elif existing is not None and owned_by(existing, service["metadata"]["uid"]):
        plan.delete.append(object_ref(existing))  # its metrics were removed: no trigger is left
    components.append(scaling_component(spec, scaled_object is not None, scaling))


def plan_inference_service(
    observed: ServiceObservation, model: dict[str, Any], template: dict[str, Any], name: str
) -> dict[str, Any]:
    service = observed.service
    spec = service.get("spec") or {}
    template_spec = template.get("spec") or {}
    template_status = template.get("status") or {}
    config = observed.runtime_config.spec
    model_spec = model.get("spec") or {}

    gpu_model, gpu_count = template_gpu(template)
    resolved_gpu = (template_status.get("resolvedHardware") or {}).get("gpu") or {}
    gpu_resource = resolved_gpu.get("resourceName") or "amd.com/gpu"
    resources = merge_resources(
        [
            gpu_default_resources(gpu_count, gpu_resource),
            model_spec.get("resources"),
            template_spec.get("resources"),
            spec.get("resources"),
        ]
    )
    profile_metadata = (template_status.get("profile") or {}).get("metadata") or {}
    config_map = plan_template_profile_config_map(service, template)
    aim_id = template_spec.get("aimId") or ""
    derived = [
        {
            "name": "AIM_PROFILE_ID",
            "value": custom_profile_id(aim_id, next(iter(config_map["data"])))
            if config_map
            else template_spec.get("profileId"),
        },
        {"name": "AIM_METRIC", "value": profile_metadata.get("metric") or template_spec.get("metric")},
        {"name": "AIM_PRECISION", "value": profile_metadata.get("precision") or template_spec.get("precision")},
    ]
    env = merge_env_layers(
        [
            OPERATOR_ENV,
            config.get("env"),
            [e for e in derived if e["value"]],
            template_spec.get("env"),
            _runtime_identity(template, aim_id if config_map else None),
            spec.get("env"),
        ]
    )
    container = serving_container(
        # A fine-tuned model's template names the image it runs (the family's base image).
        ((template.get("metadata") or {}).get("annotations") or {}).get(labels.DEPLOYMENT_IMAGE)
        or model_spec.get("image"),
        env,
        resources,
    )
    isvc_labels = {
        labels.TEMPLATE: rfc1123(template["metadata"]["name"]),
        labels.MODEL: rfc1123(template_spec.get("modelName", "")),
    }
    for label, key in ((labels.METRIC, "metric"), (labels.PRECISION, "precision")):
        value = profile_metadata.get(key) or template_spec.get(key)
        if value:
            isvc_labels[label] = rfc1123(str(value))
    isvc = plan_workload(
        service,
        config,
        name,
        container,
        affinity=template_status.get("resolvedNodeAffinity") or _gpu_node_affinity(gpu_model),
        pull_secrets=spec.get("imagePullSecrets")
        or model_spec.get("imagePullSecrets")
        or config.get("imagePullSecrets"),
        service_account=spec.get("serviceAccountName")
        or model_spec.get("serviceAccountName")
        or config.get("serviceAccountName"),
        extra_labels=isvc_labels,
    )
    if config_map is not None:
        mount_profile(isvc, config_map, aim_id, CUSTOM_PROFILE_VOLUME)
    return isvc


def _runtime_identity(template: dict[str, Any], custom_aim_id: str | None) -> list[dict[str, Any]]:
    """AIM_ID or AIM_MODEL_ID, which the AIM runtime refuses together: a custom profile is selected
    by its AIM id; weights from model sources by AIM_MODEL_ID, with AIM_ID cleared so an id baked
    into the image does not clash; otherwise the image's own AIM id stands."""
    if custom_aim_id is not None:
        return [{"name": "AIM_ID", "value": custom_aim_id}]
    template_status = template.get("status") or {}
    sources = template_status.get("modelSources") or (template.get("spec") or {}).get("modelSources") or []
    if not sources:
        return []
    return [{"name": "AIM_ID", "value": ""}, {"name": "AIM_MODEL_ID", "value": sources[0]["modelId"]}]


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
    spec = service.get("spec") or {}
    routing = spec.get("routing") or {}
    config_routing = observed.runtime_config.spec.get("routing") or {}
    enabled = routing.get("enabled") if routing.get("enabled") is not None else config_routing.get("enabled")
    if not enabled or not isvc_name:
        return None, None
    condition = ConditionType.HTTP_ROUTE_READY
    gateway = routing.get("gatewayRef") or config_routing.get("gatewayRef")
    if not gateway:
        message = "routing is enabled but no gatewayRef is set on the service or its runtime config"
        return Component(condition, ServiceStatusValue.DEGRADED, Reason.GATEWAY_NOT_CONFIGURED, message), None
    metadata = service["metadata"]
    template = routing.get("pathTemplate") or config_routing.get("pathTemplate")
    try:
        path = (
            render_route_path(template, service)
            if template
            else default_route_path(metadata["namespace"], metadata["uid"])
        )
    except RouteTemplateError as error:
        where = "spec.routing.pathTemplate" if routing.get("pathTemplate") else "runtime config routing.pathTemplate"
        return Component(
            condition, ServiceStatusValue.DEGRADED, Reason.ROUTE_TEMPLATE_INVALID, f"{where}: {error}"
        ), None
    annotations = dict(config_routing.get("annotations") or {}) | dict(routing.get("annotations") or {})
    route_spec: dict[str, Any] = {
        "parentRefs": [gateway],
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
    timeout = routing.get("requestTimeout") or config_routing.get("requestTimeout")
    if timeout:
        route_spec["rules"][0]["timeouts"] = {"request": timeout}
    route = {
        "apiVersion": labels.HTTP_ROUTE_API,
        "kind": "HTTPRoute",
        "metadata": {
            "name": (observed.http_route or {}).get("metadata", {}).get("name")
            or http_route_name(metadata["name"], metadata["namespace"]),
            "namespace": metadata["namespace"],
            "labels": child_labels(
                service,
                {
                    labels.COMPONENT: labels.COMPONENT_ROUTING,
                    labels.MANAGED_BY: labels.MANAGED_BY_VALUE,
                    labels.SERVICE: rfc1123(metadata["name"]),
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

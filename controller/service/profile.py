"""AIMService with spec.profile (pure): the profile, its cache and the service's overrides in; the
profile ConfigMap, the profile cache and an InferenceService built from the profile alone out. Also
the profile file of a template's customProfile, which controller.service.plan mounts the same way.

Upstream E.7. The profile is looked up namespace first, then cluster (the fetch step does it); a
missing profile fails the service (ProfileNotFound), one that is not Ready keeps it Pending
(ProfileNotReady). A Ready profile with model sources gets a Shared AIMProfileCache, not owned by
the service so that it outlives it, and the service waits for it like for a template cache. The
engine configuration reaches the runtime as a custom profile file: a ConfigMap owned by the service,
mounted into the runtime's custom-profile directory and selected with AIM_PROFILE_ID.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import yaml

from api import labels, naming
from api.conditions import ConditionType, Reason
from api.naming import rfc1123
from api.objects import wire
from api.v1alpha1.aimservice import ProfileOverrides, ServiceStatusValue
from api.v1alpha1.aimservicetemplate import AnyServiceTemplate
from api.v1alpha1.common import LifecycleStatus, ProfileType
from api.v1alpha2.aimprofile import AIMProfile, AIMProfileSpecCommon, AnyProfile
from api.v1alpha2.aimservice import AIMService
from controller.common.merge import deep_merge, merge_env_layers
from controller.common.selection import template_gpu, template_metric, template_precision
from controller.pipeline.components import Component
from controller.pipeline.objects import child_labels
from controller.pipeline.plan import owner_reference
from controller.service import common as workload
from controller.service.observe import ServiceObservation

CUSTOM_PROFILE_ROOT = "/workspace/aim-runtime/profiles/custom"
"""Where the AIM runtime looks for custom profiles first: <root>/<aimId>/<file>.yaml."""
PROFILE_VOLUME = "aim-profile"
"""The volume of a spec.profile service's profile file."""
CUSTOM_PROFILE_VOLUME = "custom-profile"
"""The volume of a template's customProfile file. Upstream's names for both: an InferenceService
an upstream controller created keeps one volume at the mount path when this one takes it over."""
ENGINE = "vllm"
"""The engine a template's custom profile names (upstream writes no other)."""


profile_config_map_name = naming.profile_config_map_name
custom_profile_config_map_name = naming.custom_profile_config_map_name
profile_cache_name = naming.profile_cache_name


def profile_file_name(accelerator: str | None, precision: str | None, count: int | None, metric: str | None) -> str:
    """`vllm-<accelerator, lower case>-<precision>-tp<count>-<metric>.yaml`, as upstream names it
    (`none` for a part that is not known)."""
    return f"vllm-{(accelerator or 'none').lower()}-{precision or 'none'}-tp{count or 0}-{metric or 'none'}.yaml"


def custom_profile_id(aim_id: str, file_name: str) -> str:
    """AIM_PROFILE_ID selecting a mounted profile file: `custom/<aimId>/<file without .yaml>`."""
    return f"custom/{aim_id}/{file_name.removesuffix('.yaml')}"


def runtime_profile(
    aim_id: str | None,
    model_id: str | None,
    metadata: dict[str, Any],
    engine_args: dict[str, Any] | None,
    env_vars: dict[str, str] | None,
) -> dict[str, Any]:
    """The AIM runtime's profile file, in its snake_case schema: identity, metadata (unknown entries
    left out), the engine's arguments and its environment (empty maps written as such)."""
    document = {
        "aim_id": aim_id,
        "model_id": model_id,
        "metadata": {k: v for k, v in metadata.items() if v is not None},
        # Engine arguments keep their nulls: `flag: null` is how a profile passes a bare flag.
        "engine_args": dict(engine_args or {}),
        "env_vars": dict(env_vars or {}),
    }
    return {k: v for k, v in document.items() if v is not None}


def profile_document(spec: AIMProfileSpecCommon, overrides: ProfileOverrides | None) -> dict[str, Any]:
    """An AIMProfile's file: its accelerator metadata, and the service's
    profileOverrides.engineArgs deep-merged over the profile's engine arguments."""
    metadata = {
        "engine": spec.engine,
        "accelerator_model": spec.accelerator_model,
        "accelerator_type": workload.plain(spec.accelerator_type),
        "accelerator_count": spec.accelerator_count,
        "manual_selection_only": False,
        "metric": workload.plain(spec.metric),
        "precision": workload.plain(spec.precision),
        "type": workload.plain(spec.type),
    }
    override_args = overrides.engine_args if overrides is not None else None
    engine_args = deep_merge(spec.engine_args or {}, override_args or {})
    return runtime_profile(spec.aim_id, spec.model_id, metadata, engine_args, spec.engine_env)


def template_profile(template: AnyServiceTemplate) -> tuple[str, dict[str, Any]] | None:
    """(file name, document) of a template's customProfile, None without one. GPU, metric and
    precision as the service deploys the template (discovery results over the spec); the type the
    template's, else unoptimized."""
    spec = template.spec
    custom = spec.custom_profile
    if custom is None:
        return None
    gpu, count = template_gpu(template)
    metric, precision = template_metric(template), template_precision(template)
    metadata = {
        "engine": ENGINE,
        "gpu": gpu,
        "gpu_count": count,
        "manual_selection_only": False,
        "metric": metric,
        "precision": precision,
        "type": str(spec.type or ProfileType.UNOPTIMIZED.value),
    }
    document = runtime_profile(spec.aim_id, spec.model_id, metadata, custom.engine_args, custom.env_vars)
    return profile_file_name(gpu, precision, count, metric), document


def plan_runtime_profile_config_map(
    service: AIMService, name: str, file_name: str, document: dict[str, Any]
) -> dict[str, Any]:
    """The ConfigMap holding one profile file, owned by the service."""
    text = yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": service.namespace,
            "labels": child_labels(
                service,
                {
                    labels.MANAGED_BY: labels.MANAGED_BY_VALUE,
                    labels.SERVICE: rfc1123(service.name),
                    labels.COMPONENT: labels.COMPONENT_INFERENCE,
                },
            ),
            "ownerReferences": [owner_reference(service)],
        },
        "data": {file_name: text},
    }


def plan_profile_config_map(service: AIMService, profile: AnyProfile) -> dict[str, Any]:
    spec = profile.spec
    file_name = profile_file_name(
        spec.accelerator_model, workload.plain(spec.precision), spec.accelerator_count, workload.plain(spec.metric)
    )
    name = profile_config_map_name(service.name)
    document = profile_document(spec, service.spec.profile_overrides)
    return plan_runtime_profile_config_map(service, name, file_name, document)


def plan_template_profile_config_map(service: AIMService, template: AnyServiceTemplate) -> dict[str, Any] | None:
    """The ConfigMap with the file of the template's customProfile (None without one)."""
    profile = template_profile(template)
    if profile is None:
        return None
    file_name, document = profile
    name = custom_profile_config_map_name(service.name)
    return plan_runtime_profile_config_map(service, name, file_name, document)


def mount_profile(isvc: dict[str, Any], config_map: dict[str, Any], aim_id: str, volume: str) -> None:
    """Mount the ConfigMap's profile file read-only where the runtime looks for <aimId>'s custom
    profiles."""
    predictor = isvc["spec"]["predictor"]
    predictor["volumes"].append({"name": volume, "configMap": {"name": config_map["metadata"]["name"]}})
    predictor["containers"][0]["volumeMounts"].append(
        {"name": volume, "mountPath": f"{CUSTOM_PROFILE_ROOT}/{aim_id}", "readOnly": True}
    )


def plan_service_profile_cache(
    service: AIMService, profile: AnyProfile, scope: str, config_storage: str | None
) -> dict[str, Any]:
    """A Shared AIMProfileCache for the profile in the service's namespace, without an owner: it
    outlives the service and serves every service of the namespace deploying the profile (only a
    namespaced profile has caching settings of its own)."""
    spec = service.spec
    profile_caching = profile.spec.caching if isinstance(profile, AIMProfile) else None
    env = merge_env_layers(
        [
            profile_caching.env if profile_caching is not None else None,
            spec.caching.env if spec.caching is not None else None,
        ],
        by_name=False,
    )
    name = profile.name
    cache_spec: dict[str, Any] = {"profileName": name, "profileScope": scope, "mode": "Shared"}
    storage_class = (spec.storage.default_storage_class_name if spec.storage is not None else None) or config_storage
    if storage_class:
        cache_spec["storageClassName"] = storage_class
    if env:
        cache_spec["env"] = env
    namespace = service.namespace
    return {
        "apiVersion": labels.V1ALPHA2,
        "kind": "AIMProfileCache",
        "metadata": {
            "name": profile_cache_name(name, namespace),
            "namespace": namespace,
            "labels": child_labels(
                service,
                {labels.MANAGED_BY: labels.MANAGED_BY_VALUE, labels.SERVICE: rfc1123(service.name)},
            ),
        },
        "spec": cache_spec,
    }


def resolve_profile(observed: ServiceObservation) -> workload.Resolution:
    service = observed.service
    name = service.spec.profile.name if service.spec.profile is not None else ""
    resolution = workload.Resolution(waiting_for="the profile")
    found = observed.profile
    if found is None or found.obj is None:
        message = f"spec.profile.name: no AIMProfile or AIMClusterProfile named {name!r}"
        resolution.components.append(
            Component(ConditionType.PROFILE_READY, ServiceStatusValue.FAILED, Reason.PROFILE_NOT_FOUND, message)
        )
        return resolution
    profile = found.obj
    spec = profile.spec
    state = profile.status.status if profile.status is not None else LifecycleStatus.PENDING
    described = f"{found.scope.lower()} profile {found.name}"
    ready = state == LifecycleStatus.READY
    condition = ConditionType.PROFILE_READY
    resolution.components.append(
        Component(condition, ServiceStatusValue.RUNNING, Reason.PROFILE_RESOLVED, f"{described} is Ready")
        if ready
        else Component(condition, ServiceStatusValue.PENDING, Reason.PROFILE_NOT_READY, f"{described} is {state}")
    )
    if ready:
        resolution.status["resolvedProfile"] = workload.reference(profile, found.scope)
        if spec.model_id:
            resolution.status["resolvedModel"] = {"name": spec.model_id}
    config_map = plan_profile_config_map(service, profile)
    resolution.apply.append(config_map)
    cache = None
    if ready and spec.model_sources:
        usable: list[workload.ModelCache] = [
            c
            for c in observed.profile_caches
            if c.spec.profile_name == found.name and c.spec.profile_scope == found.scope and c.spec.mode == "Shared"
        ]
        storage_class = observed.runtime_config.storage_class
        component, cache, planned = workload.use_cache(
            usable,
            observed.inference_service,
            "profile cache",
            lambda: plan_service_profile_cache(service, profile, found.scope, storage_class),
            shared=True,
        )
        resolution.components.append(component)
        resolution.apply += [planned] if planned else []
    resolution.build = partial(plan_profile_inference_service, observed, profile, cache, config_map)
    resolution.sources_of, resolution.cache = (profile if ready else None), cache
    return resolution


def plan_profile_inference_service(
    observed: ServiceObservation,
    profile: AnyProfile,
    cache: workload.ModelCache | None,
    config_map: dict[str, Any],
    name: str,
) -> dict[str, Any]:
    """The InferenceService from the profile alone: its image (always pulled: profiles name moving
    tags), its environment with the custom profile selected, its resources and node affinity; the
    service's resources, pull secrets and service account win when set."""
    service = observed.service
    spec = service.spec
    profile_spec = profile.spec
    profile_status = profile.status
    aim_id = profile_spec.aim_id
    [file_name] = config_map["data"]
    sources = profile_spec.model_sources or []
    framework = [{"name": "AIM_PROFILE_ID", "value": custom_profile_id(aim_id, file_name)}]
    if sources:
        model_id = profile_spec.model_id or sources[0].model_id
        framework += [
            {"name": "AIM_ID", "value": ""},
            {"name": "AIM_CACHE_PATH", "value": workload.CACHE_MOUNT_ROOT},
            {"name": "AIM_MODEL_ID", "value": model_id},
        ]
    else:
        framework.append({"name": "AIM_ID", "value": aim_id})
    env = merge_env_layers(
        [
            profile_spec.container_env,
            framework,
            spec.profile_overrides.container_env if spec.profile_overrides is not None else None,
            spec.env,
        ]
    )
    resources = (
        wire(spec.resources)
        or wire(profile_status.resources if profile_status is not None else None)
        or wire(profile_spec.resources)
    )
    container = workload.serving_container(profile_spec.image, env, resources)
    isvc_labels = {
        labels.PROFILE: rfc1123(profile.name),
        labels.MODEL: rfc1123(profile_spec.model_id or aim_id),
    }
    for label, value in ((labels.METRIC, profile_spec.metric), (labels.PRECISION, profile_spec.precision)):
        if value:
            isvc_labels[label] = rfc1123(str(value))
    isvc = workload.plan_workload(
        service,
        observed.runtime_config.spec,
        name,
        container,
        affinity=profile_status.resolved_node_affinity if profile_status is not None else None,
        pull_secrets=wire(spec.image_pull_secrets) or wire(profile_spec.image_pull_secrets),
        service_account=spec.service_account_name or profile_spec.service_account_name,
        extra_labels=isvc_labels,
    )
    mount_profile(isvc, config_map, aim_id, PROFILE_VOLUME)
    workload.mount_cache(isvc, cache, observed.inference_service)
    return isvc

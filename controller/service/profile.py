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
from api.v1alpha1.aimservice import ServiceStatusValue
from api.v1alpha1.common import LifecycleStatus, ProfileType
from controller.common.lookup import CLUSTER
from controller.common.merge import deep_merge, merge_env_layers
from controller.common.selection import template_gpu, template_metric, template_precision
from controller.pipeline.components import Component
from controller.pipeline.objects import child_labels
from controller.pipeline.plan import owner_reference
from controller.service.common import (
    CACHE_MOUNT_ROOT,
    Resolution,
    mount_cache,
    plan_workload,
    reference,
    serving_container,
    use_cache,
)
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


def profile_document(spec: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """An AIMProfile's file: its accelerator metadata, and the service's
    profileOverrides.engineArgs deep-merged over the profile's engine arguments."""
    metadata = {
        "engine": spec.get("engine"),
        "accelerator_model": spec.get("acceleratorModel"),
        "accelerator_type": spec.get("acceleratorType"),
        "accelerator_count": spec.get("acceleratorCount"),
        "manual_selection_only": False,
        "metric": spec.get("metric"),
        "precision": spec.get("precision"),
        "type": spec.get("type"),
    }
    engine_args = deep_merge(spec.get("engineArgs") or {}, overrides.get("engineArgs") or {})
    return runtime_profile(spec.get("aimId"), spec.get("modelId"), metadata, engine_args, spec.get("engineEnv"))


def template_profile(template: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(file name, document) of a template's customProfile, None without one. GPU, metric and
    precision as the service deploys the template (discovery results over the spec); the type the
    template's, else unoptimized."""
    spec = template.get("spec") or {}
    custom = spec.get("customProfile")
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
        "type": str(spec.get("type") or ProfileType.UNOPTIMIZED.value),
    }
    document = runtime_profile(
        spec.get("aimId"), spec.get("modelId"), metadata, custom.get("engineArgs"), custom.get("envVars")
    )
    return profile_file_name(gpu, precision, count, metric), document


def plan_runtime_profile_config_map(
    service: dict[str, Any], name: str, file_name: str, document: dict[str, Any]
) -> dict[str, Any]:
    """The ConfigMap holding one profile file, owned by the service."""
    text = yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": service["metadata"]["namespace"],
            "labels": child_labels(
                service,
                {
                    labels.MANAGED_BY: labels.MANAGED_BY_VALUE,
                    labels.SERVICE: rfc1123(service["metadata"]["name"]),
                    labels.COMPONENT: labels.COMPONENT_INFERENCE,
                },
            ),
            "ownerReferences": [owner_reference(service)],
        },
        "data": {file_name: text},
    }


def plan_profile_config_map(service: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    spec = profile.get("spec") or {}
    overrides = (service.get("spec") or {}).get("profileOverrides") or {}
    file_name = profile_file_name(
        spec.get("acceleratorModel"), spec.get("precision"), spec.get("acceleratorCount"), spec.get("metric")
    )
    name = profile_config_map_name(service["metadata"]["name"])
    return plan_runtime_profile_config_map(service, name, file_name, profile_document(spec, overrides))


def plan_template_profile_config_map(service: dict[str, Any], template: dict[str, Any]) -> dict[str, Any] | None:
    """The ConfigMap with the file of the template's customProfile (None without one)."""
    profile = template_profile(template)
    if profile is None:
        return None
    file_name, document = profile
    name = custom_profile_config_map_name(service["metadata"]["name"])
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
    service: dict[str, Any], profile: dict[str, Any], scope: str, config_storage: str | None
) -> dict[str, Any]:
    """A Shared AIMProfileCache for the profile in the service's namespace, without an owner: it
    outlives the service and serves every service of the namespace deploying the profile."""
    spec = service.get("spec") or {}
    profile_caching = ((profile.get("spec") or {}).get("caching") or {}) if scope != CLUSTER else {}
    env = merge_env_layers([profile_caching.get("env"), (spec.get("caching") or {}).get("env")], by_name=False)
    name = profile["metadata"]["name"]
    cache_spec: dict[str, Any] = {"profileName": name, "profileScope": scope, "mode": "Shared"}
    storage_class = (spec.get("storage") or {}).get("defaultStorageClassName") or config_storage
    if storage_class:
        cache_spec["storageClassName"] = storage_class
    if env:
        cache_spec["env"] = env
    namespace = service["metadata"]["namespace"]
    return {
        "apiVersion": labels.V1ALPHA2,
        "kind": "AIMProfileCache",
        "metadata": {
            "name": profile_cache_name(name, namespace),
            "namespace": namespace,
            "labels": child_labels(
                service,
                {labels.MANAGED_BY: labels.MANAGED_BY_VALUE, labels.SERVICE: rfc1123(service["metadata"]["name"])},
            ),
        },
        "spec": cache_spec,
    }


def resolve_profile(observed: ServiceObservation) -> Resolution:
    service = observed.service
    name = ((service.get("spec") or {}).get("profile") or {}).get("name", "")
    resolution = Resolution(waiting_for="the profile")
    found = observed.profile
    if found is None or found.obj is None:
        message = f"spec.profile.name: no AIMProfile or AIMClusterProfile named {name!r}"
        resolution.components.append(
            Component(ConditionType.PROFILE_READY, ServiceStatusValue.FAILED, Reason.PROFILE_NOT_FOUND, message)
        )
        return resolution
    profile = found.obj
    spec = profile.get("spec") or {}
    state = (profile.get("status") or {}).get("status") or LifecycleStatus.PENDING
    described = f"{found.scope.lower()} profile {found.name}"
    ready = state == LifecycleStatus.READY
    condition = ConditionType.PROFILE_READY
    resolution.components.append(
        Component(condition, ServiceStatusValue.RUNNING, Reason.PROFILE_RESOLVED, f"{described} is Ready")
        if ready
        else Component(condition, ServiceStatusValue.PENDING, Reason.PROFILE_NOT_READY, f"{described} is {state}")
    )
    if ready:
        resolution.status["resolvedProfile"] = reference(profile, found.scope)
        if spec.get("modelId"):
            resolution.status["resolvedModel"] = {"name": spec["modelId"]}
    config_map = plan_profile_config_map(service, profile)
    resolution.apply.append(config_map)
    cache = None
    if ready and spec.get("modelSources"):
        usable = [
            c
            for c in observed.profile_caches
            if (c.get("spec") or {}).get("profileName") == found.name
            and (c.get("spec") or {}).get("profileScope") == found.scope
            and (c.get("spec") or {}).get("mode", "Shared") == "Shared"
        ]
        storage_class = observed.runtime_config.storage_class
        component, cache, planned = use_cache(
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
    profile: dict[str, Any],
    cache: dict[str, Any] | None,
    config_map: dict[str, Any],
    name: str,
) -> dict[str, Any]:
    """The InferenceService from the profile alone: its image (always pulled: profiles name moving
    tags), its environment with the custom profile selected, its resources and node affinity; the
    service's resources, pull secrets and service account win when set."""
    service = observed.service
    spec = service.get("spec") or {}
    profile_spec = profile.get("spec") or {}
    profile_status = profile.get("status") or {}
    aim_id = profile_spec.get("aimId", "")
    [file_name] = config_map["data"]
    sources = profile_spec.get("modelSources") or []
    framework = [{"name": "AIM_PROFILE_ID", "value": custom_profile_id(aim_id, file_name)}]
    if sources:
        model_id = profile_spec.get("modelId") or sources[0].get("modelId", "")
        framework += [
            {"name": "AIM_ID", "value": ""},
            {"name": "AIM_CACHE_PATH", "value": CACHE_MOUNT_ROOT},
            {"name": "AIM_MODEL_ID", "value": model_id},
        ]
    else:
        framework.append({"name": "AIM_ID", "value": aim_id})
    env = merge_env_layers(
        [
            profile_spec.get("containerEnv"),
            framework,
            (spec.get("profileOverrides") or {}).get("containerEnv"),
            spec.get("env"),
        ]
    )
    resources = spec.get("resources") or profile_status.get("resources") or profile_spec.get("resources")
    container = serving_container(profile_spec.get("image"), env, resources)
    isvc_labels = {
        labels.PROFILE: rfc1123(profile["metadata"]["name"]),
        labels.MODEL: rfc1123(profile_spec.get("modelId") or aim_id),
    }
    for label, key in ((labels.METRIC, "metric"), (labels.PRECISION, "precision")):
        if profile_spec.get(key):
            isvc_labels[label] = rfc1123(str(profile_spec[key]))
    isvc = plan_workload(
        service,
        observed.runtime_config.spec,
        name,
        container,
        affinity=profile_status.get("resolvedNodeAffinity"),
        pull_secrets=spec.get("imagePullSecrets") or profile_spec.get("imagePullSecrets"),
        service_account=spec.get("serviceAccountName") or profile_spec.get("serviceAccountName"),
        extra_labels=isvc_labels,
    )
    mount_profile(isvc, config_map, aim_id, PROFILE_VOLUME)
    mount_cache(isvc, cache, observed.inference_service)
    return isvc

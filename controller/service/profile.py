"""AIMService with spec.profile (pure): the profile, its cache and the service's overrides in; the
profile ConfigMap, the profile cache and an InferenceService built from the profile alone out.

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
from api.v1alpha1.common import LifecycleStatus
from controller.common.lookup import CLUSTER
from controller.common.merge import deep_merge, merge_env_layers
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


profile_config_map_name = naming.profile_config_map_name
profile_cache_name = naming.profile_cache_name


def profile_file_name(spec: dict[str, Any]) -> str:
    """`vllm-<accelerator>-<precision>-tp<count>-<metric>.yaml`, as upstream names it."""
    accelerator = str(spec.get("acceleratorModel") or "none").lower()
    count = spec.get("acceleratorCount") or 0
    return f"vllm-{accelerator}-{spec.get('precision') or 'none'}-tp{count}-{spec.get('metric') or 'none'}.yaml"


def profile_document(spec: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The runtime's profile file: identity, metadata, engine arguments (the service's
    profileOverrides.engineArgs deep-merged over the profile's) and the engine's environment."""
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
    document = {
        "aim_id": spec.get("aimId"),
        "model_id": spec.get("modelId"),
        "metadata": {k: v for k, v in metadata.items() if v is not None},
        # Engine arguments keep their nulls: `flag: null` is how a profile passes a bare flag.
        "engine_args": deep_merge(spec.get("engineArgs") or {}, overrides.get("engineArgs") or {}),
        "env_vars": dict(spec.get("engineEnv") or {}),
    }
    return {k: v for k, v in document.items() if v is not None}


def plan_profile_config_map(service: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    spec = profile.get("spec") or {}
    overrides = (service.get("spec") or {}).get("profileOverrides") or {}
    text = yaml.safe_dump(profile_document(spec, overrides), sort_keys=False, default_flow_style=False)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": profile_config_map_name(service["metadata"]["name"]),
            "namespace": service["metadata"]["namespace"],
            "labels": child_labels(
                service,
                {labels.MANAGED_BY: labels.MANAGED_BY_VALUE, labels.SERVICE: rfc1123(service["metadata"]["name"])},
            ),
            "ownerReferences": [owner_reference(service)],
        },
        "data": {profile_file_name(spec): text},
    }


def plan_service_profile_cache(
    service: dict[str, Any], profile: dict[str, Any], scope: str, config_storage: str | None
) -> dict[str, Any]:
    """A Shared AIMProfileCache for the profile in the service's namespace, without an owner: it
    outlives the service and serves every service of the namespace deploying the profile."""
    spec = service.get("spec") or {}
    profile_caching = ((profile.get("spec") or {}).get("caching") or {}) if scope != CLUSTER else {}
    env = merge_env_layers([profile_caching.get("env"), (spec.get("caching") or {}).get("env")])
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
    framework = [{"name": "AIM_PROFILE_ID", "value": f"custom/{aim_id}/{file_name.removesuffix('.yaml')}"}]
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
    container["volumeMounts"].append(
        {"name": PROFILE_VOLUME, "mountPath": f"{CUSTOM_PROFILE_ROOT}/{aim_id}", "readOnly": True}
    )
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
    isvc["spec"]["predictor"]["volumes"].append(
        {"name": PROFILE_VOLUME, "configMap": {"name": config_map["metadata"]["name"]}}
    )
    mount_cache(isvc, cache, observed.inference_service)
    return isvc

"""AIMServiceTemplate / AIMClusterServiceTemplate: model, GPUs and discovery in; status, the
discovery Job and the template-owned cache out (pure).

A template is Ready when its model exists, the GPUs it needs are in the cluster and its model
sources are known: inline (`spec.modelSources`) or from a discovery Job that runs the model's image
with `dry-run --format=json` and prints the sources as a JSON array.
"""

from __future__ import annotations

import json
from typing import Any

from api import labels, naming
from api.conditions import ConditionType, JobConditionType, Reason
from api.core import ConditionStatus
from api.naming import rfc1123
from api.objects import AnyObject, as_stored, wire
from api.quantity import GIB, QuantityError, binary_quantity, quantity_bytes
from api.v1alpha1.aimservicetemplate import AIMServiceTemplate, AnyServiceTemplate
from api.v1alpha1.common import HardwareRequirements, LifecycleStatus
from api.v1alpha2.aimmodel import AnyModel
from controller.catalog.imageref import InvalidImageReferenceError, parse_image_reference
from controller.common.caching import owned_cache
from controller.common.gpus import cluster_gpu_models, device_ids_for, normalise_gpu_model
from controller.common.jobs import JOB_API, job_failure_message, job_finished
from controller.common.runtimeconfig import resolved_config, runtime_config_component
from controller.pipeline.components import Component, component_status
from controller.pipeline.leadership import parse_time
from controller.pipeline.objects import child_labels, pod_template_labels
from controller.pipeline.plan import Event, Plan, object_ref, owner_reference
from controller.template.observe import TemplateObservation


def _gpu_match(
    condition: str, matched: list[str], placed_on: list[str], found: Reason, not_found: Reason, missing: str
) -> tuple[Component, list[str]]:
    """GPUReady from the GPU models that `matched`, and the device ids of the models the pods
    must be `placed_on`."""
    if not matched:
        return Component(condition, LifecycleStatus.NOT_AVAILABLE, not_found, missing), []
    devices = sorted({d for m in placed_on for d in device_ids_for(m)})
    return Component(condition, LifecycleStatus.READY, found, ", ".join(matched)), devices


def gpu_component(template: AnyServiceTemplate, nodes: list[dict[str, Any]]) -> tuple[Component | None, list[str]]:
    """GPUReady and the device ids the template's pods must run on (empty: no constraint)."""
    hardware = template.spec.hardware
    gpu = hardware.gpu if hardware is not None else None
    if gpu is None:
        return None, []
    wanted = [normalise_gpu_model(m) for m in gpu.allowed_models()]
    if not wanted and not gpu.requests and not gpu.min_vram:
        return None, []
    available = cluster_gpu_models(nodes)
    listed = ", ".join(sorted(available)) or "none"
    condition = ConditionType.GPU_READY
    if gpu.min_vram:
        try:
            minimum = quantity_bytes(gpu.min_vram)
        except QuantityError:
            return Component(
                condition,
                LifecycleStatus.FAILED,
                Reason.GPU_CHECK_FAILED,
                f"minVram {gpu.min_vram!r} is not a quantity",
            ), []
        fitting = sorted(m for m, found in available.items() if _vram(found[0].vram) >= minimum)
        missing = f"Required minimum VRAM ({gpu.min_vram}) exceeds available GPUs. Available: {listed}"
        return _gpu_match(condition, fitting, fitting, Reason.GPU_AVAILABLE, Reason.VRAM_NOT_AVAILABLE, missing)
    if wanted:
        present = [m for m in wanted if m in available]
        missing = f"Required GPU model '{', '.join(wanted)}' not available in cluster. Available: {listed}"
        return _gpu_match(condition, present, wanted, Reason.GPU_AVAILABLE, Reason.GPU_NOT_AVAILABLE, missing)
    if not available:
        return Component(
            condition, LifecycleStatus.NOT_AVAILABLE, Reason.GPU_NOT_AVAILABLE, "No AMD GPU in the cluster"
        ), []
    return Component(condition, LifecycleStatus.READY, Reason.GPU_AVAILABLE, listed), []


def _vram(value: str) -> int:
    try:
        return quantity_bytes(value.replace("G", "Gi") if value.endswith("G") else value)
    except QuantityError:
        return 0


def model_component(observed: TemplateObservation) -> Component:
    cluster = observed.cluster_scoped
    condition = ConditionType.CLUSTER_MODEL_READY if cluster else ConditionType.MODEL_READY
    name = observed.template.spec.model_name
    model = observed.model.obj
    if model is None:
        reason = Reason.CLUSTER_MODEL_NOT_FOUND if cluster else Reason.MODEL_NOT_FOUND
        return Component(condition, LifecycleStatus.PENDING, reason, f"Model {name} not found")
    state = model.status.status if model.status is not None else None
    # A model waits for its templates; ignoring its template aggregate avoids waiting on each other.
    if state in (LifecycleStatus.FAILED, LifecycleStatus.DEGRADED) and _fails_beyond_templates(model):
        reason = Reason.CLUSTER_MODEL_FAILED if cluster else Reason.MODEL_FAILED
        return Component(condition, state, reason, f"{model.kind} {name} is in {state} state")
    reason = Reason.CLUSTER_MODEL_FOUND if cluster else Reason.MODEL_FOUND
    return Component(condition, LifecycleStatus.READY, reason, f"{observed.model.scope} model {name}")


def _fails_beyond_templates(model: AnyModel) -> bool:
    """A component condition (…Ready) other than the templates' aggregate is False: the model's
    own trouble (its image, its runtime config), which its templates share, as upstream."""
    return any(
        c.status == ConditionStatus.FALSE
        and c.type.endswith(ConditionType.READY)
        and c.type != ConditionType.READY
        and not c.type.endswith(ConditionType.SERVICE_TEMPLATES_READY)  # or ClusterServiceTemplatesReady
        for c in (model.status.conditions if model.status is not None else None) or []
    )


def discovery_job_name(template: AnyObject, model_image: str) -> str:
    """Hashed from the spec as stored (what discovery reads), so the name is the same for every
    reader: the planner, the fetch step and the tests."""
    stored = as_stored(template)
    return naming.discovery_job_name(stored["metadata"]["name"], stored.get("spec") or {}, model_image)


def plan_discovery_job(observed: TemplateObservation, name: str, image: str) -> dict[str, Any]:
    template = observed.template
    spec = template.spec
    gpu = spec.hardware.gpu if spec.hardware is not None else None
    models = gpu.allowed_models() if gpu is not None else []
    count = gpu.requests if gpu is not None else None
    env = [{"name": "AIM_LOG_LEVEL_ROOT", "value": "CRITICAL"}, {"name": "AIM_LOG_LEVEL", "value": "CRITICAL"}]
    env += wire(spec.env or [])
    for key, value in (
        ("AIM_METRIC", spec.metric),
        ("AIM_PRECISION", spec.precision),
        ("AIM_GPU_MODEL", models[0] if models else None),
        ("AIM_GPU_COUNT", count),
        # The same, in the accelerator vocabulary of newer AIM images (upstream 0.2.4 sets both).
        ("AIM_ACCELERATOR_MODEL", models[0] if models else None),
        ("AIM_ACCELERATOR_COUNT", count),
        ("AIM_PROFILE_ID", spec.profile_id),
    ):
        if value:
            env.append({"name": key, "value": str(value)})
    builder = {
        labels.NAME: labels.DISCOVERY_APP_NAME,
        labels.COMPONENT: labels.COMPONENT_DISCOVERY,
        labels.MANAGED_BY: labels.MANAGED_BY_VALUE,
        labels.TEMPLATE: rfc1123(template.name),
    }
    job_labels = child_labels(template, builder)
    model = observed.model.obj
    pull_secrets = wire(spec.image_pull_secrets or []) + wire((model.spec.image_pull_secrets if model else None) or [])
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": labels.COMPONENT_DISCOVERY,  # the container is named after its component
                "image": image,
                "args": ["dry-run", "--format=json"],
                "env": env,
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            }
        ],
    }
    if pull_secrets:
        pod_spec["imagePullSecrets"] = pull_secrets
    if spec.service_account_name:
        pod_spec["serviceAccountName"] = spec.service_account_name
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": observed.operator_namespace if observed.cluster_scoped else template.namespace,
        "labels": job_labels,
    }
    if not observed.cluster_scoped:  # owner references cannot cross namespaces; TTL cleans the rest
        metadata["ownerReferences"] = [owner_reference(template)]
    return {
        "apiVersion": JOB_API,
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": 600,
            "template": {
                "metadata": {"labels": pod_template_labels(template, builder)}
                | ({"annotations": dict(observed.pod_annotations)} if observed.pod_annotations else {}),
                "spec": pod_spec,
            },
        },
    }


def parse_discovery_output(log: str) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """(modelSources, profile) from the last JSON array in a discovery log; None if there is none."""
    decoder = json.JSONDecoder()
    found: list[Any] | None = None
    index = log.find("[")
    while index != -1:
        try:
            value, end = decoder.raw_decode(log, index)
        except ValueError:
            index = log.find("[", index + 1)
            continue
        if isinstance(value, list) and value and isinstance(value[0], dict):
            found = value
        index = log.find("[", end)  # arrays inside this one are not candidates
    if not found:
        return None
    entry = found[0]
    profile = entry.get("profile") or {}
    sources = [
        {
            "modelId": model["name"],
            "sourceUri": model["source"],
            **({"size": binary_quantity(round(float(model["size_gb"]) * GIB))} if model.get("size_gb") else {}),
        }
        for model in entry.get("models") or []
        if model.get("name") and model.get("source")
    ]
    metadata = profile.get("metadata") or {}
    status_profile: dict[str, Any] = {
        "engine_args": profile.get("engine_args"),
        "env_vars": profile.get("env_vars"),
        "metadata": {
            "engine": metadata.get("engine"),
            # Newer images write the accelerator vocabulary; either spelling is read (upstream 0.2.4).
            "gpu": metadata.get("gpu") or metadata.get("accelerator_model"),
            "gpuCount": metadata.get("gpu_count") or metadata.get("accelerator_count"),
            "metric": metadata.get("metric"),
            "precision": metadata.get("precision"),
            "type": metadata.get("type"),
        },
        "originalDiscoveryOutput": entry,
    }
    return sources, _without_none(status_profile)


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    return value


def hardware_summary(hardware: HardwareRequirements | None) -> str | None:
    gpu = hardware.gpu if hardware is not None else None
    models = gpu.allowed_models() if gpu is not None else []
    model = models[0] if models else ""
    count = (gpu.requests if gpu is not None else None) or 0
    if count and model:
        return f"{count} x {model}"
    if model:
        return str(model)
    if hardware is not None and hardware.cpu is not None:
        return "CPU"
    return f"{count} x GPU" if count else None


def model_version(model: AnyModel | None) -> str | None:
    """The template's version, as upstream (0.2.4): its model's image tag (a digest's first
    characters, `latest` when the image names neither); None without a model or an image."""
    image = model.spec.image if model is not None else None
    if not image:
        return None
    try:
        return parse_image_reference(image).version_tag
    except InvalidImageReferenceError:
        return None


def plan_template(observed: TemplateObservation, now: str) -> Plan:
    template = observed.template
    spec = template.spec
    previous = template.stored.get("status") or {}
    plan = Plan()
    components = [runtime_config_component(observed.runtime_config), model_component(observed)]
    gpu, device_ids = gpu_component(template, observed.nodes)
    if gpu is not None:
        components.append(gpu)
    extra: dict[str, Any] = {
        "resolvedRuntimeConfig": resolved_config(observed.runtime_config),
        "resolvedModel": {"name": observed.model.name, "scope": observed.model.scope}
        | (
            {"namespace": template.namespace, "kind": "AIMModel"}
            if observed.model.scope == "Namespace"
            else {"kind": "AIMClusterModel"}
        )
        if observed.model.obj
        else None,
        "resolvedHardware": wire(spec.hardware),
        "hardwareSummary": hardware_summary(spec.hardware),
        "version": model_version(observed.model.obj),
    }
    if device_ids:
        extra["resolvedNodeAffinity"] = {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": labels.GPU_DEVICE_ID, "operator": "In", "values": device_ids}]}
                ]
            }
        }
    if gpu is not None and gpu.state == LifecycleStatus.NOT_AVAILABLE:
        # Nothing could serve it here: no discovery Job until the GPUs appear.
        components.append(
            Component(
                ConditionType.DISCOVERED,
                LifecycleStatus.PENDING,
                Reason.AWAITING_DISCOVERY,
                "Waiting for the GPUs it needs",
            )
        )
    else:
        components.append(_discovery(observed, plan, extra, previous, now))
    if isinstance(template, AIMServiceTemplate) and template.spec.caching and template.spec.caching.enabled:
        plan.apply.append(plan_owned_cache(template))
        extra["resolvedCache"] = {"name": template.name, "kind": "AIMTemplateCache"}
    plan.status = component_status(template, components, now, extra)
    if plan.status.get("status") != previous.get("status") and plan.status["status"] in (
        LifecycleStatus.FAILED,
        LifecycleStatus.NOT_AVAILABLE,
    ):
        ready = next(c for c in plan.status["conditions"] if c["type"] == ConditionType.READY)
        plan.events.append(Event("Warning", ready["reason"], ready["message"]))
    return plan


MAX_CONCURRENT_DISCOVERIES = 10
"""Discovery Jobs running at once in the whole cluster (upstream's MaxConcurrentDiscoveryJobs):
each pulls a model image onto a GPU node; a catalog of hundreds of templates must not start them
all together. Templates reconcile one at a time while they may start one (the kind's descriptor
serialises them, as upstream's Lease `aim-discovery-lock` does), so the count is exact."""
DISCOVERY_SLOT_RETRY_SECONDS = 5.0
DISCOVERY_BACKOFF_BASE_SECONDS = 60.0
DISCOVERY_BACKOFF_MAX_SECONDS = 3600.0


def discovery_backoff(attempts: int) -> float:
    """Seconds before discovery runs again after `attempts` failures: 60 s doubling, at most an
    hour, with no last attempt (upstream's schedule): an image fixed later is still found."""
    if attempts <= 0:
        return 0.0
    return float(min(DISCOVERY_BACKOFF_BASE_SECONDS * 2.0 ** (attempts - 1), DISCOVERY_BACKOFF_MAX_SECONDS))


def recorded_failure(state: dict[str, Any], job: dict[str, Any], spec_hash: str, now: str) -> dict[str, Any]:
    """status.discovery after seeing `job` failed: counted once per Job (one created after the
    last recorded attempt); a different spec starts counting again."""
    if state.get("specHash") != spec_hash:
        state = {}
    created = parse_time(job["metadata"].get("creationTimestamp"))
    last = parse_time(state.get("lastAttemptTime"))
    if last is not None and (created is None or created <= last):
        return state
    return {
        "attempts": int(state.get("attempts") or 0) + 1,
        "lastAttemptTime": now,
        "lastFailureReason": job_failure_message(job),
        "specHash": spec_hash,
    }


def backoff_left(state: dict[str, Any], spec_hash: str, now: str) -> float:
    """Seconds until discovery may run again for this spec (0: now)."""
    if state.get("specHash") != spec_hash:
        return 0.0
    last, current = parse_time(state.get("lastAttemptTime")), parse_time(now)
    if last is None or current is None:
        return 0.0
    return max(0.0, discovery_backoff(int(state.get("attempts") or 0)) - (current - last).total_seconds())


def retry_message(job_name: str, state: dict[str, Any], waiting: float) -> str:
    attempts = int(state.get("attempts") or 0)
    reason = state.get("lastFailureReason") or "the Job failed"
    when = f"retrying in {waiting:.0f} s" if waiting > 0 else "retrying now"
    return f"Discovery Job {job_name} failed (attempt {attempts}): {reason}; {when}"


def _discovery(
    observed: TemplateObservation, plan: Plan, extra: dict[str, Any], previous: dict[str, Any], now: str
) -> Component:
    spec = observed.template.spec
    condition = ConditionType.DISCOVERED
    if spec.model_sources:
        extra["modelSources"] = wire(spec.model_sources)
        gpu = spec.hardware.gpu if spec.hardware is not None else None
        metadata = {
            "gpu": (hardware_summary(spec.hardware) or "").split(" x ")[-1] or None,
            "gpuCount": gpu.requests if gpu is not None else None,
            "metric": wire(spec.metric),
            "precision": wire(spec.precision),
            "type": wire(spec.type),
        }
        extra["profile"] = {"metadata": _without_none(metadata)}
        return Component(
            condition, LifecycleStatus.READY, Reason.INLINE_MODEL_SOURCES, "Model sources provided in-line in spec"
        )
    image = observed.model_image
    if not image:
        return Component(condition, LifecycleStatus.PENDING, Reason.AWAITING_DISCOVERY, "Waiting for the model's image")
    name = discovery_job_name(observed.template, image)
    namespace = observed.operator_namespace if observed.cluster_scoped else observed.template.namespace
    extra["discoveryJob"] = {"name": name, "namespace": namespace, "kind": "Job"}
    finished = job_finished(observed.discovery_job)
    spec_hash = name.rsplit("-", 1)[-1]  # the Job's name ends in the hash of what discovery depends on
    state = previous.get("discovery") or {}
    if state:
        extra["discovery"] = state
    if observed.discovery_job is None:
        if previous.get("modelSources") and (previous.get("discoveryJob") or {}).get("name") == name:
            # Discovered once for this spec and the Job has since been cleaned up: keep the result.
            extra["modelSources"], extra["profile"] = previous["modelSources"], previous.get("profile")
            return Component(condition, LifecycleStatus.READY, Reason.DISCOVERY_COMPLETE, "")
        waiting = backoff_left(state, spec_hash, now)
        if waiting > 0:  # the failed Job is gone (its TTL) before its back-off was over
            plan.requeue_after = waiting
            return Component(
                condition, LifecycleStatus.FAILED, Reason.DISCOVERY_FAILED, retry_message(name, state, waiting)
            )
        if observed.active_discoveries >= MAX_CONCURRENT_DISCOVERIES:
            plan.requeue_after = DISCOVERY_SLOT_RETRY_SECONDS
            return Component(
                condition,
                LifecycleStatus.PENDING,
                Reason.AWAITING_DISCOVERY,
                f"Waiting for a discovery slot: {observed.active_discoveries} discovery Jobs are running"
                f" (at most {MAX_CONCURRENT_DISCOVERIES} in the cluster)",
            )
        plan.apply.append(plan_discovery_job(observed, name, image))
        return Component(
            condition, LifecycleStatus.PROGRESSING, Reason.AWAITING_DISCOVERY, f"Discovery Job {name} created"
        )
    if finished == JobConditionType.FAILED:
        state = recorded_failure(state, observed.discovery_job, spec_hash, now)
        extra["discovery"] = state
        waiting = backoff_left(state, spec_hash, now)
        if waiting > 0:
            plan.requeue_after = waiting
        else:  # back-off over: the next reconcile runs a new Job under the same name
            plan.delete.append(object_ref(observed.discovery_job))
        return Component(
            condition, LifecycleStatus.FAILED, Reason.DISCOVERY_FAILED, retry_message(name, state, waiting)
        )
    if finished != JobConditionType.COMPLETE:
        return Component(
            condition, LifecycleStatus.PROGRESSING, Reason.AWAITING_DISCOVERY, f"Discovery Job {name} is running"
        )
    parsed = parse_discovery_output(observed.discovery_log)
    if parsed is None:
        return Component(
            condition, LifecycleStatus.FAILED, Reason.DISCOVERY_FAILED, f"Discovery Job {name} printed no JSON result"
        )
    extra["modelSources"], extra["profile"] = parsed
    return Component(condition, LifecycleStatus.READY, Reason.DISCOVERY_COMPLETE, f"{len(parsed[0])} model source(s)")


def plan_owned_cache(template: AIMServiceTemplate) -> dict[str, Any]:
    """The AIMTemplateCache a namespaced template with caching enabled owns (same name, Shared)."""
    spec = template.spec
    return owned_cache(
        template,
        labels.V1ALPHA1,
        "AIMTemplateCache",
        "template",
        env=wire(spec.caching.env) if spec.caching else None,
        runtimeConfigName=spec.runtime_config_name,
    )


def may_start_discovery(template: dict[str, Any]) -> bool:
    """Whether a reconcile of this template may start a discovery Job (not Ready, no inline
    sources): those reconciles run one at a time so the cluster-wide limit holds."""
    if (template.get("spec") or {}).get("modelSources"):
        return False
    return bool((template.get("status") or {}).get("status") != LifecycleStatus.READY)

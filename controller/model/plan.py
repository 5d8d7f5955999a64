"""AIMModel / AIMClusterModel: image labels, custom sources and official templates in; the model's
templates and status out (pure).

* Image models: the image's labels (read once from the registry: manifest and config, never layers)
  become status.imageMetadata, and each recommended deployment becomes a template.
* Custom models (`spec.modelSources`): the base image is looked up once (it must exist; AIM labels
  are not needed); one template from the spec, or one per `customTemplates` entry, `unoptimized`
  unless said otherwise.
* Fine-tuned models (`spec.aimId` + `spec.modelSources`): a copy of every official template of the
  same AIM family that serves one of the model's sources, deploying the family's base image rebased
  onto the registry the official model came from.

Templates are owned by the model (garbage-collected with it) and never deleted because discovery or
creation was switched off; fine-tuned copies follow the official templates they copy. The model's
ServiceTemplatesReady aggregates every template that names it, its own and others'.
"""

from __future__ import annotations

from typing import Any

import semver

from api import labels, naming
from api.conditions import ConditionType, Reason
from api.naming import rfc1123
from api.v1alpha1.common import LifecycleStatus, gpu_models, template_hardware
from controller.catalog.imageref import (
    InvalidImageReferenceError,
    legacy_base_image,
    parse_image_reference,
    with_registry_and_org,
)
from controller.catalog.labels import has_aim_labels, parse_image_labels
from controller.common.runtimeconfig import merge_env, runtime_config_component
from controller.model.observe import ModelObservation
from controller.pipeline.components import Component, component_status
from controller.pipeline.objects import child_labels
from controller.pipeline.plan import Event, ObjectRef, Plan, owner_reference

ORIGIN_LABEL = labels.ORIGIN  # imported by tests/unit/controller/test_model_plan.py
DEPLOYMENT_IMAGE = labels.DEPLOYMENT_IMAGE  # imported by tests/unit/controller/test_model_plan.py
NO_AIM_LABELS = "The image is reachable but carries no AIM labels: no templates are generated"
BASE_IMAGE_FOUND = "Base image found in its registry"


def template_kind(observed: ModelObservation) -> str:
    return "AIMClusterServiceTemplate" if observed.cluster_scoped else "AIMServiceTemplate"


def is_custom(model: dict[str, Any]) -> bool:
    return bool((model.get("spec") or {}).get("modelSources"))


def is_fine_tuned(model: dict[str, Any]) -> bool:
    return is_custom(model) and bool((model.get("spec") or {}).get("aimId"))


def _discovery(model: dict[str, Any]) -> dict[str, Any]:
    return (model.get("spec") or {}).get("discovery") or {}


# -- image metadata ------------------------------------------------------------------------------


def needs_lookup(model: dict[str, Any]) -> bool:
    """Whether the fetch step must read the image's labels from its registry (once per model).
    Custom models too, as upstream: their base image must exist before templates that run it are
    made, and a missing one degrades the model and, through it, its templates."""
    spec = model.get("spec") or {}
    return (
        bool(spec.get("image"))
        and _discovery(model).get("extractMetadata", True) is not False
        and not spec.get("imageMetadata")
        and (model.get("status") or {}).get("imageMetadata") is None  # {} is an answer: no labels at all
    )


def _without_aim_labels(model: dict[str, Any]) -> Component:
    """An image without AIM labels is found (True, as upstream): all a custom model's base image
    needs to be (its templates come from its spec); an image model then has no templates."""
    message = BASE_IMAGE_FOUND if is_custom(model) else NO_AIM_LABELS
    return Component(ConditionType.IMAGE_METADATA_READY, LifecycleStatus.READY, Reason.IMAGE_FOUND, message)


def _metadata(observed: ModelObservation, extra: dict[str, Any], plan: Plan) -> list[Component]:
    """ImageMetadataReady (plus AuthValid / DependenciesReachable when the registry said no)."""
    model = observed.model
    spec = model.get("spec") or {}
    condition = ConditionType.IMAGE_METADATA_READY
    if spec.get("imageMetadata"):
        extra["imageMetadata"] = spec["imageMetadata"]
        return [
            Component(condition, LifecycleStatus.READY, Reason.IMAGE_METADATA_FOUND, "Provided in spec.imageMetadata")
        ]
    previous = (model.get("status") or {}).get("imageMetadata")
    if previous is not None:  # read once; the image's labels do not change under a tag we already read
        extra["imageMetadata"] = previous
        if not has_aim_labels(previous.get("originalLabels") or {}):
            return [_without_aim_labels(model)]
        return [
            Component(condition, LifecycleStatus.READY, Reason.IMAGE_METADATA_FOUND, "Read from the image's labels")
        ]
    if _discovery(model).get("extractMetadata", True) is False or not spec.get("image"):
        return []  # nothing to read (a fine-tuned model that follows its family's versions has no image)
    if observed.missing_secrets:
        names = ", ".join(observed.missing_secrets)
        return [
            Component(
                condition,
                LifecycleStatus.FAILED,
                Reason.SECRET_NOT_FOUND,
                f"spec.imagePullSecrets: no Secret named {names}",
            )
        ]
    lookup = observed.lookup
    if lookup is None:
        return [
            Component(condition, LifecycleStatus.PROGRESSING, Reason.AWAITING_METADATA, "Reading the image's labels")
        ]
    if lookup.error:
        plan.requeue_after = observed.retry_seconds.get(lookup.error)
        components = [Component(condition, LifecycleStatus.DEGRADED, Reason.METADATA_EXTRACTION_FAILED, lookup.message)]
        if lookup.error == "unauthorized":
            components = [
                Component(condition, LifecycleStatus.FAILED, Reason.METADATA_EXTRACTION_FAILED, lookup.message),
                Component(ConditionType.AUTH_VALID, LifecycleStatus.FAILED, Reason.AUTH_ERROR, lookup.message),
            ]
        elif lookup.error == "unreachable":
            components.append(
                Component(
                    ConditionType.DEPENDENCIES_REACHABLE,
                    LifecycleStatus.DEGRADED,
                    Reason.INFRASTRUCTURE_ERROR,
                    lookup.message,
                )
            )
        elif lookup.error == "invalid":
            components = [
                Component(condition, LifecycleStatus.FAILED, Reason.METADATA_EXTRACTION_FAILED, lookup.message)
            ]
            plan.requeue_after = None
        return components
    parsed = parse_image_labels(lookup.labels, lookup.env)
    if parsed.error:
        return [Component(condition, LifecycleStatus.FAILED, Reason.METADATA_EXTRACTION_FAILED, parsed.error)]
    extra["imageMetadata"] = parsed.metadata or {"originalLabels": {}}
    if not parsed.has_aim_labels:
        return [_without_aim_labels(model)]
    return [Component(condition, LifecycleStatus.READY, Reason.IMAGE_METADATA_FOUND, "Read from the image's labels")]


# -- templates -----------------------------------------------------------------------------------


def cpu_resources(hardware: dict[str, Any] | None) -> dict[str, Any] | None:
    """A CPU template's container resources, from its hardware: requests, and limits when given."""
    cpu = (hardware or {}).get("cpu") or {}
    if not cpu.get("requests"):
        return None
    resources: dict[str, Any] = {"requests": {"cpu": cpu["requests"]}}
    if cpu.get("limits"):
        resources["limits"] = {"cpu": cpu["limits"]}
    return resources


def _template(
    observed: ModelObservation, name: str, origin: str, spec: dict[str, Any], **extra_labels: str
) -> dict[str, Any]:
    model = observed.model
    metadata: dict[str, Any] = {
        "name": name,
        "labels": child_labels(
            model,
            {
                labels.MANAGED_BY: labels.MANAGED_BY_VALUE,
                labels.MODEL: rfc1123(model["metadata"]["name"]),
                labels.ORIGIN: origin,
            }
            | extra_labels,
        ),
        "ownerReferences": [owner_reference(model)],
    }
    if not observed.cluster_scoped:
        metadata["namespace"] = model["metadata"]["namespace"]
    inherited = {
        key: (model.get("spec") or {})[key]
        for key in ("runtimeConfigName", "imagePullSecrets", "serviceAccountName")
        if (model.get("spec") or {}).get(key)
    }
    return {
        "apiVersion": labels.V1ALPHA1,
        "kind": template_kind(observed),
        "metadata": metadata,
        "spec": {"modelName": model["metadata"]["name"]} | inherited | {k: v for k, v in spec.items() if v},
    }


def _model_env(observed: ModelObservation) -> list[dict[str, Any]] | None:
    # Cluster templates carry no env of the model: its values may reference Secrets of one namespace.
    return None if observed.cluster_scoped else (observed.model.get("spec") or {}).get("env")


def template_sources(sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """v1alpha2 model sources as v1alpha1 template sources (which have no precision)."""
    return [{k: v for k, v in source.items() if k != "precision"} for source in sources]


def plan_deployment_templates(observed: ModelObservation, metadata: dict[str, Any]) -> list[dict[str, Any]]:
    model = observed.model
    image = (model.get("spec") or {}).get("image", "")
    try:
        image_name = parse_image_reference(image).name
    except InvalidImageReferenceError:
        image_name = model["metadata"]["name"]
    templates = []
    for deployment in (metadata.get("model") or {}).get("recommendedDeployments") or []:
        gpu, count = deployment.get("gpuModel") or "", int(deployment.get("gpuCount") or 0)
        metric, precision = deployment.get("metric") or "", deployment.get("precision") or ""
        name = naming.recommended_template_name(
            image_name, model["metadata"]["name"], image, gpu, count, metric, precision
        )
        spec: dict[str, Any] = {
            "metric": metric,
            "precision": precision,
            "profileId": deployment.get("profileId"),
            "env": _model_env(observed),
        }
        if gpu and count > 0:
            spec["hardware"] = {"gpu": {"model": gpu, "requests": count}}
        templates.append(_template(observed, name, labels.ORIGIN_AUTO_GENERATED, spec))
    return templates


def _merged_hardware(base: dict[str, Any] | None, entry: dict[str, Any] | None) -> dict[str, Any] | None:
    """Field-wise: the entry's gpu/cpu fields win over the model's."""
    if not base and not entry:
        return None
    merged: dict[str, Any] = {}
    for part in ("gpu", "cpu"):
        value = dict((base or {}).get(part) or {}) | dict((entry or {}).get(part) or {})
        if value:
            merged[part] = value
    return merged


def plan_custom_templates(observed: ModelObservation) -> list[dict[str, Any]]:
    model = observed.model
    spec = model.get("spec") or {}
    custom = spec.get("custom") or {}
    model_name = model["metadata"]["name"]
    entries = spec.get("customTemplates") or []
    sources = template_sources(spec.get("modelSources") or []) if is_custom(model) else None
    if not entries:
        if not is_custom(model):
            return []
        # "custom" is in their names (as upstream names them); their origin label is
        # auto-generated, as upstream labels every template the controller generates from a model.
        name = naming.custom_template_name(model_name, labels.ORIGIN_CUSTOM, custom.get("hardware"))
        single_hardware = template_hardware(custom.get("hardware"))
        single_spec: dict[str, Any] = {
            "hardware": single_hardware,
            "type": custom.get("type") or "unoptimized",
            "modelSources": sources,
            "env": _model_env(observed),
        }
        if resources := cpu_resources(single_hardware):
            single_spec["resources"] = resources
        return [_template(observed, name, labels.ORIGIN_AUTO_GENERATED, single_spec)]
    templates = []
    for index, entry in enumerate(entries):
        hardware = _merged_hardware(custom.get("hardware"), entry.get("hardware"))
        profile = entry.get("profile") or {}
        gpu = (hardware or {}).get("gpu") or {}
        name = naming.custom_entry_template_name(
            model_name,
            labels.ORIGIN_CUSTOM,
            index,
            entry.get("name"),
            profile.get("precision"),
            profile.get("metric"),
            (gpu_models(gpu) or [""])[0],
            hardware,
        )
        env = entry.get("env") if observed.cluster_scoped else merge_env(spec.get("env") or [], entry.get("env") or [])
        template_spec: dict[str, Any] = {
            "hardware": template_hardware(hardware),
            "type": entry.get("type") or custom.get("type") or "unoptimized",
            "metric": profile.get("metric"),
            "precision": profile.get("precision"),
            "modelSources": sources,
            "env": env or None,
            "aimId": entry.get("aimId"),
            "modelId": entry.get("modelId"),
            "customProfile": entry.get("customProfile"),
        }
        if resources := cpu_resources(template_spec["hardware"]):
            template_spec["resources"] = resources
        alias = {labels.TEMPLATE_ALIAS: rfc1123(entry["name"])} if entry.get("name") else {}
        templates.append(_template(observed, name, labels.ORIGIN_AUTO_GENERATED, template_spec, **alias))
    return templates


# -- fine-tuned copies ---------------------------------------------------------------------------


def _tag(image: str) -> str:
    try:
        return parse_image_reference(image).version_tag
    except InvalidImageReferenceError:
        return ""


def _semver(tag: str) -> semver.Version | None:
    text = tag.removeprefix("v")
    if text.count(".") == 1:
        text += ".0"
    try:
        return semver.Version.parse(text)
    except ValueError:
        return None


def _owner(observed: ModelObservation, template: dict[str, Any]) -> dict[str, Any] | None:
    for ref in template["metadata"].get("ownerReferences") or []:
        if ref.get("kind") in ("AIMModel", "AIMClusterModel"):
            return observed.template_owners.get(f"{ref['kind']}/{ref['name']}")
    return None


def template_version(observed: ModelObservation, template: dict[str, Any]) -> str:
    """The AIM version of an official template: the tag of the image of the model that owns it."""
    owner = _owner(observed, template)
    return _tag(((owner or {}).get("spec") or {}).get("image", "")) if owner else ""


def deployment_image(observed: ModelObservation, template: dict[str, Any]) -> str | None:
    """The image a fine-tuned copy runs: the model's own image when pinned to it, else the official
    family's base image, rebased onto the registry and organisation the official model came from."""
    spec = observed.model.get("spec") or {}
    policy = (spec.get("custom") or {}).get("versionPolicy") or "pinned"
    if policy == "pinned" and spec.get("image"):
        return str(spec["image"])
    owner = _owner(observed, template)
    if owner is None:
        return None
    owner_image = (owner.get("spec") or {}).get("image") or ""
    base = (((owner.get("status") or {}).get("imageMetadata") or {}).get("baseImageRef")) or legacy_base_image(
        owner_image
    )
    if not base or not owner_image:
        return None
    try:
        return with_registry_and_org(base, owner_image)
    except InvalidImageReferenceError:
        return None


def fine_tune_candidates(observed: ModelObservation) -> list[dict[str, Any]]:
    """Official templates of the model's AIM family, filtered by versionPolicy and by the model
    ids of the model's sources."""
    spec = observed.model.get("spec") or {}
    policy = (spec.get("custom") or {}).get("versionPolicy") or "pinned"
    model_ids = {s.get("modelId") for s in spec.get("modelSources") or []}
    candidates = [
        t
        for t in observed.official_templates
        if (t.get("spec") or {}).get("aimId") == spec.get("aimId")
        and (t["metadata"].get("labels") or {}).get(labels.ORIGIN) != labels.ORIGIN_FINE_TUNED
        and (t.get("spec") or {}).get("modelId") in model_ids
    ]
    if policy == "pinned":
        wanted = _tag(spec.get("image") or "")
        return [t for t in candidates if wanted and template_version(observed, t) == wanted]
    if policy == "latest":
        versions = {id(t): _semver(template_version(observed, t)) for t in candidates}
        newest = max((v for v in versions.values() if v is not None), default=None)
        return [t for t in candidates if newest is not None and versions[id(t)] == newest]
    return candidates


def plan_fine_tuned_templates(observed: ModelObservation) -> tuple[list[dict[str, Any]], list[str]]:
    """(copies, names of candidates skipped because their image cannot be resolved yet)."""
    spec = observed.model.get("spec") or {}
    model_name = observed.model["metadata"]["name"]
    copies, skipped = [], []
    for template in fine_tune_candidates(observed):
        image = deployment_image(observed, template)
        if image is None:
            skipped.append(template["metadata"]["name"])
            continue
        source_spec = template.get("spec") or {}
        source = next(s for s in spec.get("modelSources") or [] if s.get("modelId") == source_spec.get("modelId"))
        gpu = gpu_models((source_spec.get("hardware") or {}).get("gpu")) or [""]
        version = template_version(observed, template)
        name = naming.fine_tuned_template_name(
            model_name,
            version,
            source_spec.get("precision") or "",
            gpu[0],
            template["kind"],
            template["metadata"]["name"],
            image,
        )
        copy_spec: dict[str, Any] = {
            "aimId": source_spec.get("aimId"),
            "modelId": source_spec.get("modelId"),
            "hardware": source_spec.get("hardware"),
            "metric": source_spec.get("metric"),
            "precision": source_spec.get("precision"),
            "type": source_spec.get("type"),
            "profileId": source_spec.get("profileId"),
            "customProfile": source_spec.get("customProfile"),
            "modelSources": template_sources([source]),
            "env": merge_env(source_spec.get("env") or [], _model_env(observed) or []) or None,
            "resources": source_spec.get("resources"),
        }
        for key in ("runtimeConfigName", "imagePullSecrets", "serviceAccountName"):
            if source_spec.get(key) and not spec.get(key):
                copy_spec[key] = source_spec[key]
        copy = _template(observed, name, labels.ORIGIN_FINE_TUNED, copy_spec)
        copy["metadata"]["annotations"] = {labels.DEPLOYMENT_IMAGE: image}
        copies.append(copy)
    return copies, skipped


# -- status --------------------------------------------------------------------------------------


def templates_component(
    observed: ModelObservation, desired: list[dict[str, Any]], awaiting_metadata: bool
) -> Component:
    condition = (
        ConditionType.CLUSTER_SERVICE_TEMPLATES_READY
        if observed.cluster_scoped
        else ConditionType.SERVICE_TEMPLATES_READY
    )
    if awaiting_metadata:
        return Component(
            condition, LifecycleStatus.PROGRESSING, Reason.AWAITING_METADATA, "Waiting for the image's metadata"
        )
    # Every template that names the model counts, owned or not, as upstream aggregates them.
    naming = observed.templates
    if not desired and not naming and is_fine_tuned(observed.model):
        # As upstream: a fine-tuned model expects copies of its family's templates; until one
        # exists to copy, it is still on its way, not done.
        aim_id = (observed.model.get("spec") or {}).get("aimId")
        message = f"No official template of aimId {aim_id} to copy yet"
        return Component(condition, LifecycleStatus.PROGRESSING, Reason.CREATING_TEMPLATES, message)
    if not desired and not naming:
        return Component(condition, LifecycleStatus.READY, Reason.NO_TEMPLATES_EXPECTED, "No templates to create")
    existing = {t["metadata"]["name"] for t in naming}
    missing = [t["metadata"]["name"] for t in desired if t["metadata"]["name"] not in existing]
    if missing:
        return Component(
            condition, LifecycleStatus.PROGRESSING, Reason.CREATING_TEMPLATES, f"Creating {len(missing)} template(s)"
        )
    states = [((t.get("status") or {}).get("status") or LifecycleStatus.PENDING) for t in naming]
    count = len(states)
    if all(s == LifecycleStatus.READY for s in states):
        return Component(condition, LifecycleStatus.READY, Reason.ALL_TEMPLATES_READY, f"{count} template(s) Ready")
    if all(s == LifecycleStatus.FAILED for s in states):
        return Component(
            condition, LifecycleStatus.FAILED, Reason.ALL_TEMPLATES_FAILED, f"All {count} template(s) failed"
        )
    if all(s == LifecycleStatus.NOT_AVAILABLE for s in states):
        return Component(
            condition,
            LifecycleStatus.NOT_AVAILABLE,
            Reason.NO_TEMPLATES_AVAILABLE,
            f"No GPU in the cluster fits any of {count} template(s)",
        )
    if LifecycleStatus.DEGRADED in states or (LifecycleStatus.FAILED in states and LifecycleStatus.READY not in states):
        # Some failed and none serves: not a clean Failed (others may still come good).
        return Component(
            condition, LifecycleStatus.DEGRADED, Reason.SOME_TEMPLATES_DEGRADED, "Some templates are degraded"
        )
    if any(s in (LifecycleStatus.PENDING, LifecycleStatus.PROGRESSING) for s in states):
        return Component(
            condition, LifecycleStatus.PROGRESSING, Reason.TEMPLATES_PROGRESSING, "Templates are being prepared"
        )
    ready = states.count(LifecycleStatus.READY)
    return Component(
        condition, LifecycleStatus.READY, Reason.SOME_TEMPLATES_READY, f"{ready} of {count} template(s) Ready"
    )


def _owned(template: dict[str, Any], model: dict[str, Any]) -> bool:
    return any(ref.get("uid") == model["metadata"]["uid"] for ref in template["metadata"].get("ownerReferences") or [])


def plan_model(observed: ModelObservation, now: str) -> Plan:
    model = observed.model
    previous = model.get("status") or {}
    plan = Plan()
    extra: dict[str, Any] = {"sourceType": "Custom" if is_custom(model) else "Image"}
    config = runtime_config_component(observed.runtime_config)
    if observed.runtime_config.scope:
        extra["resolvedRuntimeConfig"] = {"name": observed.runtime_config.name, "scope": observed.runtime_config.scope}
    components = [config, *_metadata(observed, extra, plan)]
    blocked = any(c.state in (LifecycleStatus.FAILED, LifecycleStatus.DEGRADED) for c in components)
    awaiting = any(c.reason == Reason.AWAITING_METADATA for c in components)
    desired: list[dict[str, Any]] = []
    if not blocked and not awaiting:
        metadata = extra.get("imageMetadata")
        if metadata and _discovery(model).get("createServiceTemplates", True) is not False and not is_custom(model):
            desired += plan_deployment_templates(observed, metadata)
        if is_fine_tuned(model):
            copies, skipped = plan_fine_tuned_templates(observed)
            desired += copies
            if skipped:
                plan.requeue_after = 60.0  # the official model's metadata may not be read yet
            wanted = {t["metadata"]["name"] for t in copies}
            plan.delete += [
                ObjectRef(labels.V1ALPHA1, t["kind"], t["metadata"]["name"], t["metadata"].get("namespace", ""))
                for t in observed.templates
                if (t["metadata"].get("labels") or {}).get(labels.ORIGIN) == labels.ORIGIN_FINE_TUNED
                and _owned(t, model)
                and t["metadata"]["name"] not in wanted
            ]
        else:
            desired += plan_custom_templates(observed)
        plan.apply += desired
    # While the metadata cannot be read, templates are neither expected nor ruled out.
    components.append(templates_component(observed, desired, awaiting or blocked))
    plan.status = component_status(model, components, now, extra)
    if plan.status["status"] != previous.get("status") and plan.status["status"] in (
        LifecycleStatus.FAILED,
        LifecycleStatus.DEGRADED,
    ):
        ready = next(c for c in plan.status["conditions"] if c["type"] == ConditionType.READY)
        plan.events.append(Event("Warning", ready["reason"], ready["message"]))
    return plan

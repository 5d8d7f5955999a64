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
from api.objects import wire
from api.v1alpha1.aimmodel import ImageMetadata
from api.v1alpha1.aimservicetemplate import AnyServiceTemplate
from api.v1alpha1.common import LifecycleStatus, gpu_models, template_hardware
from api.v1alpha2.aimmodel import AnyModel
from api.v1alpha2.common import HardwareRequirements, ModelSource
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
from controller.pipeline.plan import Event, ObjectRef, Plan, owned_by, owner_reference

ORIGIN_LABEL = labels.ORIGIN  # imported by tests/unit/controller/test_model_plan.py
DEPLOYMENT_IMAGE = labels.DEPLOYMENT_IMAGE  # imported by tests/unit/controller/test_model_plan.py
NO_AIM_LABELS = "The image is reachable but carries no AIM labels: no templates are generated"
BASE_IMAGE_FOUND = "Base image found in its registry"


def template_kind(observed: ModelObservation) -> str:
    return "AIMClusterServiceTemplate" if observed.cluster_scoped else "AIMServiceTemplate"


def is_custom(model: AnyModel) -> bool:
    return bool(model.spec.model_sources)


def is_fine_tuned(model: AnyModel) -> bool:
    return is_custom(model) and bool(model.spec.aim_id)


def _extracts_metadata(model: AnyModel) -> bool:
    discovery = model.spec.discovery
    return discovery is None or discovery.extract_metadata


def _creates_templates(model: AnyModel) -> bool:
    discovery = model.spec.discovery
    return discovery is None or discovery.create_service_templates


def _version_policy(model: AnyModel) -> str:
    custom = model.spec.custom
    return (custom.version_policy if custom is not None else None) or "pinned"


# -- image metadata ------------------------------------------------------------------------------


def _given_metadata(model: AnyModel) -> ImageMetadata | None:
    """spec.imageMetadata when it says anything (`{}` says nothing: the image is read)."""
    given = model.spec.image_metadata
    return given if given is not None and given.model_fields_set else None


def _read_metadata(model: AnyModel) -> ImageMetadata | None:
    """status.imageMetadata: what an earlier reconcile read from the image ({} is an answer too)."""
    return model.status.image_metadata if model.status is not None else None


def needs_lookup(model: AnyModel) -> bool:
    """Whether the fetch step must read the image's labels from its registry (once per model).
    Custom models too, as upstream: their base image must exist before templates that run it are
    made, and a missing one degrades the model and, through it, its templates."""
    return (
        bool(model.spec.image)
        and _extracts_metadata(model)
        and _given_metadata(model) is None
        and _read_metadata(model) is None
    )


def _without_aim_labels(model: AnyModel) -> Component:
    """An image without AIM labels is found (True, as upstream): all a custom model's base image
    needs to be (its templates come from its spec); an image model then has no templates."""
    message = BASE_IMAGE_FOUND if is_custom(model) else NO_AIM_LABELS
    return Component(ConditionType.IMAGE_METADATA_READY, LifecycleStatus.READY, Reason.IMAGE_FOUND, message)


def _metadata(observed: ModelObservation, plan: Plan) -> tuple[list[Component], ImageMetadata | None]:
    """ImageMetadataReady (plus AuthValid / DependenciesReachable when the registry said no), and
    the image metadata the status carries (given in the spec, read before, or read now), if any."""
    model = observed.model
    condition = ConditionType.IMAGE_METADATA_READY
    given = _given_metadata(model)
    if given is not None:
        found = Component(
            condition, LifecycleStatus.READY, Reason.IMAGE_METADATA_FOUND, "Provided in spec.imageMetadata"
        )
        return [found], given
    previous = _read_metadata(model)
    if previous is not None:  # read once; the image's labels do not change under a tag we already read
        if not has_aim_labels(previous.original_labels or {}):
            return [_without_aim_labels(model)], previous
        found = Component(condition, LifecycleStatus.READY, Reason.IMAGE_METADATA_FOUND, "Read from the image's labels")
        return [found], previous
    if not _extracts_metadata(model) or not model.spec.image:
        return [], None  # nothing to read (a fine-tuned model that follows its family's versions has no image)
    if observed.missing_secrets:
        names = ", ".join(observed.missing_secrets)
        return [
            Component(
                condition,
                LifecycleStatus.FAILED,
                Reason.SECRET_NOT_FOUND,
                f"spec.imagePullSecrets: no Secret named {names}",
            )
        ], None
    lookup = observed.lookup
    if lookup is None:
        return [
            Component(condition, LifecycleStatus.PROGRESSING, Reason.AWAITING_METADATA, "Reading the image's labels")
        ], None
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
        return components, None
    parsed = parse_image_labels(lookup.labels, lookup.env)
    if parsed.error:
        return [Component(condition, LifecycleStatus.FAILED, Reason.METADATA_EXTRACTION_FAILED, parsed.error)], None
    metadata = ImageMetadata.model_validate(parsed.metadata or {"originalLabels": {}})
    if not parsed.has_aim_labels:
        return [_without_aim_labels(model)], metadata
    found = Component(condition, LifecycleStatus.READY, Reason.IMAGE_METADATA_FOUND, "Read from the image's labels")
    return [found], metadata


# -- templates -----------------------------------------------------------------------------------


def cpu_resources(hardware: dict[str, Any] | None) -> dict[str, Any] | None:
    """A CPU template's container resources, from the hardware written on it (quantities already
    canonical): requests, and limits when given."""
    cpu = hardware.get("cpu") if hardware else None
    if not cpu or not cpu.get("requests"):
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
                labels.MODEL: rfc1123(model.name),
                labels.ORIGIN: origin,
            }
            | extra_labels,
        ),
        "ownerReferences": [owner_reference(model)],
    }
    if not observed.cluster_scoped:
        metadata["namespace"] = model.namespace
    own = model.spec
    inherited = {
        key: value
        for key, value in (
            ("runtimeConfigName", own.runtime_config_name),
            ("imagePullSecrets", wire(own.image_pull_secrets)),
            ("serviceAccountName", own.service_account_name),
        )
        if value
    }
    return {
        "apiVersion": labels.V1ALPHA1,
        "kind": template_kind(observed),
        "metadata": metadata,
        "spec": {"modelName": model.name} | inherited | {k: v for k, v in spec.items() if v},
    }


def _model_env(observed: ModelObservation) -> list[dict[str, Any]] | None:
    # Cluster templates carry no env of the model: its values may reference Secrets of one namespace.
    return None if observed.cluster_scoped else wire(observed.model.spec.env)


def template_sources(sources: list[ModelSource]) -> list[dict[str, Any]]:
    """v1alpha2 model sources as v1alpha1 template sources (which have no precision)."""
    return [{k: v for k, v in wire(source).items() if k != "precision"} for source in sources]


def plan_deployment_templates(observed: ModelObservation, metadata: ImageMetadata) -> list[dict[str, Any]]:
    model = observed.model
    image = model.spec.image or ""
    try:
        image_name = parse_image_reference(image).name
    except InvalidImageReferenceError:
        image_name = model.name
    deployments = metadata.model.recommended_deployments if metadata.model is not None else None
    templates = []
    for deployment in deployments or []:
        gpu, count = deployment.gpu_model or "", int(deployment.gpu_count or 0)
        metric, precision = deployment.metric or "", deployment.precision or ""
        name = naming.recommended_template_name(image_name, model.name, image, gpu, count, metric, precision)
        spec: dict[str, Any] = {
            "metric": metric,
            "precision": precision,
            "profileId": deployment.profile_id,
            "env": _model_env(observed),
        }
        if gpu and count > 0:
            spec["hardware"] = {"gpu": {"model": gpu, "requests": count}}
        templates.append(_template(observed, name, labels.ORIGIN_AUTO_GENERATED, spec))
    return templates


def _merged_hardware(base: HardwareRequirements | None, entry: HardwareRequirements | None) -> dict[str, Any] | None:
    """Field-wise: the entry's gpu/cpu fields win over the model's. In wire form: it is written on
    the template and hashed into its name."""
    if base is None and entry is None:
        return None
    merged: dict[str, Any] = {}
    for part, base_part, entry_part in (
        ("gpu", base.gpu if base is not None else None, entry.gpu if entry is not None else None),
        ("cpu", base.cpu if base is not None else None, entry.cpu if entry is not None else None),
    ):
        value = dict(wire(base_part) or {}) | dict(wire(entry_part) or {})
        if value:
            merged[part] = value
    return merged


def plan_custom_templates(observed: ModelObservation) -> list[dict[str, Any]]:
    model = observed.model
    spec = model.spec
    custom = spec.custom
    base_hardware = custom.hardware if custom is not None else None
    base_type = custom.type if custom is not None else None
    entries = spec.custom_templates or []
    sources = template_sources(spec.model_sources or []) if is_custom(model) else None
    if not entries:
        if not is_custom(model):
            return []
        # "custom" is in their names (as upstream names them); their origin label is
        # auto-generated, as upstream labels every template the controller generates from a model.
        name = naming.custom_template_name(model.name, labels.ORIGIN_CUSTOM, wire(base_hardware))
        single_hardware = template_hardware(wire(base_hardware))
        single_spec: dict[str, Any] = {
            "hardware": single_hardware,
            "type": wire(base_type) or "unoptimized",
            "modelSources": sources,
            "env": _model_env(observed),
        }
        if resources := cpu_resources(single_hardware):
            single_spec["resources"] = resources
        return [_template(observed, name, labels.ORIGIN_AUTO_GENERATED, single_spec)]
    templates = []
    for index, entry in enumerate(entries):
        hardware = _merged_hardware(base_hardware, entry.hardware)
        profile = entry.profile
        metric = profile.metric if profile is not None else None
        precision = profile.precision if profile is not None else None
        name = naming.custom_entry_template_name(
            model.name,
            labels.ORIGIN_CUSTOM,
            index,
            entry.name,
            precision,
            metric,
            (gpu_models(hardware.get("gpu") if hardware else None) or [""])[0],
            hardware,
        )
        env = wire(entry.env) if observed.cluster_scoped else merge_env(wire(spec.env) or [], wire(entry.env) or [])
        template_spec: dict[str, Any] = {
            "hardware": template_hardware(hardware),
            "type": wire(entry.type or base_type) or "unoptimized",
            "metric": wire(metric),
            "precision": wire(precision),
            "modelSources": sources,
            "env": env or None,
            "aimId": entry.aim_id,
            "modelId": entry.model_id,
            "customProfile": wire(entry.custom_profile),
        }
        if resources := cpu_resources(template_spec["hardware"]):
            template_spec["resources"] = resources
        alias = {labels.TEMPLATE_ALIAS: rfc1123(entry.name)} if entry.name else {}
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


def _owner(observed: ModelObservation, template: AnyServiceTemplate) -> AnyModel | None:
    for ref in template.metadata.get("ownerReferences") or []:
        if ref.get("kind") in ("AIMModel", "AIMClusterModel"):
            return observed.template_owners.get(f"{ref['kind']}/{ref['name']}")
    return None


def template_version(observed: ModelObservation, template: AnyServiceTemplate) -> str:
    """The AIM version of an official template: the tag of the image of the model that owns it."""
    owner = _owner(observed, template)
    return _tag(owner.spec.image or "") if owner is not None else ""


def deployment_image(observed: ModelObservation, template: AnyServiceTemplate) -> str | None:
    """The image a fine-tuned copy runs: the model's own image when pinned to it, else the official
    family's base image, rebased onto the registry and organisation the official model came from."""
    image = observed.model.spec.image
    if _version_policy(observed.model) == "pinned" and image:
        return image
    owner = _owner(observed, template)
    if owner is None:
        return None
    owner_image = owner.spec.image or ""
    read = _read_metadata(owner)
    base = (read.base_image_ref if read is not None else None) or legacy_base_image(owner_image)
    if not base or not owner_image:
        return None
    try:
        return with_registry_and_org(base, owner_image)
    except InvalidImageReferenceError:
        return None


def fine_tune_candidates(observed: ModelObservation) -> list[AnyServiceTemplate]:
    """Official templates of the model's AIM family, filtered by versionPolicy and by the model
    ids of the model's sources."""
    spec = observed.model.spec
    policy = _version_policy(observed.model)
    model_ids = {s.model_id for s in spec.model_sources or []}
    candidates = [
        t
        for t in observed.official_templates
        if t.spec.aim_id == spec.aim_id
        and t.labels.get(labels.ORIGIN) != labels.ORIGIN_FINE_TUNED
        and t.spec.model_id in model_ids
    ]
    if policy == "pinned":
        wanted = _tag(spec.image or "")
        return [t for t in candidates if wanted and template_version(observed, t) == wanted]
    if policy == "latest":
        versions = {id(t): _semver(template_version(observed, t)) for t in candidates}
        newest = max((v for v in versions.values() if v is not None), default=None)
        return [t for t in candidates if newest is not None and versions[id(t)] == newest]
    return candidates


def plan_fine_tuned_templates(observed: ModelObservation) -> tuple[list[dict[str, Any]], list[str]]:
    """(copies, names of candidates skipped because their image cannot be resolved yet)."""
    spec = observed.model.spec
    copies, skipped = [], []
    for template in fine_tune_candidates(observed):
        image = deployment_image(observed, template)
        if image is None:
            skipped.append(template.name)
            continue
        official = template.spec
        source = next(s for s in spec.model_sources or [] if s.model_id == official.model_id)
        gpu = official.hardware.gpu if official.hardware is not None else None
        allowed = gpu.allowed_models() if gpu is not None else []
        name = naming.fine_tuned_template_name(
            observed.model.name,
            template_version(observed, template),
            official.precision or "",
            (allowed or [""])[0],
            template.kind or "",
            template.name,
            image,
        )
        copy_spec: dict[str, Any] = {
            "aimId": official.aim_id,
            "modelId": official.model_id,
            "hardware": wire(official.hardware),
            "metric": wire(official.metric),
            "precision": wire(official.precision),
            "type": wire(official.type),
            "profileId": official.profile_id,
            "customProfile": wire(official.custom_profile),
            "modelSources": template_sources([source]),
            "env": merge_env(wire(official.env) or [], _model_env(observed) or []) or None,
            "resources": wire(official.resources),
        }
        # What the official template says of these, unless the model says it itself.
        for key, value, own in (
            ("runtimeConfigName", official.runtime_config_name, spec.runtime_config_name),
            ("imagePullSecrets", wire(official.image_pull_secrets), spec.image_pull_secrets),
            ("serviceAccountName", official.service_account_name, spec.service_account_name),
        ):
            if value and not own:
                copy_spec[key] = value
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
        message = f"No official template of aimId {observed.model.spec.aim_id} to copy yet"
        return Component(condition, LifecycleStatus.PROGRESSING, Reason.CREATING_TEMPLATES, message)
    if not desired and not naming:
        return Component(condition, LifecycleStatus.READY, Reason.NO_TEMPLATES_EXPECTED, "No templates to create")
    existing = {t.name for t in naming}
    missing = [t["metadata"]["name"] for t in desired if t["metadata"]["name"] not in existing]
    if missing:
        return Component(
            condition, LifecycleStatus.PROGRESSING, Reason.CREATING_TEMPLATES, f"Creating {len(missing)} template(s)"
        )
    states = [t.status.status if t.status is not None else LifecycleStatus.PENDING for t in naming]
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


def plan_model(observed: ModelObservation, now: str) -> Plan:
    model = observed.model
    previous = model.status.status if model.status is not None else None
    plan = Plan()
    extra: dict[str, Any] = {"sourceType": "Custom" if is_custom(model) else "Image"}
    config = runtime_config_component(observed.runtime_config)
    if observed.runtime_config.scope:
        extra["resolvedRuntimeConfig"] = {"name": observed.runtime_config.name, "scope": observed.runtime_config.scope}
    found, metadata = _metadata(observed, plan)
    if metadata is not None:
        extra["imageMetadata"] = wire(metadata)
    components = [config, *found]
    blocked = any(c.state in (LifecycleStatus.FAILED, LifecycleStatus.DEGRADED) for c in components)
    awaiting = any(c.reason == Reason.AWAITING_METADATA for c in components)
    desired: list[dict[str, Any]] = []
    if not blocked and not awaiting:
        if metadata is not None and _creates_templates(model) and not is_custom(model):
            desired += plan_deployment_templates(observed, metadata)
        if is_fine_tuned(model):
            copies, skipped = plan_fine_tuned_templates(observed)
            desired += copies
            if skipped:
                plan.requeue_after = 60.0  # the official model's metadata may not be read yet
            wanted = {t["metadata"]["name"] for t in copies}
            plan.delete += [
                ObjectRef(labels.V1ALPHA1, t.kind or "", t.name, t.namespace)
                for t in observed.templates
                if t.labels.get(labels.ORIGIN) == labels.ORIGIN_FINE_TUNED
                and owned_by(t, model.uid)
                and t.name not in wanted
            ]
        else:
            desired += plan_custom_templates(observed)
        plan.apply += desired
    # While the metadata cannot be read, templates are neither expected nor ruled out.
    components.append(templates_component(observed, desired, awaiting or blocked))
    plan.status = component_status(model, components, now, extra)
    if plan.status["status"] != previous and plan.status["status"] in (
        LifecycleStatus.FAILED,
        LifecycleStatus.DEGRADED,
    ):
        ready = next(c for c in plan.status["conditions"] if c["type"] == ConditionType.READY)
        plan.events.append(Event("Warning", ready["reason"], ready["message"]))
    return plan

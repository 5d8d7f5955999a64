"""Fetch step of the model reconciler (edge layer): runtime config, pull secrets, the image's
labels from its registry (only while the metadata is unknown), the model's templates, and for
fine-tuned models the official templates of its AIM family and their models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api import labels
from api.stored import read_model, read_template
from api.v1alpha2.aimmodel import AIMClusterModel
from controller.catalog.credentials import credentials_for_registry
from controller.catalog.imageref import InvalidImageReferenceError, parse_image_reference
from controller.common.retries import IMAGE_RETRY_SECONDS
from controller.common.runtimeconfig import config_name, resolve_runtime_config
from controller.kube.client import Kube
from controller.model.observe import ImageLookup, ModelObservation
from controller.model.plan import is_fine_tuned, needs_lookup
from controller.registry.client import RegistryClient
from controller.registry.errors import (
    ImageNotFoundError,
    RegistryError,
    RegistryUnauthorizedError,
    RegistryUnreachableError,
)


def read_image(registry: RegistryClient, image: str, secrets: list[dict[str, Any]]) -> ImageLookup:
    try:
        reference = parse_image_reference(image)
    except InvalidImageReferenceError as error:
        return ImageLookup(error="invalid", message=f"spec.image: {error}")
    lookup = credentials_for_registry(secrets, reference.registry)
    if lookup.problems:
        return ImageLookup(error="invalid", message="; ".join(lookup.problems))
    try:
        config = registry.image_config(reference, lookup.credentials)
    except RegistryUnauthorizedError as error:
        return ImageLookup(error="unauthorized", message=str(error))
    except ImageNotFoundError as error:
        return ImageLookup(error="not-found", message=str(error))
    except RegistryUnreachableError as error:
        return ImageLookup(error="unreachable", message=str(error))
    except RegistryError as error:
        return ImageLookup(error="invalid", message=str(error))
    return ImageLookup(labels=config.labels, env=config.env)


def _spec_field(stored: Mapping[str, Any], name: str) -> Any:
    """A spec field of a listed object, read before the object is read as its API model: the list is
    narrowed first, so a template that does not fit its model fails the reconciles of the models it
    concerns, not those of every model in its namespace."""
    return (stored.get("spec") or {}).get(name)


def fetch_model(
    kube: Kube,
    stored: dict[str, Any],
    registry: RegistryClient,
    operator_namespace: str,
    retry_seconds: Mapping[str, float] = IMAGE_RETRY_SECONDS,
) -> ModelObservation:
    model = read_model(stored)
    spec = model.spec
    cluster = isinstance(model, AIMClusterModel)
    namespace = None if cluster else model.namespace
    name = config_name(spec.runtime_config_name)
    observed = ModelObservation(
        model=model,
        retry_seconds=retry_seconds,
        runtime_config=resolve_runtime_config(
            spec.runtime_config_name,
            kube.get(labels.V1ALPHA1, "AIMRuntimeConfig", name, namespace) if namespace else None,
            kube.get(labels.V1ALPHA1, "AIMClusterRuntimeConfig", name),
        ),
    )
    template_kind = "AIMClusterServiceTemplate" if cluster else "AIMServiceTemplate"
    # Every template that names the model, owned or not (a user's own, one left by upstream): the
    # model's ServiceTemplatesReady aggregates them all, as upstream's index on spec.modelName.
    observed.templates = [
        read_template(t)
        for t in kube.list(labels.V1ALPHA1, template_kind, namespace)
        if _spec_field(t, "modelName") == model.name
    ]
    if needs_lookup(model) and spec.image:
        secret_namespace = operator_namespace if cluster else namespace
        secrets = []
        for ref in spec.image_pull_secrets or []:
            secret = kube.get("v1", "Secret", ref.name, secret_namespace)
            if secret is None:
                observed.missing_secrets.append(f"{ref.name} in namespace {secret_namespace}")
            else:
                secrets.append(secret)
        if not observed.missing_secrets:
            observed.lookup = read_image(registry, spec.image, secrets)
    if is_fine_tuned(model):
        official = kube.list(labels.V1ALPHA1, "AIMClusterServiceTemplate")
        if not cluster:
            official += kube.list(labels.V1ALPHA1, "AIMServiceTemplate", namespace)
        observed.official_templates = [read_template(t) for t in official if _spec_field(t, "aimId") == spec.aim_id]
        for template in observed.official_templates:
            for ref in template.metadata.get("ownerReferences") or []:
                key = f"{ref.get('kind')}/{ref.get('name')}"
                if ref.get("kind") == "AIMClusterModel" and key not in observed.template_owners:
                    owner = kube.get(labels.V1ALPHA2, "AIMClusterModel", ref["name"])
                elif ref.get("kind") == "AIMModel" and key not in observed.template_owners:
                    owner = kube.get(labels.V1ALPHA2, "AIMModel", ref["name"], template.namespace or None)
                else:
                    continue
                if owner is not None:
                    observed.template_owners[key] = read_model(owner)
    return observed

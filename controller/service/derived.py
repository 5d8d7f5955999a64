"""Templates derived from a named template and the service's overrides (pure).

A service that names a template and overrides its metric, precision or GPUs gets a namespaced
copy of that template with the overrides applied, owned by the service; it is discovered and
becomes Ready like any template, and the service deploys from it. The name encodes the overrides,
so two services with the same overrides share one copy (the first one owns it).
"""

from __future__ import annotations

from typing import Any

from api import labels, naming
from api.objects import wire
from api.v1alpha1.aimservicetemplate import AnyServiceTemplate
from api.v1alpha2.aimservice import AIMService
from api.v1alpha2.common import CacheMode
from controller.common.gpus import normalise_gpu_model
from controller.common.selection import Overrides, template_gpu, template_metric, template_precision
from controller.pipeline.objects import child_labels


def derived_template_name(base: str, overrides: Overrides) -> str:
    gpu_label = normalise_gpu_model(overrides.gpu_model).lower() if overrides.gpu_model else ""
    return naming.overridden_template_name(
        base,
        gpu_label,
        overrides.gpu_model or "",
        overrides.gpu_count or 0,
        overrides.precision or "",
        overrides.metric or "",
    )


def overrides_differ(template: AnyServiceTemplate, overrides: Overrides) -> bool:
    gpu_model, gpu_count = template_gpu(template)
    return bool(
        (overrides.metric and overrides.metric.lower() != template_metric(template))
        or (overrides.precision and overrides.precision.lower() != template_precision(template))
        or (overrides.gpu_model and normalise_gpu_model(overrides.gpu_model) != gpu_model)
        or (overrides.gpu_count and overrides.gpu_count != gpu_count)
    )


def plan_derived_template(
    service: AIMService, base: AnyServiceTemplate, model_name: str, overrides: Overrides, owner: dict[str, Any]
) -> dict[str, Any]:
    """The namespaced copy of `base` (its spec in wire form, without caching) with the overrides."""
    spec: dict[str, Any] = {k: v for k, v in wire(base.spec).items() if k != "caching"}
    service_spec = service.spec
    spec["modelName"] = model_name
    spec["runtimeConfigName"] = (service_spec.runtime_config_name or "").strip() or "default"
    if overrides.metric:
        spec["metric"] = overrides.metric
    if overrides.precision:
        spec["precision"] = overrides.precision
    if overrides.gpu_model or overrides.gpu_count:
        base_gpu = base.spec.hardware.gpu if base.spec.hardware is not None else None
        gpu = dict(wire(base_gpu) or {})
        gpu.pop("model", None)
        if overrides.gpu_model:
            gpu["models"] = [normalise_gpu_model(overrides.gpu_model)]
            gpu.pop("minVram", None)
        if overrides.gpu_count:
            gpu["requests"] = overrides.gpu_count
        spec["hardware"] = {"gpu": gpu}
    if service_spec.image_pull_secrets:
        spec["imagePullSecrets"] = wire(service_spec.image_pull_secrets)
    resources = wire(service_spec.resources)
    if resources:
        spec["resources"] = resources
    caching = service_spec.caching
    if caching is None or caching.mode == CacheMode.SHARED:
        spec["caching"] = {"enabled": True}
    return {
        "apiVersion": labels.V1ALPHA1,
        "kind": "AIMServiceTemplate",
        "metadata": {
            "name": derived_template_name(base.name, overrides),
            "namespace": service.namespace,
            "labels": child_labels(
                service, {labels.ORIGIN: labels.ORIGIN_DERIVED, labels.MANAGED_BY: labels.MANAGED_BY_VALUE}
            ),
            "ownerReferences": [owner],
        },
        "spec": spec,
    }

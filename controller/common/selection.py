"""Template auto-selection for an AIMService (pure: candidate templates and the cluster's GPU
models in, one template or a reason out).

Stages, each dropping candidates with a recorded reason: only Ready templates; only `optimized`
ones unless the service allows unoptimized; the service's overrides (metric, precision, GPU model
and count); only GPU models present on the cluster's nodes; namespace templates before cluster
ones; then ranking by type, GPU, metric and precision. A tie between the best candidates is
ambiguous and selects nothing: the message lists the candidates so the user can name one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from api.conditions import Reason
from api.v1alpha1.common import LifecycleStatus, gpu_models
from controller.common.gpus import normalise_gpu_model

NAMESPACE_KIND = "AIMServiceTemplate"
CLUSTER_KIND = "AIMClusterServiceTemplate"

# Lower is better. Types follow the v1alpha2 documents (optimized > general > preview >
# unoptimized); GPUs newest first, extending upstream's list (which ranked every GPU it did not
# know, MI350X and MI355X included, below MI210).
TYPE_RANK = ("optimized", "general", "preview", "unoptimized")
GPU_RANK = ("MI355X", "MI350X", "MI325X", "MI300X", "MI308X", "MI300A", "MI250X", "MI210", "MI100", "R9700", "W7900")
"""The Radeon workstation GPUs upstream supports as first-class targets (0.2.4) rank below every
Instinct model, newest first, as upstream's; other Radeons tie below them."""
METRIC_RANK = ("latency", "throughput")
PRECISION_RANK = ("fp4", "int4", "fp8", "int8", "fp16", "bf16", "fp32")

_NOT_READY_REASONS = {
    LifecycleStatus.PENDING: Reason.TEMPLATE_PENDING,
    LifecycleStatus.PROGRESSING: Reason.TEMPLATE_PROGRESSING,
    LifecycleStatus.NOT_AVAILABLE: Reason.TEMPLATE_NOT_AVAILABLE,
    LifecycleStatus.DEGRADED: Reason.TEMPLATE_DEGRADED,
    LifecycleStatus.FAILED: Reason.TEMPLATE_FAILED,
}


@dataclass(frozen=True)
class Rejection:
    template: str
    reason: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.template} ({self.reason}{': ' + self.detail if self.detail else ''})"


@dataclass
class Selection:
    template: dict[str, Any] | None
    reason: str
    message: str
    rejected: list[Rejection] = field(default_factory=list)


@dataclass(frozen=True)
class Overrides:
    metric: str | None = None
    precision: str | None = None
    gpu_model: str | None = None
    gpu_count: int | None = None

    @classmethod
    def from_service_spec(cls, spec: Mapping[str, Any]) -> Overrides:
        overrides = spec.get("overrides") or {}
        gpu = (overrides.get("hardware") or {}).get("gpu") or {}
        models = gpu_models(gpu)
        return cls(
            metric=overrides.get("metric"),
            precision=overrides.get("precision"),
            gpu_model=models[0] if models else None,
            gpu_count=gpu.get("requests"),
        )

    def any(self) -> bool:
        return any(v is not None for v in (self.metric, self.precision, self.gpu_model, self.gpu_count))


def describe(template: Mapping[str, Any]) -> str:
    scope = "cluster" if template.get("kind") == CLUSTER_KIND else "namespace"
    return f"{scope}/{template['metadata']['name']}"


def template_type(template: Mapping[str, Any]) -> str:
    profile_type = _profile_metadata(template).get("type") or (template.get("spec") or {}).get("type")
    return str(profile_type or "unoptimized").lower()


def template_metric(template: Mapping[str, Any]) -> str:
    return str(_profile_metadata(template).get("metric") or (template.get("spec") or {}).get("metric") or "").lower()


def template_precision(template: Mapping[str, Any]) -> str:
    metadata = _profile_metadata(template)
    return str(metadata.get("precision") or (template.get("spec") or {}).get("precision") or "").lower()


def template_gpu(template: Mapping[str, Any]) -> tuple[str, int]:
    """(normalised GPU model or "", GPU count or 0): discovery results win over the spec."""
    status = template.get("status") or {}
    for hardware in (status.get("resolvedHardware"), (template.get("spec") or {}).get("hardware")):
        gpu = (hardware or {}).get("gpu") or {}
        models = gpu_models(gpu)
        if models or gpu.get("requests"):
            return (normalise_gpu_model(models[0]) if models else "", int(gpu.get("requests") or 0))
    metadata = _profile_metadata(template)
    model = metadata.get("gpu") or ""
    return (normalise_gpu_model(model) if model else "", int(metadata.get("gpuCount") or 0))


def select_template(
    candidates: list[dict[str, Any]],
    model_name: str,
    allow_unoptimized: bool,
    overrides: Overrides,
    cluster_gpus: Collection[str],
) -> Selection:
    """`candidates`: the namespace's AIMServiceTemplates and all AIMClusterServiceTemplates (with
    `kind` set); `cluster_gpus`: normalised GPU models present on schedulable nodes."""
    pool = [t for t in candidates if (t.get("spec") or {}).get("modelName") == model_name]
    if not pool:
        return Selection(None, Reason.TEMPLATE_NOT_FOUND, f'no templates found for model "{model_name}"')
    rejected: list[Rejection] = []

    ready = []
    for template in pool:
        status = (template.get("status") or {}).get("status") or LifecycleStatus.PENDING
        if status == LifecycleStatus.READY:
            ready.append(template)
        else:
            reason = _NOT_READY_REASONS.get(status, Reason.TEMPLATE_NOT_READY)
            rejected.append(Rejection(describe(template), reason, status))
    if not ready:
        return Selection(
            None,
            Reason.TEMPLATE_NOT_READY,
            f'templates for model "{model_name}" exist but none is Ready yet: {_list(rejected)}',
            rejected,
        )

    optimized = []
    for template in ready:
        if allow_unoptimized or template_type(template) == "optimized":
            optimized.append(template)
        else:
            rejected.append(
                Rejection(describe(template), Reason.UNOPTIMIZED_TEMPLATE_FILTERED, template_type(template))
            )
    if not optimized:
        return Selection(
            None,
            Reason.TEMPLATE_NOT_FOUND,
            f'no available templates match requirements for model "{model_name}": {len(ready)} unoptimized '
            f"template(s) filtered out ({_list(rejected)}); set spec.template.allowUnoptimized to use them",
            rejected,
        )

    matching = []
    for template in optimized:
        mismatch = _override_mismatch(template, overrides)
        if mismatch:
            rejected.append(Rejection(describe(template), Reason.SERVICE_OVERRIDES_NOT_MATCHED, mismatch))
        else:
            matching.append(template)

    available = []
    for template in matching:
        gpu_model, _ = template_gpu(template)
        if gpu_model and gpu_model not in cluster_gpus:
            on_cluster = ", ".join(sorted(cluster_gpus)) or "none"
            rejected.append(
                Rejection(
                    describe(template), Reason.REQUIRED_GPU_NOT_IN_CLUSTER, f"{gpu_model}; cluster has {on_cluster}"
                )
            )
        else:
            available.append(template)
    if not available:
        return Selection(
            None,
            Reason.TEMPLATE_NOT_FOUND,
            f'no available templates match requirements for model "{model_name}": {_list(rejected)}',
            rejected,
        )

    namespaced = [t for t in available if t.get("kind") != CLUSTER_KIND]
    if namespaced:
        for template in available:
            if template.get("kind") == CLUSTER_KIND:
                rejected.append(Rejection(describe(template), Reason.NAMESPACE_TEMPLATE_PREFERRED))
        available = namespaced

    ranked = sorted(available, key=_rank)
    best = ranked[0]
    ties = [t for t in ranked if _rank(t) == _rank(best)]
    if len(ties) > 1:
        names = ", ".join(describe(t) for t in ties)
        return Selection(
            None,
            Reason.TEMPLATE_SELECTION_AMBIGUOUS,
            f'{len(ties)} templates satisfy model "{model_name}" equally well ({names}); '
            "name one in spec.template.name or narrow spec.overrides",
            rejected,
        )
    for template in ranked[1:]:
        rejected.append(Rejection(describe(template), Reason.LOWER_PREFERENCE_RANK))
    return Selection(best, Reason.RESOLVED, f"selected {describe(best)} (best match)", rejected)


def _rank(template: Mapping[str, Any]) -> tuple[int, int, int, int]:
    gpu_model, _ = template_gpu(template)
    return (
        _position(TYPE_RANK, template_type(template)),
        _position(GPU_RANK, gpu_model.upper()),
        _position(METRIC_RANK, template_metric(template)),
        _position(PRECISION_RANK, template_precision(template)),
    )


def _position(order: tuple[str, ...], value: str) -> int:
    return order.index(value) if value in order else len(order) + 1000


def _override_mismatch(template: Mapping[str, Any], overrides: Overrides) -> str:
    if overrides.metric and template_metric(template) and template_metric(template) != overrides.metric.lower():
        return f"metric {template_metric(template)} != {overrides.metric}"
    precision = template_precision(template)
    if overrides.precision and precision and precision != overrides.precision.lower():
        return f"precision {precision} != {overrides.precision}"
    gpu_model, gpu_count = template_gpu(template)
    if overrides.gpu_model and gpu_model and gpu_model != normalise_gpu_model(overrides.gpu_model):
        return f"GPU {gpu_model} != {normalise_gpu_model(overrides.gpu_model)}"
    if overrides.gpu_count and gpu_count and gpu_count != overrides.gpu_count:
        return f"{gpu_count} GPUs != {overrides.gpu_count}"
    return ""


def _profile_metadata(template: Mapping[str, Any]) -> dict[str, Any]:
    return ((template.get("status") or {}).get("profile") or {}).get("metadata") or {}


def _list(rejected: list[Rejection]) -> str:
    return "; ".join(str(r) for r in rejected)

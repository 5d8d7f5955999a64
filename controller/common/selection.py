"""Template auto-selection for an AIMService (pure: candidate templates and the cluster's GPU
models in, one template or a reason out).

Stages, each dropping candidates with a recorded reason: only Ready templates; only `optimized`
ones unless the service allows unoptimized; the service's overrides (metric, precision, GPU model
and count); only GPU models present on the cluster's nodes; namespace templates before cluster
ones; then ranking by type, GPU, metric and precision. A tie between the best candidates is
ambiguous and selects nothing: the message lists the candidates so the user can name one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from api.conditions import Reason
from api.objects import AnyObject, as_stored
from api.stored import read_template
from api.v1alpha1.aimservicetemplate import (
    AIMClusterServiceTemplate,
    AIMServiceTemplate,
    AnyServiceTemplate,
    ProfileMetadata,
)
from api.v1alpha1.common import LifecycleStatus
from api.v1alpha2.aimservice import AIMServiceSpec
from api.v1alpha2.common import RuntimeParameters
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
    template: AnyServiceTemplate | None
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
    def from_service_spec(cls, spec: AIMServiceSpec | Mapping[str, Any]) -> Overrides:
        """From a v1alpha2 service spec, typed or in its wire form (the CLI reads the wire form)."""
        if isinstance(spec, AIMServiceSpec):
            overrides = spec.overrides
        else:
            overrides = RuntimeParameters.model_validate(spec.get("overrides") or {}, extra="ignore")
        if overrides is None:
            return cls()
        gpu = overrides.hardware.gpu if overrides.hardware is not None else None
        models = (gpu.models if gpu is not None else None) or []
        return cls(
            metric=_text(overrides.metric),
            precision=_text(overrides.precision),
            gpu_model=models[0] if models else None,
            gpu_count=gpu.requests if gpu is not None else None,
        )

    def any(self) -> bool:
        return any(v is not None for v in (self.metric, self.precision, self.gpu_model, self.gpu_count))


def _text(value: str | None) -> str | None:
    """An enum field's plain string (None stays None)."""
    return None if value is None else str(value)


def describe(template: AnyObject) -> str:
    stored = as_stored(template)
    scope = "cluster" if stored.get("kind") == CLUSTER_KIND else "namespace"
    return f"{scope}/{stored['metadata']['name']}"


def _profile_metadata(template: AnyServiceTemplate) -> ProfileMetadata:
    """What discovery reported about the template's profile (empty before it ran)."""
    profile = template.status.profile if template.status is not None else None
    return (profile.metadata if profile is not None else None) or ProfileMetadata()


def template_type(template: AnyServiceTemplate) -> str:
    profile_type = _profile_metadata(template).type or template.spec.type
    return str(profile_type or "unoptimized").lower()


def template_metric(template: AnyServiceTemplate) -> str:
    return str(_profile_metadata(template).metric or template.spec.metric or "").lower()


def template_precision(template: AnyServiceTemplate) -> str:
    return str(_profile_metadata(template).precision or template.spec.precision or "").lower()


def template_gpu(template: AnyServiceTemplate) -> tuple[str, int]:
    """(normalised GPU model or "", GPU count or 0): discovery results win over the spec."""
    resolved = template.status.resolved_hardware if template.status is not None else None
    for hardware in (resolved, template.spec.hardware):
        gpu = hardware.gpu if hardware is not None else None
        if gpu is None:
            continue
        models = gpu.allowed_models()
        if models or gpu.requests:
            return (normalise_gpu_model(models[0]) if models else "", int(gpu.requests or 0))
    metadata = _profile_metadata(template)
    model = metadata.gpu or ""
    return (normalise_gpu_model(model) if model else "", int(metadata.gpu_count or 0))


def _templates(candidates: Sequence[AnyServiceTemplate | Mapping[str, Any]]) -> list[AnyServiceTemplate]:
    """Candidates as their API models (the fetch step reads them; the CLI passes them as stored)."""
    return [
        t if isinstance(t, AIMServiceTemplate | AIMClusterServiceTemplate) else read_template(t) for t in candidates
    ]


def select_template(
    candidates: Sequence[AnyServiceTemplate | Mapping[str, Any]],
    model_name: str,
    allow_unoptimized: bool,
    overrides: Overrides,
    cluster_gpus: Collection[str],
) -> Selection:
    """`candidates`: the namespace's AIMServiceTemplates and all AIMClusterServiceTemplates (with
    `kind` set); `cluster_gpus`: normalised GPU models present on schedulable nodes."""
    pool = [t for t in _templates(candidates) if t.spec.model_name == model_name]
    if not pool:
        return Selection(None, Reason.TEMPLATE_NOT_FOUND, f'no templates found for model "{model_name}"')
    rejected: list[Rejection] = []

    ready = []
    for template in pool:
        status = template.status.status if template.status is not None else LifecycleStatus.PENDING
        if status == LifecycleStatus.READY:
            ready.append(template)
        else:
            reason = _NOT_READY_REASONS.get(status, Reason.TEMPLATE_NOT_READY)
            rejected.append(Rejection(describe(template), reason, str(status)))
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

    namespaced: list[AnyServiceTemplate] = [t for t in available if not isinstance(t, AIMClusterServiceTemplate)]
    if namespaced:
        for template in available:
            if isinstance(template, AIMClusterServiceTemplate):
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


def _rank(template: AnyServiceTemplate) -> tuple[int, int, int, int]:
    gpu_model, _ = template_gpu(template)
    return (
        _position(TYPE_RANK, template_type(template)),
        _position(GPU_RANK, gpu_model.upper()),
        _position(METRIC_RANK, template_metric(template)),
        _position(PRECISION_RANK, template_precision(template)),
    )


def _position(order: tuple[str, ...], value: str) -> int:
    return order.index(value) if value in order else len(order) + 1000


def _override_mismatch(template: AnyServiceTemplate, overrides: Overrides) -> str:
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


def _list(rejected: list[Rejection]) -> str:
    return "; ".join(str(r) for r in rejected)

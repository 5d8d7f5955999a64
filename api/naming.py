"""Names of everything AIM Engine derives from user objects: one function, always ≤ the limit.

`derived_name(["my-svc"], hash_inputs=[namespace])` → `my-svc-1a2b3c4d`. Parts are sanitised to
RFC 1123 labels, a hash of the inputs is always appended (stable across restarts and replicas), and
while the result is too long the longest part loses one character at a time.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

MAX_NAME = 63
MAX_LABEL_VALUE = 63
PREDICTOR_INFIX = "-predictor-"
MIN_SERVICE_NAME_BUDGET = 10
_INVALID = re.compile(r"[^a-z0-9-]")


class NameTooLongError(ValueError):
    """No derived name can fit; the message says which input to shorten."""


def rfc1123(value: str, max_length: int = MAX_NAME) -> str:
    label = _INVALID.sub("-", value.lower()).strip("-")
    return label[:max_length].rstrip("-")


def label_value(value: str) -> str:
    """A string as a label value, as upstream's SanitizeLabelValue makes it: lower case, characters
    outside [a-z0-9._-] as `_`, at most 63 characters, alphanumeric at both ends."""
    cleaned = re.sub(r"[^a-z0-9._-]", "_", value.lower())
    return cleaned.strip("._-")[:MAX_LABEL_VALUE].rstrip("._-")


def name_label_value(name: str) -> str:
    """An object's name as a label value: itself when it fits (object names are valid label
    values up to 63 characters), else shortened."""
    return name if len(name) <= MAX_LABEL_VALUE else label_value(name)


def name_hash(inputs: Sequence[Any], length: int = 8) -> str:
    encoded = "|".join(json.dumps(_normalise(i), sort_keys=True, separators=(",", ":")) for i in inputs)
    return hashlib.sha256(encoded.encode()).hexdigest()[:length]


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return [[k, _normalise(value[k])] for k in sorted(value)]
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    return value


def derived_name(
    parts: Sequence[str],
    hash_inputs: Sequence[Any] | None = None,
    hash_length: int = 8,
    max_length: int = MAX_NAME,
) -> str:
    labels = [rfc1123(p) or "part" for p in parts]
    suffix = name_hash(list(hash_inputs) if hash_inputs is not None else list(parts), hash_length)
    if max_length < hash_length + 2 * len(labels):
        raise NameTooLongError(f"no name of {max_length} characters can hold {len(labels)} parts and a hash")
    while sum(len(label) + 1 for label in labels) + len(suffix) > max_length:
        longest = max(range(len(labels)), key=lambda i: len(labels[i]))
        labels[longest] = labels[longest][:-1].rstrip("-") or "p"
    return "-".join([*labels, suffix])


def service_name_budget(namespace: str) -> int:
    """KServe serves an InferenceService at `{name}-predictor-{namespace}`, a DNS label of ≤ 63."""
    return MAX_NAME - len(PREDICTOR_INFIX) - len(namespace)


def inference_service_name(service_name: str, namespace: str) -> str:
    budget = service_name_budget(namespace)
    if budget < MIN_SERVICE_NAME_BUDGET:
        limit = MAX_NAME - len(PREDICTOR_INFIX) - MIN_SERVICE_NAME_BUDGET
        raise NameTooLongError(
            f'namespace "{namespace}" is too long ({len(namespace)} characters): KServe names the predictor '
            f"{{name}}{PREDICTOR_INFIX}{{namespace}}, which must fit {MAX_NAME} characters; use a namespace of "
            f"at most {limit} characters"
        )
    # As upstream since it stopped hashing the namespace alone (a truncated name part made two
    # services of a long namespace share one InferenceService). A service keeps an InferenceService
    # it already owns under another name (adoption: controller.service.fetch).
    return derived_name([service_name], hash_inputs=[namespace, service_name], max_length=budget)


def predictor_name(inference_service_name: str) -> str:
    """KServe's predictor Deployment and Service of an InferenceService (raw-deployment mode); the
    service's KEDA ScaledObject has the same name, as upstream names it."""
    return f"{inference_service_name}-predictor"


def keda_hpa_name(scaled_object_name: str) -> str:
    """The HorizontalPodAutoscaler KEDA makes for a ScaledObject (KEDA's default name)."""
    return f"keda-hpa-{scaled_object_name}"


def http_route_name(service_name: str, namespace: str) -> str:
    """As upstream, the service's name and a hash of the namespace only. Where that name would not
    be unique (the service name shortened to fit, or changed by sanitising, so that two services of
    a namespace could share it) the service's name joins the hash (docs/upstream-differences.md)."""
    upstream = derived_name([service_name], hash_inputs=[namespace])
    if upstream.rsplit("-", 1)[0] == service_name:
        return upstream
    return derived_name([service_name], hash_inputs=[namespace, service_name])


# --- every name the controller derives (one place; upstream parity changes them here) -------------

MODEL_NAME_HASH_LENGTH = 6


def cluster_model_name(registry: str, repository: str, tag: str) -> str:
    """An AIMClusterModel a model source discovered: `[repository, tag]` + 6 hex of
    hash(registry, repository, tag) (upstream E.10 table)."""
    return derived_name([repository, tag], hash_inputs=[registry, repository, tag], hash_length=MODEL_NAME_HASH_LENGTH)


def image_model_name(image_name: str, tag: str, image: str) -> str:
    """The AIMModel a service's spec.model.image creates (shared by every service of the image)."""
    return derived_name([image_name, tag], hash_inputs=[image])


def custom_model_name(base_image: str, sources: Sequence[Mapping[str, Any]]) -> str:
    """Identical inline custom models (same base image and sources, including the S3 endpoint)
    from any number of services share one AIMModel: the name is a hash of that identity."""
    identity: list[Any] = [base_image]
    for source in sources:
        endpoint = next((e.get("value") for e in source.get("env") or [] if e.get("name") == "AWS_ENDPOINT_URL"), "")
        identity += [source.get("modelId"), source.get("sourceUri"), endpoint]
    return derived_name([sources[0]["modelId"] if sources else "custom"], hash_inputs=identity)


def recommended_template_name(
    image_name: str, model_name: str, image: str, gpu: str, count: int, metric: str, precision: str
) -> str:
    """A template for one of the image's recommended deployments."""
    label = f"{count}x-{gpu}-{metric[:3]}-{precision}".lower()
    return derived_name([image_name, label], [model_name, image, gpu, count, metric, precision], hash_length=4)


def custom_template_name(model_name: str, origin: str, hardware: Any) -> str:
    """The single template of a custom model without customTemplates."""
    return derived_name([model_name, origin], [model_name, 0, hardware])


def custom_entry_template_name(
    model_name: str,
    origin: str,
    index: int,
    entry_name: str | None,
    precision: str | None,
    metric: str | None,
    gpu: str,
    hardware: Any,
) -> str:
    """The template of one customTemplates entry of a custom model."""
    parts = [model_name, origin, entry_name or "", precision or "", gpu]
    return derived_name([p for p in parts if p], [model_name, index, entry_name, precision, metric, hardware])


def fine_tuned_template_name(
    model_name: str, version: str, precision: str, gpu: str, source_kind: str, source_name: str, image: str
) -> str:
    """The copy a fine-tuned model makes of an official template of its AIM family."""
    return derived_name(
        [p for p in (model_name, "ft", version, precision, gpu) if p], [model_name, source_kind, source_name, image]
    )


def overridden_template_name(
    base: str, gpu_label: str, gpu_model: str, gpu_count: int, precision: str, metric: str
) -> str:
    """The namespaced copy of a named template with a service's overrides (`gpu_label`: the GPU
    model as named in the name part, normalised)."""
    parts = [base, "ovr"]
    if gpu_label:
        parts.append(gpu_label)
    if gpu_count:
        parts.append(f"{gpu_count}gpu")
    parts += [value for value in (precision, metric) if value]
    hashed = ["gpu", gpu_model, "count", gpu_count, "precision", precision, "metric", metric]
    return derived_name(parts, hash_inputs=hashed, hash_length=4)


def template_cache_name(
    template_name: str, service_name: str, namespace: str, service_uid: str, dedicated: bool
) -> str:
    """A service's template cache: per namespace and template when Shared, per service when Dedicated."""
    if dedicated:
        return derived_name([template_name, service_name], [service_uid])
    return derived_name([template_name], [namespace])


def profile_config_map_name(service_name: str) -> str:
    return derived_name([service_name, "profile"], [service_name, "service-profile"])


def default_kv_cache_name(namespace: str) -> str:
    """The AIMKVCache a service uses when spec.kvCache names none: one per namespace, as upstream."""
    return f"kvcache-{namespace}"


MAX_STATEFUL_SET_NAME = 52
"""A StatefulSet's pods carry `controller-revision-hash: <name>-<10 characters>`, a label value."""


def kv_cache_stateful_set_name(name: str, namespace: str, backend: str) -> str:
    return derived_name([name, backend], [namespace, name], max_length=MAX_STATEFUL_SET_NAME)


def kv_cache_service_name(name: str, namespace: str, backend: str) -> str:
    return derived_name([name, backend, "svc"], [namespace, name])


def lmcache_config_map_name(service_name: str, namespace: str) -> str:
    """The ConfigMap holding a service's LMCache configuration (as upstream: the namespace hashed)."""
    return derived_name(["lmcache", service_name], [namespace])


def custom_profile_config_map_name(service_name: str) -> str:
    """The ConfigMap holding the profile file of a service whose template has a customProfile (as
    upstream, distinct from a spec.profile service's)."""
    return derived_name([service_name, "custom-profile"], [service_name, "service-custom-profile"])


def derived_profile_name(set_name: str, source_kind: str, source_name: str, profile_id: str, aim_id: str) -> str:
    """A profile a profile set derives: `<set>-<source profileId, else name>-<hash>`, the hash of the
    set, the source (kind and name) and the derived aimId. Stable while the source changes, so a
    service naming a derived profile keeps it; a new aimId (immutable on profiles) is a new profile."""
    return derived_name([set_name, profile_id or source_name], [set_name, source_kind, source_name, aim_id])


def profile_cache_name(profile_name: str, namespace: str) -> str:
    return derived_name([profile_name, "cache"], [namespace])


def artifact_name(source_uri: str, env: Sequence[Any], storage_class: str, dedicated_for: str = "") -> str:
    """The AIMArtifact of a model source: shared by every cache of the namespace asking for the same
    source, environment and storage class; per cache when Dedicated."""
    inputs: list[Any] = [source_uri, list(env), storage_class]
    if dedicated_for:
        inputs += ["dedicated", dedicated_for]
    return derived_name([source_uri.replace(".", "-")], inputs, hash_length=10)


def artifact_child_name(artifact_name: str, artifact_uid: str, purpose: str) -> str:
    """An artifact's PVC, Jobs and RoleBinding (`purpose`: cache, download, check-size, ...)."""
    return derived_name([artifact_name, purpose], [artifact_uid])


def adapter_disk_name(artifact_name: str, artifact_uid: str) -> str:
    """A model artifact's adapter disk (PVC): `<artifact>-adapters-<hash of its uid>`, as upstream."""
    return derived_name([artifact_name, "adapters"], [artifact_uid])


def adapter_reap_job_name(artifact_name: str, artifact_uid: str) -> str:
    return derived_name([artifact_name, "adapter-reap"], [artifact_uid])


def adapter_sync_key(adapter_names: Sequence[str]) -> str:
    """The declared adapter set, as 12 hex characters (the empty set has a key too: "synced empty"
    differs from "never synced")."""
    return hashlib.sha256(",".join(sorted(adapter_names)).encode()).hexdigest()[:12]


def adapter_sync_job_name(service_name: str, service_uid: str, sync_key: str) -> str:
    """A service's subtree-sync Job: a new one for every declared set."""
    return derived_name([service_name, "subtree-sync"], [service_uid, sync_key])


def adapter_stage_job_name(service_name: str, adapter_name: str, service_uid: str) -> str:
    """The Job staging one adapter for one service."""
    return derived_name([service_name, adapter_name, "stage"], [service_uid])


def discovery_job_name(template_name: str, spec: Mapping[str, Any], model_image: str) -> str:
    """A template's discovery Job: changes with everything discovery reads, nothing else."""
    gpu = (spec.get("hardware") or {}).get("gpu") or {}
    inputs = [
        spec.get("modelName"),
        model_image,
        spec.get("serviceAccountName"),
        spec.get("env"),
        spec.get("imagePullSecrets"),
        spec.get("metric"),
        spec.get("precision"),
        gpu.get("models") or gpu.get("model"),
        gpu.get("requests"),
        spec.get("profileId"),
    ]
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:8]
    return f"discover-{rfc1123(template_name)[:45].rstrip('-')}-{digest}"

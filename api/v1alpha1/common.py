"""Sub-structures shared by several v1alpha1 kinds."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from api.core import EnvList, Quantity
from api.quantity import canonical_quantity
from api.schema import CEL, CRDModel, SchemaDefault

DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class ParentReference(CRDModel):
    """A Gateway API parent (normally a Gateway) that HTTPRoutes attach to."""

    group: Annotated[
        str, SchemaDefault("gateway.networking.k8s.io"), Field(max_length=253, pattern=r"^$|" + DNS_SUBDOMAIN)
    ] = "gateway.networking.k8s.io"
    """API group of the parent."""
    kind: Annotated[
        str,
        SchemaDefault("Gateway"),
        Field(min_length=1, max_length=63, pattern=r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$"),
    ] = "Gateway"
    """Kind of the parent."""
    name: Annotated[str, Field(min_length=1, max_length=253)]
    """Name of the parent."""
    namespace: Annotated[str | None, Field(min_length=1, max_length=63, pattern=DNS_LABEL)] = None
    """Namespace of the parent; the route's namespace when unset."""
    port: Annotated[int | None, Field(ge=1, le=65535)] = None
    """Listener port to attach to."""
    section_name: Annotated[str | None, Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN)] = None
    """Listener name to attach to."""


DOWNLOAD_PATTERN = r"^[^,]+$"
"""One glob of a download filter. No comma: the lists reach the downloader comma-joined
(`AIM_HF_INCLUDE`/`AIM_HF_EXCLUDE`, upstream's transport)."""

DownloadPatterns = Annotated[list[Annotated[str, Field(min_length=1, pattern=DOWNLOAD_PATTERN)]], Field(max_length=64)]


class DownloadFilter(CRDModel):
    """Which files of the source are downloaded (and counted in its size: the size check applies the same filter).

    Globs in Python's fnmatch syntax on paths relative to the repository or prefix; `*` also
    matches `/`. Include first (when set, only files matching one of its patterns), then exclude
    (files matching one of its patterns are dropped). With no filter anywhere, Hugging Face
    sources skip files in subdirectories (`exclude: ["*/*"]`); `{}` downloads everything."""

    include: DownloadPatterns | None = None
    """Only files matching at least one of these globs, e.g. `["*.safetensors", "config.json"]`; all when empty."""
    exclude: DownloadPatterns | None = None
    """Files matching any of these globs are skipped, after include, e.g. `["*/*", "*.bin"]`."""


class StorageConfig(CRDModel):
    default_storage_class_name: str | None = None
    """Storage class for model cache volumes when the consumer names none; the cluster default otherwise."""
    pvc_headroom_percent: Annotated[int, SchemaDefault(10), Field(ge=0)] = 10
    """Extra space, in percent of the model size, added to every cache volume."""
    adapter_disk_size: Quantity | None = None
    """Size of the adapter disks of model artifacts that name none (50Gi without either)."""
    adapter_disk_storage_class_name: str | None = None
    """Storage class of adapter disks whose artifact names none (then defaultStorageClassName)."""
    download_filter: DownloadFilter | None = None
    """Default download filter of the artifacts that use this config; an artifact's own
    downloadFilter replaces it whole. A namespace config's filter replaces the cluster config's
    whole (`{}` there downloads everything even when the cluster config filters)."""


class RoutingConfig(CRDModel):
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                CEL(
                    "!(has(self.pathTemplate) && has(self.routeTemplate))",
                    "pathTemplate and routeTemplate are two spellings of the same field; set one of them",
                ).as_rule()
            ]
        }
    )

    enabled: bool | None = None
    """Create a Gateway API HTTPRoute for each service."""
    gateway_ref: ParentReference | None = None
    """The Gateway the routes attach to."""
    path_template: str | None = None
    """Route path template: JSONPath fragments in `{...}` rendered against the AIMService,
    e.g. `/{.metadata.namespace}/{.metadata.name}`. Default `/<namespace>/<service-uid>`."""
    route_template: str | None = None
    """Same as pathTemplate (the spelling of older documents)."""
    request_timeout: str | None = None
    """Request timeout on the route, as a Gateway API duration such as `60s`."""
    annotations: dict[str, str] | None = None
    """Annotations added to every HTTPRoute."""


# -- enums -----------------------------------------------------------------------------------


class Metric(StrEnum):
    """Optimisation target of a runtime profile."""

    LATENCY = "latency"
    THROUGHPUT = "throughput"


class Precision(StrEnum):
    """Numeric precision; `auto` lets the runtime choose (v1alpha1 only)."""

    AUTO = "auto"
    FP4 = "fp4"
    FP8 = "fp8"
    FP16 = "fp16"
    FP32 = "fp32"
    BF16 = "bf16"
    INT4 = "int4"
    INT8 = "int8"


class ProfileType(StrEnum):
    """Optimisation level of a template: optimized > preview > unoptimized (v1alpha2 adds general)."""

    OPTIMIZED = "optimized"
    PREVIEW = "preview"
    UNOPTIMIZED = "unoptimized"


class ResolutionScope(StrEnum):
    NAMESPACE = "Namespace"
    CLUSTER = "Cluster"
    MERGED = "Merged"
    UNKNOWN = "Unknown"


class CacheMode(StrEnum):
    """Dedicated: owned by the consumer and deleted with it. Shared: unowned, reused, kept."""

    DEDICATED = "Dedicated"
    SHARED = "Shared"


class LifecycleStatus(StrEnum):
    """High-level state of models, templates, artifacts, caches and profiles."""

    PENDING = "Pending"
    PROGRESSING = "Progressing"
    READY = "Ready"
    DEGRADED = "Degraded"
    FAILED = "Failed"
    NOT_AVAILABLE = "NotAvailable"


MODEL_ID_PATTERN = r"^[a-zA-Z0-9_-]+/[a-zA-Z0-9._-]+$"
SOURCE_URI_PATTERN = r"^(hf|s3)://[^ \t\r\n]+$"

GPU_MODEL_XOR_VRAM = CEL(
    "!((has(self.model) && size(self.model) > 0 || has(self.models) && size(self.models) > 0) && has(self.minVram))",
    "model and minVram are mutually exclusive; specify either a specific GPU model OR a minimum VRAM"
    " requirement, not both",
)
GPU_MODEL_SPELLINGS = CEL(
    "!(has(self.model) && has(self.models))",
    "gpu.model and gpu.models are two spellings of the same field; set one of them",
)
GPU_OR_CPU = CEL("has(self.gpu) || has(self.cpu)", "at least one of gpu or cpu must be specified")


# -- hardware ----------------------------------------------------------------------------------


class GpuRequirements(CRDModel):
    """GPUs per replica. `model` and `models` are two spellings of one field (both appear in the
    product documents): the allowed GPU models, any of which may serve."""

    model_config = ConfigDict(
        json_schema_extra={"x-kubernetes-validations": [GPU_MODEL_XOR_VRAM.as_rule(), GPU_MODEL_SPELLINGS.as_rule()]}
    )

    requests: Annotated[int | None, Field(ge=0)] = None
    """Number of GPUs per replica."""
    model: Annotated[str | None, Field(max_length=64)] = None
    """GPU model, such as MI300X (same meaning as a one-item `models`)."""
    models: Annotated[list[Annotated[str, Field(max_length=64)]] | None, Field(max_length=16)] = None
    """GPU models any of which may serve, such as [MI300X, MI325X]."""
    min_vram: Quantity | None = None
    """Minimum VRAM per GPU; any GPU model present in the cluster with at least this much qualifies."""
    resource_name: Annotated[str, SchemaDefault("amd.com/gpu")] = "amd.com/gpu"
    """Extended resource that counts GPUs on nodes."""

    def allowed_models(self) -> list[str]:
        """The one meaning of `model`/`models`."""
        return list(self.models or ([self.model] if self.model else []))


def gpu_models(gpu: Mapping[str, Any] | None) -> list[str]:
    """`GpuRequirements.allowed_models` for a spec read as data (either spelling)."""
    gpu = gpu or {}
    return list(gpu.get("models") or ([gpu["model"]] if gpu.get("model") else []))


def template_hardware(hardware: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Hardware as the controller writes it on a template it generates: one GPU model as
    `gpu.model: X`, as upstream spells it (v1alpha2 objects, such as a stored AIMModel, only have
    `models`); several stay `models`."""
    if hardware is None:
        return None
    result = dict(hardware)
    if isinstance(result.get("cpu"), Mapping):
        # Quantities as Kubernetes writes them back ("2000m" → "2"), as upstream's objects have them.
        result["cpu"] = {
            k: canonical_quantity(v) if k in ("requests", "limits") and v is not None else v
            for k, v in result["cpu"].items()
        }
    gpu = dict(result.get("gpu") or {})
    models = gpu_models(gpu)
    if len(models) == 1:
        gpu.pop("models", None)
        gpu["model"] = models[0]
        result["gpu"] = gpu
    return result


class CpuRequirements(CRDModel):
    requests: Quantity
    """CPU requested per replica."""
    limits: Quantity | None = None
    """CPU limit per replica."""


class HardwareRequirements(CRDModel):
    """What one replica needs: GPUs, or CPUs for CPU-only models."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": [GPU_OR_CPU.as_rule()]})

    gpu: GpuRequirements | None = None
    """GPU requirements."""
    cpu: CpuRequirements | None = None
    """CPU requirements (CPU-only models)."""


# -- model sources and references ---------------------------------------------------------------


class ModelSource(CRDModel):
    """A downloadable model artifact."""

    model_id: Annotated[str, Field(pattern=MODEL_ID_PATTERN)]
    """Canonical identifier in {org}/{name} form, e.g. Qwen/Qwen3-32B."""
    source_uri: Annotated[str, Field(pattern=SOURCE_URI_PATTERN)]
    """Where to download from: hf://org/name[@revision] or s3://bucket/prefix."""
    size: Quantity | None = None
    """Storage the artifact needs; discovered before the volume is created when omitted."""
    env: EnvList | None = None
    """Per-source credentials (HF_TOKEN, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL)
    referenced from Secrets."""


class ResolvedReference(CRDModel):
    """An object the controller resolved, and where it found it."""

    name: str | None = None
    """Name of the object."""
    namespace: str | None = None
    """Namespace; empty for cluster-scoped objects."""
    scope: ResolutionScope | None = None
    """Namespace, Cluster, or Merged (runtime configs from both)."""
    kind: str | None = None
    """Kind of the object, e.g. AIMClusterServiceTemplate."""
    uid: str | None = None
    """UID of the object."""


class RuntimeParameters(CRDModel):
    metric: Metric | None = None
    """Optimisation target."""
    precision: Precision | None = None
    """Numeric precision."""
    hardware: HardwareRequirements | None = None
    """Hardware per replica."""

"""One row per CEL rule in the generated CRDs: a valid object and an invalid one (or an invalid
update of the valid one, for immutability) with the rule's message. The real API server
(tests/integration/test_cel_rules.py) and `kubectl aim validate` (tests/unit/cli) are held to it."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

V1 = "aim.eai.amd.com/v1alpha1"
V2 = "aim.eai.amd.com/v1alpha2"
GPU1 = {"gpu": {"requests": 1}}


def obj(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, "spec": spec}


def service(api_version: str = V1, **spec: Any) -> dict[str, Any]:
    return obj(api_version, "AIMService", {"model": {"name": "m"}, **spec})


def model(api_version: str = V1, **spec: Any) -> dict[str, Any]:
    return obj(api_version, "AIMModel", {"image": "img:1", **spec})


def template(**spec: Any) -> dict[str, Any]:
    return obj(V1, "AIMServiceTemplate", {"modelName": "m", **spec})


def custom_service(hardware: dict[str, Any], api_version: str = V1) -> dict[str, Any]:
    source = {"modelId": "org/name", "sourceUri": "hf://org/name"}
    return obj(api_version, "AIMService", {"model": {"custom": {"modelSources": [source], "hardware": hardware}}})


def kv_cache(**spec: Any) -> dict[str, Any]:
    return obj(V1, "AIMKVCache", {"kvCacheType": "redis", **spec})


def artifact(**spec: Any) -> dict[str, Any]:
    return obj(V1, "AIMArtifact", {"sourceUri": "hf://org/name", **spec})


def adapter(**spec: Any) -> dict[str, Any]:
    fields = {"type": "adapter", "parentArtifact": "base", "modelId": "org/tone"} | spec
    return artifact(**{key: value for key, value in fields.items() if value is not None})


ADAPTER = {"name": "tone", "kind": "AIMArtifact"}


def profile_set(kind: str = "AIMProfileSet", **spec: Any) -> dict[str, Any]:
    return obj(V2, kind, {"selector": {"aimId": "a/b"}, "version": "0.8.5", **spec})


BASE_SET = {"selector": {"role": "base", "engine": "vllm"}, "versionPolicy": "all"}
BASE_IDENTITY = {"aimId": "a/b", "modelId": "a/b-ft"}


def with_spec(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    for key, value in changes.items():
        if value is None:
            changed["spec"].pop(key, None)
        else:
            changed["spec"][key] = value
    return changed


@dataclass(frozen=True)
class Rule:
    id: str
    valid: dict[str, Any]
    invalid: dict[str, Any]
    message: str
    update: bool = False  # the invalid document is an update of the valid one


CUSTOM_PROFILE = {"engineArgs": {"dtype": "float16"}}
POD_METRIC = {
    "metric": {"backend": "metrics-api", "metricNames": ["vllm:num_requests_running"]},
    "target": {"type": "Value", "value": "1"},
}
SOURCE = [{"modelId": "org/name", "sourceUri": "s3://b/p"}]

RULES = [
    Rule(
        "service-model-exactly-one",
        service(),
        service(model={"name": "m", "image": "i:1"}),
        "exactly one of name, image, or custom must be specified",
    ),
    Rule(
        "service-model-exactly-one-v2",
        service(V2),
        service(V2, model={}),
        "exactly one of name, image, or custom must be specified",
    ),
    Rule(
        "hardware-gpu-or-cpu", custom_service(GPU1), custom_service({}), "at least one of gpu or cpu must be specified"
    ),
    Rule(
        "custom-model-needs-a-source",
        custom_service(GPU1),
        obj(V1, "AIMService", {"model": {"custom": {"modelSources": [], "hardware": GPU1}}}),
        "at least one model source must be specified",
    ),
    Rule(
        "gpu-model-xor-minvram",
        custom_service({"gpu": {"model": "MI300X"}}),
        custom_service({"gpu": {"model": "MI300X", "minVram": "64Gi"}}),
        "model and minVram are mutually exclusive",
    ),
    Rule(
        "gpu-models-xor-minvram-v2",
        custom_service({"gpu": {"models": ["MI300X"]}}, V2),
        custom_service({"gpu": {"models": ["MI300X"], "minVram": "64Gi"}}, V2),
        "models and minVram are mutually exclusive",
    ),
    Rule(
        "gpu-model-one-spelling",
        custom_service({"gpu": {"models": ["MI300X"]}}),
        custom_service({"gpu": {"model": "MI300X", "models": ["MI300X"]}}),
        "gpu.model and gpu.models are two spellings of the same field",
    ),
    Rule(
        "profile-overrides-need-profile",
        obj(V2, "AIMService", {"profile": {"name": "p"}, "profileOverrides": {}}),
        obj(V2, "AIMService", {"model": {"name": "m"}, "profileOverrides": {}}),
        "spec.profileOverrides requires spec.profile to be set",
    ),
    Rule(
        "profile-xor-template",
        obj(V2, "AIMService", {"profile": {"name": "p"}}),
        obj(V2, "AIMService", {"profile": {"name": "p"}, "template": {"name": "t"}}),
        "spec.profile and spec.template are mutually exclusive",
    ),
    Rule(
        "model-or-profile",
        obj(V2, "AIMService", {"profile": {"name": "p"}}),
        obj(V2, "AIMService", {"replicas": 1}),
        "one of spec.model or spec.profile must be specified",
    ),
    Rule(
        "min-replicas-le-max-v2",
        service(V2, minReplicas=1, maxReplicas=2),
        service(V2, minReplicas=3, maxReplicas=2),
        "spec.minReplicas must not exceed spec.maxReplicas",
    ),
    Rule(
        "min-replicas-le-max",
        service(minReplicas=0, maxReplicas=2),
        service(minReplicas=3, maxReplicas=2),
        "spec.minReplicas must not exceed spec.maxReplicas",
    ),
    Rule(
        "autoscaling-not-empty",
        service(minReplicas=1, maxReplicas=2, autoScaling={"cooldownPeriod": 30}),
        service(minReplicas=1, maxReplicas=2, autoScaling={}),
        "spec.autoScaling must not be empty: set at least one of metrics, pollingInterval, or cooldownPeriod,"
        " or omit the autoScaling block to use default scaling",
    ),
    Rule(
        "autoscaling-podmetric-set",
        service(autoScaling={"metrics": [{"type": "PodMetric", "podmetric": POD_METRIC}]}),
        service(autoScaling={"metrics": [{"type": "PodMetric"}]}),
        "metrics entry of type PodMetric must set podmetric",
    ),
    Rule(
        "autoscaling-metric-has-a-query",
        service(V2, autoScaling={"metrics": [{"type": "PodMetric", "podmetric": POD_METRIC}]}),
        service(
            V2,
            autoScaling={
                "metrics": [{"type": "PodMetric", "podmetric": POD_METRIC | {"metric": {"backend": "metrics-api"}}}]
            },
        ),
        "podmetric.metric must set query or metricNames so the scaler has something to query",
    ),
    *(
        Rule(
            f"autoscaling-target-{kind.lower()}-needs-{field}",
            service(autoScaling={"metrics": [{"type": "PodMetric", "podmetric": POD_METRIC}]}),
            service(
                autoScaling={"metrics": [{"type": "PodMetric", "podmetric": POD_METRIC | {"target": {"type": kind}}}]}
            ),
            f"target type {kind} requires target.{field}",
        )
        for kind, field in (("Value", "value"), ("AverageValue", "averageValue"), ("Utilization", "averageUtilization"))
    ),
    Rule(
        "route-template-one-spelling",
        service(routing={"pathTemplate": "/a"}),
        service(routing={"pathTemplate": "/a", "routeTemplate": "/b"}),
        "pathTemplate and routeTemplate are two spellings of the same field",
    ),
    Rule(
        "service-model-immutable",
        service(),
        service(model={"name": "other"}),
        "model selection is immutable after creation",
        update=True,
    ),
    Rule(
        "service-template-immutable",
        service(template={"name": "t"}),
        service(template={"name": "u"}),
        "template selection is immutable after creation",
        update=True,
    ),
    Rule(
        "service-caching-immutable",
        service(caching={"mode": "Shared"}),
        service(caching={"mode": "Dedicated"}),
        "caching mode is immutable after creation",
        update=True,
    ),
    Rule(
        "override-metric-immutable",
        service(overrides={"metric": "latency"}),
        service(overrides={"metric": "throughput"}),
        "metric is immutable",
        update=True,
    ),
    Rule(
        "override-precision-immutable",
        service(overrides={"precision": "fp8"}),
        service(overrides={"precision": "fp16"}),
        "precision is immutable",
        update=True,
    ),
    Rule(
        "override-hardware-immutable",
        service(overrides={"hardware": GPU1}),
        service(overrides={"hardware": {"gpu": {"requests": 2}}}),
        "hardware is immutable",
        update=True,
    ),
    Rule(
        "model-image-required",
        model(),
        obj(V1, "AIMModel", {"aimId": "a/b", "custom": {"versionPolicy": "pinned"}}),
        "spec.image is required unless spec.aimId is set with spec.custom.versionPolicy latest or any",
    ),
    Rule(
        "model-image-optional-for-latest-v2",
        obj(V2, "AIMModel", {"aimId": "a/b", "custom": {"versionPolicy": "latest"}}),
        obj(V2, "AIMModel", {"aimId": "a/b"}),
        "spec.image is required unless spec.aimId is set with spec.custom.versionPolicy latest or any",
    ),
    Rule(
        "model-sources-need-hardware",
        model(modelSources=SOURCE, custom={"hardware": GPU1}),
        model(modelSources=SOURCE),
        "when using modelSources, hardware must be specified",
    ),
    Rule(
        "custom-templates-one-spelling",
        model(customTemplates=[{"name": "a"}]),
        model(customTemplates=[{"name": "a"}], custom={"templates": [{"name": "b"}]}),
        "spec.customTemplates and spec.custom.templates are two spellings of one list",
    ),
    Rule(
        "custom-template-profile-needs-fields",
        model(
            customTemplates=[
                {
                    "aimId": "a/b",
                    "modelId": "a/b",
                    "hardware": GPU1,
                    "profile": {"metric": "latency", "precision": "fp16"},
                    "customProfile": CUSTOM_PROFILE,
                }
            ]
        ),
        model(customTemplates=[{"aimId": "a/b", "customProfile": CUSTOM_PROFILE}]),
        "when customProfile is set, aimId, modelId, hardware, profile.metric, and profile.precision are required",
    ),
    Rule(
        "template-custom-profile-needs-fields",
        template(
            aimId="a/b", modelId="a/b", hardware=GPU1, metric="latency", precision="fp16", customProfile=CUSTOM_PROFILE
        ),
        template(aimId="a/b", customProfile=CUSTOM_PROFILE),
        "when customProfile is set, aimId, modelId, hardware, metric, and precision are required",
    ),
    Rule(
        "template-model-name-immutable", template(), template(modelName="other"), "model name is immutable", update=True
    ),
    Rule(
        "template-hardware-immutable",
        template(hardware=GPU1),
        template(hardware={"cpu": {"requests": "2"}}),
        "hardware is immutable",
        update=True,
    ),
    Rule(
        "artifact-source-immutable",
        obj(V1, "AIMArtifact", {"sourceUri": "hf://a/b"}),
        obj(V1, "AIMArtifact", {"sourceUri": "hf://a/c"}),
        "sourceUri is immutable",
        update=True,
    ),
    Rule(
        "artifact-download-filter-immutable",
        obj(V1, "AIMArtifact", {"sourceUri": "hf://a/b", "downloadFilter": {"include": ["*.json"]}}),
        obj(V1, "AIMArtifact", {"sourceUri": "hf://a/b", "downloadFilter": {}}),
        "downloadFilter is immutable",
        update=True,
    ),
    Rule(
        "artifact-download-filter-presence-immutable",
        obj(V1, "AIMArtifact", {"sourceUri": "hf://a/b"}),
        obj(V1, "AIMArtifact", {"sourceUri": "hf://a/b", "downloadFilter": {}}),
        "downloadFilter is immutable: it cannot be added or removed after creation",
        update=True,
    ),
    Rule(
        "profile-set-selects-something",
        profile_set(),
        obj(V2, "AIMProfileSet", {"version": "0.8.5"}),
        "selector must set at least one matching field, or set sourceRef",
    ),
    Rule(
        "cluster-profile-set-selects-something",
        obj(V2, "AIMClusterProfileSet", {"sourceRef": {"name": "cache"}, "version": "0.8.5"}),
        profile_set("AIMClusterProfileSet", selector={"role": "deployable", "minimumType": "general"}),
        "selector must set at least one matching field, or set sourceRef",
    ),
    Rule(
        "profile-set-pinned-needs-version",
        profile_set(versionPolicy="pinned"),
        obj(V2, "AIMProfileSet", {"selector": {"aimId": "a/b"}}),
        "version is required when versionPolicy is pinned",
    ),
    Rule(
        "profile-set-latest-without-version",
        obj(V2, "AIMProfileSet", {"selector": {"aimId": "a/b"}, "versionPolicy": "latest"}),
        profile_set(versionPolicy="latest"),
        "latest/all versionPolicy must not set version",
    ),
    Rule(
        "profile-set-base-without-source-identity",
        obj(V2, "AIMProfileSet", {**BASE_SET, "overrides": BASE_IDENTITY}),
        obj(
            V2, "AIMProfileSet", {**BASE_SET, "selector": {"role": "base", "aimId": "a/b"}, "overrides": BASE_IDENTITY}
        ),
        "selector.aimId/modelId/profileId are not allowed when selector.role=base",
    ),
    Rule(
        "profile-set-base-needs-identity-overrides",
        obj(V2, "AIMProfileSet", {**BASE_SET, "overrides": BASE_IDENTITY}),
        obj(V2, "AIMProfileSet", {**BASE_SET, "overrides": {"aimId": "a/b"}}),
        "selector.role=base requires overrides.aimId and overrides.modelId",
    ),
    Rule(
        "profile-set-partitioning-needs-count",
        profile_set(overrides={"acceleratorCount": 2}),
        profile_set(overrides={"acceleratorPartitioningMode": "CPX-NPS4"}),
        "overrides.acceleratorCount must be specified together with any overrides.acceleratorPartitioningMode",
    ),
    Rule(
        "profile-aim-id-immutable",
        obj(V2, "AIMProfile", {"aimId": "a/b", "image": "i:1"}),
        obj(V2, "AIMProfile", {"aimId": "a/c", "image": "i:1"}),
        "aimId is immutable",
        update=True,
    ),
    Rule(
        "kv-cache-storage-size-immutable",
        kv_cache(storage={"size": "1Gi"}),
        kv_cache(storage={"size": "2Gi"}),
        "storage size is immutable once set",
        update=True,
    ),
    Rule(
        "kv-cache-storage-class-immutable",
        kv_cache(storage={"storageClassName": "fast"}),
        kv_cache(storage={"storageClassName": "slow"}),
        "storage class name is immutable once set",
        update=True,
    ),
    Rule(
        "kv-cache-access-modes-immutable",
        kv_cache(storage={"accessModes": ["ReadWriteOnce"]}),
        kv_cache(storage={"accessModes": ["ReadWriteMany"]}),
        "access modes are immutable once set",
        update=True,
    ),
    Rule(
        "artifact-type-immutable",
        artifact(type="model"),
        artifact(type="adapter", parentArtifact="base", modelId="org/tone"),
        "spec.type is immutable",
        update=True,
    ),
    Rule("adapter-needs-parent", adapter(), adapter(parentArtifact=None), "spec.parentArtifact is required"),
    Rule(
        "adapter-needs-model-id",
        adapter(),
        adapter(modelId=None, sourceUri="s3://bucket/tone"),  # a source the webhook names no model after
        "spec.modelId is required when spec.type",
    ),
    Rule(
        "parent-only-on-adapters",
        artifact(),
        artifact(parentArtifact="base"),
        "spec.parentArtifact is only allowed when spec.type is adapter",
    ),
    Rule(
        "adapter-disk-only-on-models",
        artifact(adapterDisk={"size": "10Gi"}),
        adapter(adapterDisk={}),
        "spec.adapterDisk is only allowed when spec.type is model",
    ),
    Rule("rank-only-on-adapters", adapter(rank=16), artifact(rank=16), "spec.rank is only allowed when spec.type"),
    Rule(
        "adapter-parent-immutable",
        adapter(),
        adapter(parentArtifact="other"),
        "parentArtifact is immutable",
        update=True,
    ),
    Rule(
        "service-adapters-frozen-unless-dynamic",
        service(adapters=[ADAPTER]),
        service(adapters=[ADAPTER, {"name": "other", "kind": "AIMArtifact"}]),
        "spec.adapters is immutable unless spec.adapterMode is dynamic",
        update=True,
    ),
    Rule(
        "service-adapter-mode-immutable",
        service(adapterMode="dynamic"),
        service(adapterMode="static"),
        "spec.adapterMode is immutable after creation",
        update=True,
    ),
    Rule(
        "service-adapters-need-shared-caching",
        service(V2, adapters=[ADAPTER], caching={"mode": "Shared"}),
        service(V2, adapters=[ADAPTER], caching={"mode": "Dedicated"}),
        "LoRA adapters (spec.adapters, spec.adapterMode: dynamic) need Shared caching",
    ),
    Rule(
        "service-adapter-source-needs-model-id",
        service(adapters=[ADAPTER]),
        service(adapters=[ADAPTER | {"sourceUri": "hf://org/tone"}]),
        "modelId is required when sourceUri is set",
    ),
    Rule(
        "service-adapter-rank-needs-source",
        service(adapters=[ADAPTER | {"sourceUri": "hf://org/tone", "modelId": "org/tone", "rank": 8}]),
        service(adapters=[ADAPTER | {"rank": 8}]),
        "modelId and rank are only allowed together with sourceUri",
    ),
]

"""Every label, annotation and finalizer key AIM Engine reads or writes, with the API groups and
versions of the objects it creates. Part of the contract: dashboards, `kubectl -l` selectors and
runbooks depend on these keys, so they live in one place and match upstream AIM Engine's.

The controller, the webhooks and the tests import them from here; a test fails when a controller
module spells one of them as a literal.
"""

from __future__ import annotations

from typing import Final

GROUP: Final = "aim.eai.amd.com"
V1ALPHA1: Final = f"{GROUP}/v1alpha1"
V1ALPHA2: Final = f"{GROUP}/v1alpha2"
KSERVE_GROUP: Final = "serving.kserve.io"
INFERENCE_SERVICE_API: Final = f"{KSERVE_GROUP}/v1beta1"
GATEWAY_GROUP: Final = "gateway.networking.k8s.io"
HTTP_ROUTE_API: Final = f"{GATEWAY_GROUP}/v1"
AIM_PREFIX: Final = f"{GROUP}/"
"""`aim.eai.amd.com/*` labels of a parent always propagate to what it creates."""

# Kubernetes' recommended labels (app.kubernetes.io/*), as every AIM Engine object carries them.
MANAGED_BY: Final = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE: Final = "aim-engine"
"""The value of MANAGED_BY on everything the controller creates; its watches select by it."""
COMPONENT: Final = "app.kubernetes.io/component"
NAME: Final = "app.kubernetes.io/name"
COMPONENT_INFERENCE: Final = "inference"
COMPONENT_ROUTING: Final = "routing"
COMPONENT_DISCOVERY: Final = "discovery"
COMPONENT_KV_CACHE: Final = "kv-cache"
COMPONENT_AUTOSCALING: Final = "autoscaling"
"""The KEDA ScaledObject of an autoscaled service."""
"""The KV cache backend's StatefulSet, Service and pods (AIMKVCache)."""
DISCOVERY_APP_NAME: Final = "aim-discovery"

# What an object was made from (labels; values are RFC 1123 forms of the parent's name).
SERVICE: Final = f"{GROUP}/service"
"""InferenceServices, HTTPRoutes and caches: the AIMService they serve."""
MODEL: Final = f"{GROUP}/model"
"""Templates, InferenceServices: the model's name."""
TEMPLATE: Final = f"{GROUP}/template"
"""InferenceServices: the template; discovery Jobs: the cluster template they run for."""
PROFILE: Final = f"{GROUP}/profile"
"""InferenceServices of spec.profile services: the profile."""
METRIC: Final = f"{GROUP}/metric"
"""InferenceServices: the optimisation metric of the template or profile deployed, when known."""
PRECISION: Final = f"{GROUP}/precision"
"""InferenceServices: the precision of the template or profile deployed, when known."""
ORIGIN: Final = f"{GROUP}/origin"
"""Models and templates the controller created: `auto-generated` (models for a service's image or
found by a model source, templates from an image's recommended deployments or a custom model's
spec, as upstream), `derived` (a service's overrides), `fine-tuned` (copies of a family's templates)."""
ORIGIN_AUTO_GENERATED: Final = "auto-generated"
ORIGIN_DERIVED: Final = "derived"
ORIGIN_CUSTOM: Final = "custom"
"""The word in the names of a custom model's templates (upstream's names); their origin label is
auto-generated."""
ORIGIN_FINE_TUNED: Final = "fine-tuned"
"""Copies of official templates a fine-tuned model (spec.aimId + spec.modelSources) makes."""
CUSTOM_MODEL: Final = f"{GROUP}/custom-model"
"""Models built from a service's spec.model.custom."""
MODEL_SOURCE: Final = f"{GROUP}/model-source"
"""AIMClusterModels an AIMClusterModelSource created: the source's name."""
TEMPLATE_ALIAS: Final = f"{GROUP}/template.alias"
TEMPLATE_CACHE: Final = f"{GROUP}/template-cache.name"
"""Artifacts of a template cache: the cache's name."""
PROFILE_CACHE: Final = f"{GROUP}/profile-cache.name"
"""Artifacts of a profile cache: the cache's name."""
TEMPLATE_CREATED: Final = "template-created"
"""Artifacts a template cache created: `"true"`. Without the group prefix, as upstream spells it (so
it is not propagated further down)."""
TEMPLATE_NAME: Final = f"{GROUP}/template.name"
TEMPLATE_SCOPE: Final = f"{GROUP}/template.scope"
TEMPLATE_INDEX: Final = f"{GROUP}/template.index"
PROFILE_NAME: Final = f"{GROUP}/profile.name"
PROFILE_SCOPE: Final = f"{GROUP}/profile.scope"
PROFILE_INDEX: Final = f"{GROUP}/profile.index"
CACHE_TYPE: Final = f"{GROUP}/cache.type"
"""PVCs and Jobs of an artifact: `artifact`."""
CACHE_TYPE_ARTIFACT: Final = "artifact"
CACHE_NAME: Final = f"{GROUP}/cache.name"
"""PVCs and Jobs of an artifact: the artifact's name."""
AIM_COMPONENT: Final = f"{GROUP}/component"
"""An artifact's Jobs: `download` or `check-size` (upstream's key; app.kubernetes.io/component too)."""
COMPONENT_DOWNLOAD: Final = "download"
COMPONENT_CHECK_SIZE: Final = "check-size"
COMPONENT_ADAPTER_STAGE: Final = "adapter-stage"
"""A service's Job staging one adapter into its subtree (upstream's value)."""
COMPONENT_ADAPTER_SYNC: Final = "adapter-subtree-sync"
"""A service's Job creating its adapter subtree and pruning removed adapters."""
COMPONENT_ADAPTER_REAP: Final = "adapter-reap"
"""A model artifact's Job removing the subtrees of deleted services."""
COMPONENT_ADAPTER_DISK: Final = "adapter-disk"
"""A model artifact's adapter disk (PVC)."""
SOURCE_MODEL: Final = f"{GROUP}/source-model"
"""An artifact's PVC: its source URI without the scheme, as a label value (`amd_llama-3.1-8b`).
Profiles (upstream's AIMModel reconcilers stamp it): the model that produced them; a profile set's
selector.modelRef selects by it."""
OWNER_NAME: Final[dict[str, str]] = {
    "AIMService": f"{GROUP}/service.name",
    "AIMServiceTemplate": f"{GROUP}/service-template.name",
    "AIMClusterServiceTemplate": f"{GROUP}/cluster-service-template.name",
    "AIMTemplateCache": f"{GROUP}/template-cache.name",
    "AIMArtifact": f"{GROUP}/artifact.name",
    "AIMModel": f"{GROUP}/model.name",
    "AIMClusterModel": f"{GROUP}/cluster-model.name",
    "AIMClusterModelSource": f"{GROUP}/cluster-model-source.name",
    "AIMKVCache": f"{GROUP}/kvcache.name",
}
"""`aim.eai.amd.com/<kind>.name: <name>` on everything an object of that kind creates (and on a
Job's pods), as upstream's reconcile framework stamps it: `kubectl get all -l
aim.eai.amd.com/service.name=chat` finds what a service made."""
PROFILE_ORIGIN: Final = f"{GROUP}/profile-origin"
"""Profiles: how they were produced (api.v1alpha2.aimprofileset.ProfileOrigin); profile sets
select by it and stamp `derived` on the profiles they derive."""
PROFILE_ROLE: Final = f"{GROUP}/profile-role"
"""Profiles: `base` (derivation material) or `deployable` (api.v1alpha2.aimprofileset.ProfileRole);
profile sets select by it."""
SOURCE_MODEL_SCOPE: Final = f"{GROUP}/source-model-scope"
"""Profiles a model produced: `namespace` (an AIMModel) or `cluster` (an AIMClusterModel), with the
model's name in SOURCE_MODEL (values: api.v1alpha2.aimprofileset.SourceModelScope); a profile
set's selector.modelRef selects by both."""
ACCELERATOR_PREFIX: Final = "feature.node.kubernetes.io/aim-accelerator."
"""Node labels naming the accelerators a node has (node-feature-discovery)."""

# Labels others set, which the controller reads.
GPU_DEVICE_ID: Final = "amd.com/gpu.device-id"
"""Node label of the AMD GPU operator: the PCI device id of the node's GPUs; templates' node
affinity selects by it."""
GPU_DEVICE_ID_BETA: Final = "beta.amd.com/gpu.device-id"
GPU_DEVICE_ID_COUNT_PREFIX: Final = f"{GPU_DEVICE_ID}."
"""Node labels `<prefix><device id>` (newer node labellers): one per device id the node has."""
GPU_FAMILY: Final = "amd.com/gpu.family"
GPU_VRAM: Final = "amd.com/gpu.vram"
GPU_VRAM_BETA: Final = "beta.amd.com/gpu.vram"
KSERVE_INFERENCE_SERVICE: Final = f"{KSERVE_GROUP}/inferenceservice"
"""Set by KServe on an InferenceService's predictor Deployment and pods: the InferenceService's name."""
JOB_NAME: Final = "job-name"
"""Set by Kubernetes on a Job's pods: the Job's name."""

# Annotations.
RECONCILIATION_PAUSED: Final = f"{GROUP}/reconciliation-paused"
"""`"true"` stops the controller from touching the object (and what it owns)."""
APPLIED_HASH: Final = f"{GROUP}/applied-hash"
"""On applied children: a hash of the desired object, so an unchanged one is not written again."""
DEPLOYMENT_IMAGE: Final = f"{GROUP}/deployment-image-ref"
AUTOSCALER_CLASS: Final = f"{KSERVE_GROUP}/autoscalerClass"
AUTOSCALER_CLASS_EXTERNAL: Final = "external"
"""KServe creates no autoscaler: the service's own KEDA ScaledObject scales the predictor (upstream
since 0.2.5; before, `keda` made KServe write a ScaledObject of its own)."""
AUTOSCALING_GROUP: Final = "autoscaling"
"""Kubernetes' API group of HorizontalPodAutoscalers (KEDA makes one per ScaledObject)."""
KEDA_GROUP: Final = "keda.sh"
SCALED_OBJECT_API: Final = f"{KEDA_GROUP}/v1alpha1"
OTEL_SIDECAR_INJECT: Final = "sidecar.opentelemetry.io/inject"
PROMETHEUS_PORT: Final = "prometheus.kserve.io/port"
SOURCE_REGISTRY: Final = f"{GROUP}/source-registry"
"""AIMClusterModels an AIMClusterModelSource created: the registry the image was listed in."""
SOURCE_REPOSITORY: Final = f"{GROUP}/source-repository"
"""AIMClusterModels an AIMClusterModelSource created: the image's repository."""
SOURCE_TAG: Final = f"{GROUP}/source-tag"
"""AIMClusterModels an AIMClusterModelSource created: the image's tag."""
PROFILE_COPYABLE: Final = f"{GROUP}/profile-copyable"
"""Profiles: `"true"` lets profile sets derive from this one (an annotation, as upstream reads it)."""
PROFILE_SOURCE: Final = f"{GROUP}/profile-source"
"""Profiles: what a profile was made from; `copy` on the ones profile sets derive."""
PROFILE_SOURCE_COPY: Final = "copy"
PROFILE_SET_UID: Final = f"{GROUP}/profile-set-uid"
"""Profiles a profile set derived: the set's uid (how the set finds them to prune)."""
PROFILE_SET_NAME: Final = f"{GROUP}/profile-set-name"
"""Profiles a profile set derived: the set's name."""
PROFILE_SET_NAMESPACE: Final = f"{GROUP}/profile-set-namespace"
"""Profiles a namespaced profile set derived: the set's namespace."""

EVICTION_PROTECTED: Final = f"{GROUP}/eviction-protected"
"""AIMArtifact: `"true"` exempts it from eviction and reaping whatever its retention priority."""
ARTIFACT_STORAGE_QUOTA: Final = f"{GROUP}/artifact-storage-quota"
"""Namespace: the most space its artifacts may allocate (a quantity); replaces the cluster runtime
config's artifactStorageQuota.defaultNamespaceLimit."""

# Finalizers.
SERVICE_FINALIZER: Final = f"{GROUP}/template-cache-cleanup"
"""AIMService: delete its Shared caches that never became Ready."""
CACHE_FINALIZER: Final = f"{GROUP}/artifactcleanup"
"""Template and profile caches: delete their artifacts that never became Ready."""
KOPF_FINALIZER: Final = f"{GROUP}/kopf-finalizer"
"""kopf's own (the controller registers no kopf finalizer handlers, so kopf never adds it)."""

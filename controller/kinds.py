"""Every reconciled kind in one table (edge wiring): how it is read, planned and cleaned up, and
which events enqueue it. The reconciler (controller.runner) and the kopf registration
(controller.handlers) are generic; a new kind is one entry here (checked by
tests/unit/controller/test_kinds.py against the API registry, RBAC and the layering contracts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api import labels
from controller import watches as w
from controller.artifact.fetch import fetch_artifact
from controller.artifact.plan import plan_artifact
from controller.cache.fetch import fetch_template_cache
from controller.cache.plan import plan_template_cache
from controller.common.kserve_events import KSERVE_EVENTS
from controller.kube.client import Kube
from controller.kvcache.fetch import fetch_kv_cache
from controller.kvcache.plan import plan_kv_cache
from controller.model.fetch import fetch_model
from controller.model.plan import plan_model
from controller.modelsource.fetch import fetch_model_source
from controller.modelsource.plan import plan_model_source
from controller.profile.fetch import fetch_profile
from controller.profile.plan import plan_profile
from controller.profilecache.fetch import fetch_profile_cache
from controller.profilecache.plan import plan_profile_cache
from controller.profileset.fetch import fetch_profile_set
from controller.profileset.plan import plan_profile_set
from controller.runner import Context, Kind, Observation, Serialised, Stage
from controller.service.adapters import ADAPTER_JOB_COMPONENTS
from controller.service.cleanup import plan_service_cleanup
from controller.service.fetch import fetch_service, fetch_service_cleanup
from controller.service.plan import plan_service
from controller.template.fetch import fetch_template
from controller.template.plan import may_start_discovery, plan_template

V1, V2 = "v1alpha1", "v1alpha2"
NODES = w.Resource("", "v1", "nodes")
RUNTIME_CONFIG = w.aim("aimruntimeconfigs", V1)
CLUSTER_RUNTIME_CONFIG = w.aim("aimclusterruntimeconfigs", V1)
TEMPLATE = w.aim("aimservicetemplates", V1)
CLUSTER_TEMPLATE = w.aim("aimclusterservicetemplates", V1)
MODEL = w.aim("aimmodels", V2)
CLUSTER_MODEL = w.aim("aimclustermodels", V2)
PROFILE = w.aim("aimprofiles", V2)
CLUSTER_PROFILE = w.aim("aimclusterprofiles", V2)
ARTIFACT = w.aim("aimartifacts", V1)
TEMPLATE_CACHE = w.aim("aimtemplatecaches", V1)
PROFILE_CACHE = w.aim("aimprofilecaches", V2)
KV_CACHE = w.aim("aimkvcaches", V1)
SERVICES = w.aim("aimservices", V2)
DISCOVERY_JOBS = w.Resource("batch", "v1", "jobs", ((labels.COMPONENT, labels.COMPONENT_DISCOVERY),))
ARTIFACT_CHILD = ((labels.CACHE_TYPE, labels.CACHE_TYPE_ARTIFACT),)


def ADAPTER_JOBS(component: str) -> w.Resource:  # noqa: N802 - a constant per component
    return w.Resource("batch", "v1", "jobs", ((labels.COMPONENT, component),))


def runtime_configs(kind: str, cluster_scoped: bool = False) -> tuple[w.Watch, w.Watch]:
    """A runtime config changes what objects resolve it: a namespaced config those of its
    namespace, a cluster config all of them (cluster-scoped kinds: all of them either way)."""
    to_keys = w.tracked(kind, same_namespace=not cluster_scoped)
    return (w.Watch(RUNTIME_CONFIG, to_keys), w.Watch(CLUSTER_RUNTIME_CONFIG, to_keys))


def gpu_nodes(to_keys: w.ToKeys) -> w.Watch:
    return w.Watch(NODES, to_keys, fingerprint=w.gpu_fingerprint)


def _template_fetch(ctx: Context, template: dict[str, Any]) -> Any:
    settings = ctx.settings
    return fetch_template(ctx.kube, template, settings.system_namespace, settings.job_pod_annotations)


def _artifact_fetch(ctx: Context, artifact: dict[str, Any]) -> Any:
    settings = ctx.settings
    image, annotations, role = settings.downloader_image, settings.job_pod_annotations, settings.artifact_status_role
    reap = (settings.adapter_reap_interval_seconds, settings.adapter_reap_min_age_seconds)
    return fetch_artifact(ctx.kube, artifact, image, annotations, role, reap)


def _model_fetch(ctx: Context, model: dict[str, Any]) -> Any:
    settings = ctx.settings
    return fetch_model(ctx.kube, model, ctx.registry, settings.system_namespace, settings.image_retry_seconds)


def _source_fetch(ctx: Context, source: dict[str, Any]) -> Any:
    return fetch_model_source(ctx.kube, source, client=ctx.catalog, operator_namespace=ctx.settings.system_namespace)


def _kube(fetch: Callable[[Kube, dict[str, Any]], Observation]) -> Callable[[Context, dict[str, Any]], Observation]:
    """A fetch that needs only the API server."""
    return lambda ctx, obj: fetch(ctx.kube, obj)


SERVICE = Kind(
    "AIMService",
    V2,
    Stage(
        lambda ctx, service: fetch_service(
            ctx.kube, service, ctx.kserve_warnings, ctx.settings.downloader_image, ctx.settings.activator_url
        ),
        plan_service,
    ),
    watches=(
        w.Watch(w.managed(labels.KSERVE_GROUP, "v1beta1", "inferenceservices"), w.services_owning),
        w.Watch(w.managed(labels.GATEWAY_GROUP, "v1", "httproutes"), w.services_owning),
        w.Watch(
            w.managed(labels.KEDA_GROUP, "v1alpha1", "scaledobjects"),
            w.services_owning,
            fingerprint=w.scaled_object_fingerprint,
        ),
        w.Watch(
            w.managed(labels.AUTOSCALING_GROUP, "v2", "horizontalpodautoscalers"),
            w.services_of_pod,
            fingerprint=w.hpa_fingerprint,
        ),
        w.Watch(MODEL, w.services_of_namespace),
        w.Watch(CLUSTER_MODEL, w.services_referring("model")),
        w.Watch(TEMPLATE, w.services_of_namespace),
        w.Watch(CLUSTER_TEMPLATE, w.services_of_namespace),
        w.Watch(TEMPLATE_CACHE, w.services_of_namespace, fingerprint=w.cache_fingerprint),
        w.Watch(PROFILE, w.services_referring("profile")),
        w.Watch(CLUSTER_PROFILE, w.services_referring("profile")),
        w.Watch(PROFILE_CACHE, w.profile_cache_services),
        w.Watch(RUNTIME_CONFIG, w.services_referring("runtime_config")),
        w.Watch(CLUSTER_RUNTIME_CONFIG, w.services_referring("runtime_config")),
        gpu_nodes(w.auto_selecting_services),
        w.Watch(w.managed("", "v1", "pods"), w.services_of_pod, fingerprint=w.pod_fingerprint),
        w.Watch(w.Resource("", "v1", "events", stored=False, fields=KSERVE_EVENTS), w.services_warned_by_kserve),
        w.Watch(KV_CACHE, w.services_of_namespace),
        *(w.Watch(ADAPTER_JOBS(component), w.services_owning) for component in ADAPTER_JOB_COMPONENTS),
        w.Watch(ARTIFACT, w.services_with_adapters, fingerprint=w.adapter_artifact_fingerprint),
    ),
    # Never added now (a cache that nothing uses deletes itself: controller.common.caching
    # .abandoned); removed, after its clean-up, from services that carry it from upstream or an
    # earlier release.
    finalizer=labels.SERVICE_FINALIZER,
    finalizer_needed=lambda observed, plan: False,
    clean_up=Stage(_kube(fetch_service_cleanup), plan_service_cleanup),
    urgent=False,
)


DISCOVERY_SLOTS = Serialised("discovery-slots", may_start_discovery)
"""Templates that may start a discovery Job reconcile one at a time (namespaced and cluster
alike): the cluster-wide limit counts the Jobs they create."""


ARTIFACT_QUOTA = Serialised(
    "artifact-quota", lambda artifact: not (artifact.get("status") or {}).get("persistentVolumeClaim")
)
"""Artifacts without a volume yet reconcile one at a time: each counts the volumes the others
planned when it checks a storage quota (the write-through store has them at once)."""


def _template_kind(name: str, cluster: bool) -> Kind:
    """A template resolves its model (a namespaced one in its namespace, then the cluster; a
    cluster one in the cluster), places itself on GPU nodes and runs discovery Jobs. A namespaced
    model's event also enqueues cluster templates (cheap; the rule stays in the planner)."""
    discovery_jobs = w.cluster_template_of_discovery_job if cluster else w.owners(name)
    return Kind(
        name,
        V1,
        Stage(_template_fetch, plan_template),
        watches=(
            w.Watch(MODEL, w.tracked(name, same_namespace=not cluster)),
            w.Watch(CLUSTER_MODEL, w.tracked(name)),
            gpu_nodes(w.tracked(name)),
            w.Watch(DISCOVERY_JOBS, discovery_jobs),
            *runtime_configs(name, cluster_scoped=cluster),
        ),
        serialised=DISCOVERY_SLOTS,
    )


def _model_kind(name: str, cluster: bool) -> Kind:
    """A model aggregates the templates it owns (and AIM-family templates it copies)."""
    to_keys = w.models_of_template(name, cluster=cluster)
    return Kind(
        name,
        V2,
        Stage(_model_fetch, plan_model),
        watches=(
            w.Watch(TEMPLATE, to_keys),
            w.Watch(CLUSTER_TEMPLATE, to_keys),
            *runtime_configs(name, cluster_scoped=cluster),
        ),
    )


def _cache_kind(
    name: str, version: str, stage: Stage[Any], sources: tuple[w.Resource, w.Resource], label: str, *more: w.Watch
) -> Kind:
    """A template or profile cache follows its source (namespaced or cluster template or profile),
    the artifacts that name it in `label` or are owned by it, and the deletion of the services
    that may have left it abandoned."""
    return Kind(
        name,
        version,
        stage,
        watches=(
            *(w.Watch(source, w.tracked(name)) for source in sources),
            w.Watch(ARTIFACT, w.caches_of_artifact(name, label)),
            w.Watch(SERVICES, w.caches_a_service_left(name)),
            *more,
        ),
    )


def _profile_set_kind(name: str, cluster: bool) -> Kind:
    """A profile set derives profiles from the profiles it can see (a namespaced set: its
    namespace's and the cluster's; a cluster set: the cluster's) and counts the ones it derived."""
    to_keys = w.profile_sets_of_profile(name)
    sources = (CLUSTER_PROFILE,) if cluster else (PROFILE, CLUSTER_PROFILE)
    return Kind(
        name,
        V2,
        Stage(_kube(fetch_profile_set), plan_profile_set),
        watches=tuple(w.Watch(source, to_keys) for source in sources),
    )


KINDS: tuple[Kind, ...] = (
    SERVICE,
    _template_kind("AIMServiceTemplate", cluster=False),
    _template_kind("AIMClusterServiceTemplate", cluster=True),
    _cache_kind(
        "AIMTemplateCache",
        V1,
        Stage(_kube(fetch_template_cache), plan_template_cache),
        (TEMPLATE, CLUSTER_TEMPLATE),
        labels.TEMPLATE_CACHE,
        *runtime_configs("AIMTemplateCache"),
    ),
    Kind(
        "AIMArtifact",
        V1,
        Stage(_artifact_fetch, plan_artifact),
        watches=(
            w.Watch(w.Resource("batch", "v1", "jobs", ARTIFACT_CHILD), w.owners("AIMArtifact")),
            w.Watch(w.Resource("", "v1", "persistentvolumeclaims", ARTIFACT_CHILD), w.owners("AIMArtifact")),
            *runtime_configs("AIMArtifact"),
            # Which caches list an artifact: what is never evicted or reaped. (Services are not
            # watched for lastUsed: a rollout of many services sharing one artifact would
            # reconcile it once per service; an artifact in use looks again hourly instead.)
            w.Watch(TEMPLATE_CACHE, w.artifacts_listed, fingerprint=w.cache_fingerprint),
            w.Watch(PROFILE_CACHE, w.artifacts_listed, fingerprint=w.cache_fingerprint),
            # Adapters follow their parent; a model's reaper follows the services with adapters.
            w.Watch(ARTIFACT, w.adapters_of_parent, fingerprint=w.adapter_artifact_fingerprint),
            w.Watch(SERVICES, w.artifacts_of_adapter_service, fingerprint=w.adapter_service_fingerprint),
        ),
        serialised=ARTIFACT_QUOTA,
    ),
    Kind(
        "AIMClusterModelSource",
        V1,
        Stage(_source_fetch, plan_model_source),
        watches=(w.Watch(CLUSTER_MODEL, w.source_of_model),),
    ),
    _model_kind("AIMModel", cluster=False),
    _model_kind("AIMClusterModel", cluster=True),
    Kind(
        "AIMProfile",
        V2,
        Stage(_kube(fetch_profile), plan_profile),
        watches=(w.Watch(PROFILE_CACHE, w.owners("AIMProfile")), gpu_nodes(w.tracked("AIMProfile"))),
    ),
    Kind(
        "AIMClusterProfile",
        V2,
        Stage(_kube(fetch_profile), plan_profile),
        watches=(gpu_nodes(w.tracked("AIMClusterProfile")),),
    ),
    _cache_kind(
        "AIMProfileCache",
        V2,
        Stage(_kube(fetch_profile_cache), plan_profile_cache),
        (PROFILE, CLUSTER_PROFILE),
        labels.PROFILE_CACHE,
    ),
    _profile_set_kind("AIMProfileSet", cluster=False),
    _profile_set_kind("AIMClusterProfileSet", cluster=True),
    Kind(
        "AIMKVCache",
        V1,
        Stage(_kube(fetch_kv_cache), plan_kv_cache),
        watches=(
            w.Watch(w.managed("apps", "v1", "statefulsets"), w.owners("AIMKVCache")),
            w.Watch(w.managed("", "v1", "services"), w.owners("AIMKVCache")),
        ),
    ),
)
BY_NAME = {kind.name: kind for kind in KINDS}

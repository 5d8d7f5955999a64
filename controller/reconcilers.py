"""One reconciler per kind, keyed by kind (edge wiring; the work-queue workers dispatch on it)."""

from __future__ import annotations

from functools import partial

from controller.artifact.fetch import fetch_artifact
from controller.artifact.plan import plan_artifact
from controller.cache.fetch import fetch_template_cache
from controller.cache.plan import plan_template_cache
from controller.kube.client import Kube
from controller.model.fetch import V2, fetch_model
from controller.model.plan import plan_model
from controller.modelsource.fetch import fetch_model_source
from controller.modelsource.plan import plan_model_source
from controller.profile.fetch import fetch_profile
from controller.profile.plan import plan_profile
from controller.profilecache.fetch import fetch_profile_cache
from controller.profilecache.plan import plan_profile_cache
from controller.registry.client import RegistryClient
from controller.registry.settings import RegistrySettings
from controller.runner import PlanReconciler, Reconciler
from controller.service.reconcile import ServiceReconciler
from controller.settings import ControllerSettings
from controller.template.fetch import V1, fetch_template
from controller.template.plan import plan_template


def build_reconcilers(kube: Kube, settings: ControllerSettings) -> dict[str, Reconciler]:
    template_fetch = partial(
        fetch_template, operator_namespace=settings.system_namespace, pod_annotations=settings.job_pod_annotations
    )
    reconcilers: dict[str, Reconciler] = {"AIMService": ServiceReconciler(kube)}
    for kind in ("AIMServiceTemplate", "AIMClusterServiceTemplate"):
        reconcilers[kind] = PlanReconciler(kube, V1, kind, template_fetch, plan_template)
    reconcilers["AIMTemplateCache"] = PlanReconciler(
        kube, V1, "AIMTemplateCache", fetch_template_cache, plan_template_cache
    )
    artifact_fetch = partial(
        fetch_artifact,
        downloader_image=settings.downloader_image,
        pod_annotations=settings.job_pod_annotations,
        status_role=settings.artifact_status_role,
    )
    reconcilers["AIMArtifact"] = PlanReconciler(kube, V1, "AIMArtifact", artifact_fetch, plan_artifact)
    for kind in ("AIMProfile", "AIMClusterProfile"):
        reconcilers[kind] = PlanReconciler(kube, V2, kind, fetch_profile, plan_profile)
    reconcilers["AIMProfileCache"] = PlanReconciler(
        kube, V2, "AIMProfileCache", fetch_profile_cache, plan_profile_cache
    )
    model_fetch = partial(
        fetch_model,
        registry=RegistryClient(),
        operator_namespace=settings.system_namespace,
        retry_seconds=settings.image_retry_seconds,
    )
    for kind in ("AIMModel", "AIMClusterModel"):
        reconcilers[kind] = PlanReconciler(kube, V2, kind, model_fetch, plan_model)
    source_fetch = partial(
        fetch_model_source, client=RegistryClient(RegistrySettings()), operator_namespace=settings.system_namespace
    )
    reconcilers["AIMClusterModelSource"] = PlanReconciler(
        kube, V1, "AIMClusterModelSource", source_fetch, plan_model_source
    )
    return reconcilers

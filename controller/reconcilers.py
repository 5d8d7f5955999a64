"""One reconciler per kind, keyed by kind (edge wiring; the work-queue workers dispatch on it)."""

from __future__ import annotations

from functools import partial

from controller.artifact.fetch import fetch_artifact
from controller.artifact.plan import plan_artifact
from controller.cache.fetch import fetch_template_cache
from controller.cache.plan import plan_template_cache
from controller.kube.client import Kube
from controller.runner import PlanReconciler, Reconciler
from controller.service.reconcile import ServiceReconciler
from controller.settings import ControllerSettings
from controller.template.fetch import V1, fetch_template
from controller.template.plan import plan_template


def build_reconcilers(kube: Kube, settings: ControllerSettings) -> dict[str, Reconciler]:
    template_fetch = partial(fetch_template, operator_namespace=settings.system_namespace)
    reconcilers: dict[str, Reconciler] = {"AIMService": ServiceReconciler(kube)}
    for kind in ("AIMServiceTemplate", "AIMClusterServiceTemplate"):
        reconcilers[kind] = PlanReconciler(kube, V1, kind, template_fetch, plan_template)
    reconcilers["AIMTemplateCache"] = PlanReconciler(
        kube, V1, "AIMTemplateCache", fetch_template_cache, plan_template_cache
    )
    artifact_fetch = partial(
        fetch_artifact,
        downloader_image=settings.downloader_image,
        pod_annotations=settings.download_pod_annotations,
    )
    reconcilers["AIMArtifact"] = PlanReconciler(kube, V1, "AIMArtifact", artifact_fetch, plan_artifact)
    return reconcilers

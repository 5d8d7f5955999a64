"""Fetch step of the template reconciler (edge layer): runtime config, model, nodes, discovery Job
and its log, and the template-owned cache."""

from __future__ import annotations

from typing import Any

from api import labels
from api.conditions import JobConditionType
from controller.common.jobs import JOB_API, job_finished
from controller.common.lookup import CLUSTER, NAMESPACE, Found
from controller.common.runtimeconfig import config_name, resolve_runtime_config
from controller.kube.client import Kube
from controller.template.observe import TemplateObservation
from controller.template.plan import discovery_job_name


def fetch_template(
    kube: Kube, template: dict[str, Any], operator_namespace: str, pod_annotations: dict[str, str]
) -> TemplateObservation:
    cluster = template["kind"] == "AIMClusterServiceTemplate"
    namespace = None if cluster else template["metadata"]["namespace"]
    spec = template.get("spec") or {}
    requested = spec.get("runtimeConfigName")
    name = config_name(requested)
    runtime_config = resolve_runtime_config(
        requested,
        kube.get(labels.V1ALPHA1, "AIMRuntimeConfig", name, namespace) if namespace else None,
        kube.get(labels.V1ALPHA1, "AIMClusterRuntimeConfig", name),
    )
    model_name = spec.get("modelName", "")
    model = Found(None)
    if namespace:
        found = kube.get(labels.V1ALPHA2, "AIMModel", model_name, namespace)
        model = Found(found, NAMESPACE) if found is not None else Found(None)
    if model.obj is None:
        found = kube.get(labels.V1ALPHA2, "AIMClusterModel", model_name)
        model = Found(found, CLUSTER) if found is not None else Found(None)
    observed = TemplateObservation(
        template=template,
        runtime_config=runtime_config,
        model=model,
        nodes=kube.list("v1", "Node"),
        operator_namespace=operator_namespace,
        pod_annotations=pod_annotations,
    )
    image = ((model.obj or {}).get("spec") or {}).get("image")
    if not spec.get("modelSources") and image:
        job_namespace = operator_namespace if cluster else template["metadata"]["namespace"]
        job = kube.get(JOB_API, "Job", discovery_job_name(template, image), job_namespace)
        observed.discovery_job = job
        if job is None and not (template.get("status") or {}).get("modelSources"):
            observed.active_discoveries = count_active_discoveries(kube)
        if job is not None and job_finished(job) == JobConditionType.COMPLETE:
            pods = kube.list("v1", "Pod", job_namespace, label_selector=f"{labels.JOB_NAME}={job['metadata']['name']}")
            if pods:
                observed.discovery_log = kube.pod_log_tail(pods[0]["metadata"]["name"], job_namespace, lines=200)
    if namespace and (spec.get("caching") or {}).get("enabled"):
        observed.cache = kube.get(labels.V1ALPHA1, "AIMTemplateCache", template["metadata"]["name"], namespace)
    return observed


DISCOVERY_JOBS = f"{labels.NAME}={labels.DISCOVERY_APP_NAME},{labels.COMPONENT}={labels.COMPONENT_DISCOVERY}"


def count_active_discoveries(kube: Kube) -> int:
    """Discovery Jobs not yet finished, in every namespace."""
    jobs = kube.list(JOB_API, "Job", None, label_selector=DISCOVERY_JOBS)
    return sum(1 for job in jobs if not job_finished(job))

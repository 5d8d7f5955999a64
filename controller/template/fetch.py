"""Fetch step of the template reconciler (edge layer): runtime config, model, nodes, discovery Job
and its log, and the template-owned cache."""

from __future__ import annotations

from typing import Any

from api import labels
from api.conditions import JobConditionType
from api.stored import read_model, read_template
from api.v1alpha1.aimservicetemplate import AIMClusterServiceTemplate, AIMServiceTemplate
from api.v1alpha2.aimmodel import AnyModel
from controller.common.jobs import JOB_API, job_finished
from controller.common.lookup import CLUSTER, NAMESPACE, Found
from controller.common.runtimeconfig import config_name, resolve_runtime_config
from controller.kube.client import Kube
from controller.template.observe import TemplateObservation
from controller.template.plan import discovery_job_name


def fetch_template(
    kube: Kube, stored: dict[str, Any], operator_namespace: str, pod_annotations: dict[str, str]
) -> TemplateObservation:
    template = read_template(stored)
    spec = template.spec
    cluster = isinstance(template, AIMClusterServiceTemplate)
    namespace = None if cluster else template.namespace
    requested = spec.runtime_config_name
    name = config_name(requested)
    runtime_config = resolve_runtime_config(
        requested,
        kube.get(labels.V1ALPHA1, "AIMRuntimeConfig", name, namespace) if namespace else None,
        kube.get(labels.V1ALPHA1, "AIMClusterRuntimeConfig", name),
    )
    model: Found[AnyModel] = Found(None)
    if namespace:
        found = kube.get(labels.V1ALPHA2, "AIMModel", spec.model_name, namespace)
        model = Found(read_model(found), NAMESPACE) if found is not None else Found(None)
    if model.obj is None:
        found = kube.get(labels.V1ALPHA2, "AIMClusterModel", spec.model_name)
        model = Found(read_model(found), CLUSTER) if found is not None else Found(None)
    observed = TemplateObservation(
        template=template,
        runtime_config=runtime_config,
        model=model,
        nodes=kube.list("v1", "Node"),
        operator_namespace=operator_namespace,
        pod_annotations=pod_annotations,
    )
    image = observed.model_image
    if not spec.model_sources and image:
        job_namespace = operator_namespace if cluster else template.namespace
        job = kube.get(JOB_API, "Job", discovery_job_name(template, image), job_namespace)
        observed.discovery_job = job
        if job is None and not (template.status and template.status.model_sources):
            observed.active_discoveries = count_active_discoveries(kube)
        if job is not None and job_finished(job) == JobConditionType.COMPLETE:
            pods = kube.list("v1", "Pod", job_namespace, label_selector=f"{labels.JOB_NAME}={job['metadata']['name']}")
            if pods:
                observed.discovery_log = kube.pod_log_tail(pods[0]["metadata"]["name"], job_namespace, lines=200)
    if isinstance(template, AIMServiceTemplate) and template.spec.caching and template.spec.caching.enabled:
        observed.cache = kube.get(labels.V1ALPHA1, "AIMTemplateCache", template.name, template.namespace)
    return observed


DISCOVERY_JOBS = f"{labels.NAME}={labels.DISCOVERY_APP_NAME},{labels.COMPONENT}={labels.COMPONENT_DISCOVERY}"


def count_active_discoveries(kube: Kube) -> int:
    """Discovery Jobs not yet finished, in every namespace."""
    jobs = kube.list(JOB_API, "Job", None, label_selector=DISCOVERY_JOBS)
    return sum(1 for job in jobs if not job_finished(job))

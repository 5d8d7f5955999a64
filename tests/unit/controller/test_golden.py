"""Golden YAML for the planners' builders: what each planner asks the API server to create, for a
representative situation of every kind, compared with `golden/<case>.yaml`.

The files pin the objects users and KServe see (InferenceService, HTTPRoute, PVC, Jobs, derived
templates, models, caches, artifacts) and the status written, so a refactoring that changes any
of them fails here with a diff. After a deliberate change, rewrite the files with
`make golden` (AIM_UPDATE_GOLDEN=1) and review the diff like code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.artifact.plan import plan_artifact
from controller.common.lookup import NAMESPACE, Found
from controller.common.runtimeconfig import resolve_runtime_config
from controller.model.plan import plan_model
from controller.pipeline.plan import Plan
from controller.service.plan import plan_service
from controller.template.plan import plan_template
from tests.unit.controller import test_artifact_plan as artifacts
from tests.unit.controller import test_cache_plan as caches
from tests.unit.controller import test_model_plan as models
from tests.unit.controller import test_service_custom_profile as custom_profiles
from tests.unit.controller import test_service_plan as services
from tests.unit.controller import test_service_profile as profiles
from tests.unit.controller import test_template_plan as templates

GOLDEN = Path(__file__).parent / "golden"
NOW = "2026-11-23T12:00:00Z"
UPDATE = os.environ.get("AIM_UPDATE_GOLDEN") == "1"


def _served_and_routed() -> Plan:
    svc = services.service(
        routing={"enabled": True, "gatewayRef": {"name": "inference", "namespace": "gateways"}},
        env=[{"name": "LOG", "value": "debug"}],
        imagePullSecrets=[{"name": "pull"}],
    )
    config = resolve_runtime_config(None, {"spec": {"labelPropagation": {"enabled": True, "match": ["te*"]}}}, None)
    return plan_service(services.observe(svc, runtime_config=config), NOW)


def _autoscaled() -> Plan:
    metric = {
        "metric": {"backend": "metrics-api", "metricNames": ["vllm:num_requests_running"]},
        "target": {"type": "Value", "value": "4"},
    }
    svc = services.service(
        minReplicas=2, maxReplicas=5, autoScaling={"metrics": [{"type": "PodMetric", "podmetric": metric}]}
    )
    return plan_service(services.observe(svc), NOW)


def _cached() -> Plan:
    tpl = services.template()
    tpl["status"]["modelSources"] = [{"modelId": "Qwen/Qwen3-32B", "sourceUri": "hf://Qwen/Qwen3-32B", "size": "64Gi"}]
    return plan_service(services.observe(services.service(caching={"mode": "Shared"}), template_candidates=[tpl]), NOW)


def _derived_template() -> Plan:
    svc = services.service(template={"name": "t"}, overrides={"metric": "throughput"})
    return plan_service(services.observe(svc, template=Found(services.template(), NAMESPACE)), NOW)


def _custom_profile_service() -> Plan:
    return plan_service(custom_profiles.observe(), NOW)


def _profile_service() -> Plan:
    return plan_service(profiles.observe(profiles.service(env=[{"name": "LOG", "value": "debug"}])), NOW)


def _artifact_download() -> Plan:
    return plan_artifact(artifacts.observe(), NOW)


def _artifact_check_size() -> Plan:
    return plan_artifact(artifacts.observe(artifacts.artifact()), NOW)


def _model_templates() -> Plan:
    return plan_model(models.observe(lookup=models.found()), NOW)


def _template_discovery() -> Plan:
    return plan_template(templates.observe(), NOW)


def _template_cache() -> Plan:
    return caches.plan_for()


CASES: dict[str, Callable[[], Plan]] = {
    "service-served-and-routed": _served_and_routed,
    "service-autoscaled": _autoscaled,
    "service-shared-cache": _cached,
    "service-derived-template": _derived_template,
    "service-profile": _profile_service,
    "service-custom-profile": _custom_profile_service,
    "artifact-download": _artifact_download,
    "artifact-check-size": _artifact_check_size,
    "model-templates": _model_templates,
    "template-discovery": _template_discovery,
    "template-cache-artifacts": _template_cache,
}


def as_document(plan: Plan) -> dict[str, Any]:
    """The plan as the API server would receive it (JSON types: enums become their values)."""
    document = {
        "apply": plan.apply,
        "delete": [vars(ref) for ref in getattr(plan, "delete", [])],
        "status": plan.status,
        "events": [{k: v for k, v in vars(event).items() if v is not None} for event in plan.events],
        "finalizers": getattr(plan, "finalizers", None),
        "requeueAfter": getattr(plan, "requeue_after", None),
    }
    loaded: dict[str, Any] = json.loads(json.dumps(document))
    return loaded


@pytest.mark.parametrize("case", sorted(CASES))
def test_planned_objects_match_the_golden_file(case: str) -> None:
    text = yaml.safe_dump(as_document(CASES[case]()), sort_keys=True, width=120)
    path = GOLDEN / f"{case}.yaml"
    if UPDATE:
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run `make golden` and review it"
    assert text == path.read_text(), f"{case} differs from {path}; after a deliberate change run `make golden`"


def test_every_golden_file_has_a_case() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.yaml")) == sorted(CASES)

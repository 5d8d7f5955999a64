"""Point the API server at the locally running webhook service (url client configs on 127.0.0.1,
never a Service address, which does not exist here)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from api.admission import MUTATED_RESOURCES, match_conditions


def multi_version_crds(crd_paths: list[Path]) -> list[str]:
    names = []
    for path in crd_paths:
        for doc in yaml.safe_load_all(path.read_text()):
            if (
                doc
                and doc.get("kind") == "CustomResourceDefinition"
                and doc["spec"]["group"] == "aim.eai.amd.com"
                and len(doc["spec"]["versions"]) > 1
            ):
                names.append(doc["metadata"]["name"])
    return names


def conversion_patch(webhook_url: str, ca_pem: bytes) -> dict[str, Any]:
    return {
        "spec": {
            "conversion": {
                "strategy": "Webhook",
                "webhook": {
                    "conversionReviewVersions": ["v1"],
                    "clientConfig": {"url": f"{webhook_url}/convert", "caBundle": base64.b64encode(ca_pem).decode()},
                },
            }
        }
    }


def register_conversion(kubectl: Callable[..., Any], crd_names: list[str], webhook_url: str, ca_pem: bytes) -> None:
    patch = json.dumps(conversion_patch(webhook_url, ca_pem))
    for name in crd_names:
        kubectl("patch", "crd", name, "--type=merge", "-p", patch)


CONVERSION_PROBE: dict[str, Any] = {
    "apiVersion": "aim.eai.amd.com/v1alpha1",
    "kind": "AIMService",
    "metadata": {"name": "conversion-probe", "namespace": "default"},
    # routeTemplate exists only in v1alpha1: it survives storage in v1alpha2 only through the webhook.
    "spec": {"model": {"name": "probe"}, "routing": {"routeTemplate": "/probe"}},
}


OPERATOR_NAMESPACE = "aim-system"


def admission_configurations(webhook_url: str, ca_pem: bytes, crd_paths: list[Path]) -> list[dict[str, Any]]:
    """Validating and mutating configurations for every AIM resource, on `url` client configs."""
    plurals = sorted(
        doc["spec"]["names"]["plural"]
        for path in crd_paths
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc.get("kind") == "CustomResourceDefinition" and doc["spec"]["group"] == "aim.eai.amd.com"
    )
    ca_bundle = base64.b64encode(ca_pem).decode()

    def webhook(name: str, path: str, resources: list[str]) -> dict[str, Any]:
        return {
            "name": name,
            "admissionReviewVersions": ["v1"],
            "sideEffects": "None",
            "failurePolicy": "Fail",
            "timeoutSeconds": 5,
            "matchPolicy": "Equivalent",
            "clientConfig": {"url": f"{webhook_url}{path}", "caBundle": ca_bundle},
            # The operator's own namespace is never subject to its webhooks (it must be able to
            # repair itself while they are down).
            "namespaceSelector": {
                "matchExpressions": [
                    {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": [OPERATOR_NAMESPACE]}
                ]
            },
            # Metadata-only changes and objects being deleted skip the webhooks (api.admission).
            "matchConditions": match_conditions(),
            "rules": [
                {
                    "apiGroups": ["aim.eai.amd.com"],
                    "apiVersions": ["*"],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": resources,
                    "scope": "*",
                }
            ],
        }

    return [
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": "aim-engine-mutating"},
            "webhooks": [webhook("mutate.aim.eai.amd.com", "/mutate", [p for p in plurals if p in MUTATED_RESOURCES])],
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": "aim-engine-validating"},
            "webhooks": [webhook("validate.aim.eai.amd.com", "/validate", plurals)],
        },
    ]


ADMISSION_PROBE: dict[str, Any] = {
    "apiVersion": "aim.eai.amd.com/v1alpha1",
    "kind": "AIMServiceTemplate",
    "metadata": {"name": "admission-probe", "namespace": "default"},
    # Valid for the schema; only the validating webhook refuses a lower-case engine variable.
    "spec": {
        "modelName": "probe",
        "aimId": "probe/probe",
        "modelId": "probe/probe",
        "metric": "latency",
        "precision": "fp16",
        "hardware": {"gpu": {"requests": 1}},
        "customProfile": {"envVars": {"lower": "1"}},
    },
}

"""Point the API server at the locally running webhook service (url client configs on 127.0.0.1,
never a Service address, which does not exist here)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml


def multi_version_crds(crd_paths: list[Path]) -> list[str]:
    names = []
    for path in crd_paths:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "CustomResourceDefinition" and len(doc["spec"]["versions"]) > 1:
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

"""The generated AIM CRDs, installed by the harness from crds/ with the conversion webhook
registered: every example applies in its version and reads back unchanged, and kubectl's
discovery features (short names, the `aim` category, explain) work."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from api.defaulting import apply_defaults
from tests.conftest import Kubectl
from tests.examples import MODELS, PLURALS, SHORT_NAMES, example_documents


def apply_example(kubectl: Kubectl, document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    doc = json.loads(json.dumps(document))
    if "namespace" in doc["metadata"]:
        doc["metadata"]["namespace"] = kubectl.namespace
    applied = kubectl.apply(yaml.safe_dump(doc))
    assert "created" in applied.stdout or "configured" in applied.stdout
    resource = f"{PLURALS[doc['kind']]}.{doc['apiVersion'].split('/')[1]}.aim.eai.amd.com"
    stored = kubectl.get_json(resource, doc["metadata"]["name"])
    if "namespace" not in document["metadata"]:
        kubectl("delete", resource, doc["metadata"]["name"])
    return doc, stored


@pytest.mark.parametrize(("where", "document"), example_documents(), ids=[w for w, _ in example_documents()])
def test_example_applies_in_its_version(kubectl: Kubectl, where: str, document: dict[str, Any]) -> None:
    doc, stored = apply_example(kubectl, document)
    assert stored["apiVersion"] == doc["apiVersion"]
    # Stored as v1alpha2 for the dual-version kinds and read back through the example's version by
    # the conversion webhook: nothing may be lost. The mutating webhook adds its derived defaults,
    # the server the schema's, pydantic the model's; together they must agree.
    model = MODELS[(doc["apiVersion"], doc["kind"])]
    expected = apply_defaults(doc)
    assert model.model_validate(stored).spec == model.model_validate(expected).spec  # type: ignore[attr-defined]
    assert "conversion.aim.eai.amd.com/preserved" not in stored["metadata"].get("annotations", {})


def test_aim_category_short_names_and_explain(kubectl: Kubectl) -> None:
    kubectl.apply(
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMRuntimeConfig",
            "metadata": {"name": "default"},
            "spec": {"storage": {}},
        }
    )
    kubectl.apply(
        {
            "apiVersion": "aim.eai.amd.com/v1alpha2",
            "kind": "AIMService",
            "metadata": {"name": "svc"},
            "spec": {"model": {"name": "m"}},
        }
    )
    listed = kubectl("get", "aim", "-o", "name").stdout.split()
    assert {"aimruntimeconfig.aim.eai.amd.com/default", "aimservice.aim.eai.amd.com/svc"} <= set(listed)
    assert kubectl.get_json("aimrc", "default")["spec"]["storage"] == {"pvcHeadroomPercent": 10}
    for short in SHORT_NAMES.values():
        assert kubectl("get", short, "-o", "name").returncode == 0, short
    explained = kubectl("explain", "aimservice.spec.model").stdout
    assert "The model to serve (with a template), or the model a profile serves." in explained
    assert "A container image; an AIMModel is found or created for it." in explained
    columns = kubectl("get", "aimsvc", "svc").stdout.splitlines()[0].split()
    assert columns == ["NAME", "STATUS", "MODEL", "TEMPLATE", "REPLICAS", "AGE"]


def test_writes_through_deprecated_versions_warn(kubectl: Kubectl) -> None:
    result = kubectl.apply(
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMService",
            "metadata": {"name": "old"},
            "spec": {"model": {"name": "m"}},
        }
    )
    assert "aim.eai.amd.com/v1alpha1 AIMService is deprecated; use aim.eai.amd.com/v1alpha2" in result.stderr

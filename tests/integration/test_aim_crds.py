"""The generated AIM CRDs are installed by the harness (from crds/) and every example applies."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from tests.conftest import Kubectl
from tests.examples import MODELS, example_documents


@pytest.mark.parametrize(("where", "document"), example_documents(), ids=[w for w, _ in example_documents()])
def test_example_applies_with_kubectl(kubectl: Kubectl, where: str, document: dict[str, Any]) -> None:
    doc = json.loads(json.dumps(document))
    if "namespace" in doc["metadata"]:
        doc["metadata"]["namespace"] = kubectl.namespace
    applied = kubectl.apply(yaml.safe_dump(doc))
    assert "created" in applied.stdout or "configured" in applied.stdout
    plural = {"AIMRuntimeConfig": "aimrc", "AIMClusterRuntimeConfig": "aimclrc"}[doc["kind"]]
    stored = kubectl.get_json(plural, doc["metadata"]["name"])
    # The server applies the schema's defaults; pydantic applies the model's. They must agree.
    model = MODELS[(doc["apiVersion"], doc["kind"])]
    assert model.model_validate(stored).spec == model.model_validate(doc).spec  # type: ignore[attr-defined]
    if "namespace" not in document["metadata"]:
        kubectl("delete", plural, doc["metadata"]["name"])


def test_aim_category_lists_objects_and_explain_reads_the_docs(kubectl: Kubectl) -> None:
    kubectl.apply(
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMRuntimeConfig",
            "metadata": {"name": "default"},
            "spec": {"storage": {}},
        }
    )
    assert "aimruntimeconfig.aim.eai.amd.com/default" in kubectl("get", "aim", "-o", "name").stdout
    assert kubectl.get_json("aimrc", "default")["spec"]["storage"] == {"pvcHeadroomPercent": 10}
    explained = kubectl("explain", "aimruntimeconfig.spec.storage").stdout
    assert "Extra space, in percent of the model size, added to every cache volume." in explained


def test_negative_headroom_is_rejected_naming_the_field(kubectl: Kubectl) -> None:
    result = kubectl.apply(
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMRuntimeConfig",
            "metadata": {"name": "bad"},
            "spec": {"storage": {"pvcHeadroomPercent": -1}},
        },
        check=False,
    )
    assert "spec.storage.pvcHeadroomPercent: Invalid value: -1" in result.stderr

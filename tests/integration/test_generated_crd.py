"""A CRD generated from pydantic models is accepted by the real API server, which then applies
its defaults, CEL rules, int-or-string quantities and descriptions."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from api.schema.crd import CRDSpec, Names, PrinterColumn, Version, custom_resource_definition
from tests.conftest import Kubectl
from tests.sample_schema_models import Gadget

GROUP = "harness.test.aim.eai.amd.com"


@pytest.fixture(scope="module")
def gadget_crd(control_plane: Any) -> dict[str, Any]:
    crd = custom_resource_definition(
        CRDSpec(
            group=GROUP,
            names=Names("Gadget", "gadgets", "gadget", short_names=("gdg",), categories=("harness",)),
            scope="Namespaced",
            versions=(Version("v1", Gadget, storage=True, printer_columns=(PrinterColumn("Image", ".spec.image"),)),),
        )
    )
    control_plane.kubectl("apply", "--server-side", "-f", "-", input_text=yaml.safe_dump(crd))
    control_plane.kubectl("wait", "--for=condition=Established", f"crd/gadgets.{GROUP}", "--timeout=30s")
    return crd


def gadget(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Gadget",
        "metadata": {"name": name},
        "spec": {"image": "img:1", **spec},
    }


def test_defaults_are_applied_and_unpublished_ones_are_not(gadget_crd: Any, kubectl: Kubectl) -> None:
    kubectl.apply(gadget("g1", gpu={"requests": 1, "minVram": "64Gi"}))
    stored = kubectl.get_json("gdg", "g1")["spec"]
    assert stored["replicas"] == 1
    assert "mode" not in stored
    assert stored["gpu"] == {"requests": 1, "minVram": "64Gi"}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"gpu": {"model": "MI300X", "minVram": "64Gi"}}, "model and minVram are mutually exclusive"),
        ({"replicas": 11}, "spec.replicas: Invalid value: at most 10 replicas"),
        ({"metric": "speed"}, 'spec.metric: Unsupported value: "speed"'),
        ({"gpu": {"minVram": "lots"}}, "spec.gpu.minVram in body should match"),
        ({"image": ""}, "spec.image in body should be at least 1 chars long"),
    ],
    ids=["cel-on-nested-model", "cel-root-with-field-path", "enum", "quantity-pattern", "min-length"],
)
def test_invalid_objects_are_rejected_naming_the_field(
    gadget_crd: Any, kubectl: Kubectl, spec: dict[str, Any], message: str
) -> None:
    result = kubectl.apply(gadget("bad", **spec), check=False)
    assert result.returncode != 0
    assert message in result.stderr


def test_immutable_field_cannot_change(gadget_crd: Any, kubectl: Kubectl) -> None:
    kubectl.apply(gadget("g2", gpu={"requests": 1}))
    result = kubectl.apply(gadget("g2", gpu={"requests": 2}), check=False)
    assert "spec.gpu: Invalid value: gpu is immutable" in result.stderr


def test_kubectl_explain_prints_the_docstrings(gadget_crd: Any, kubectl: Kubectl) -> None:
    out = kubectl("explain", "gadget.spec.gpu").stdout
    assert "Hardware; fixed once created." in out
    assert "Number of GPUs per replica." in out

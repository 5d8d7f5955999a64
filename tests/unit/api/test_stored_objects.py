"""Stored objects read as their API models (api.objects.read_stored, api.stored): what the
controller's fetch steps do with what the API server sends."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from api.objects import read_stored, wire
from api.stored import read_model, read_template
from api.v1alpha1.aimservicetemplate import AIMClusterServiceTemplate, AIMServiceTemplate
from api.v1alpha1.common import Metric
from api.v1alpha2.aimmodel import AIMClusterModel, AIMModel

NOW = "2026-12-07T12:00:00Z"


def template(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMServiceTemplate",
        "metadata": {"name": "t", "namespace": "team", "uid": "u-1", "labels": {"a": "b"}},
        "spec": {"modelName": "qwen", "metric": "latency", "hardware": {"gpu": {"requests": 1}}} | spec,
    }


def test_fields_are_read_and_the_stored_form_is_kept_unchanged() -> None:
    stored = template()
    read = read_template(stored)
    assert isinstance(read, AIMServiceTemplate)
    assert (read.name, read.namespace, read.uid, read.labels) == ("t", "team", "u-1", {"a": "b"})
    assert read.spec.hardware is not None
    assert read.spec.hardware.gpu is not None
    assert read.spec.hardware.gpu.requests == 1
    assert read.stored == stored
    assert read.stored is not stored  # the caller's dict is not shared


@pytest.mark.parametrize(
    ("kind", "reader", "model"),
    [
        ("AIMServiceTemplate", read_template, AIMServiceTemplate),
        ("AIMClusterServiceTemplate", read_template, AIMClusterServiceTemplate),
    ],
)
def test_the_kind_picks_the_model(kind: str, reader: Any, model: type) -> None:
    assert isinstance(reader(template() | {"kind": kind}), model)


@pytest.mark.parametrize(("kind", "model"), [("AIMModel", AIMModel), ("AIMClusterModel", AIMClusterModel)])
def test_models_are_read_in_either_scope(kind: str, model: type) -> None:
    stored = {"apiVersion": "aim.eai.amd.com/v1alpha2", "kind": kind, "metadata": {"name": "m"}, "spec": {}}
    assert isinstance(read_model(stored), model)


def test_fields_the_model_does_not_know_are_ignored() -> None:
    """A CRD newer than the controller may serve fields it does not know yet."""
    read = read_template(template(futureField={"x": 1}, hardware={"gpu": {"requests": 1, "newer": True}}))
    assert "futureField" not in wire(read.spec)
    assert read.stored["spec"]["futureField"] == {"x": 1}


def test_a_spec_field_that_does_not_fit_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError) as refused:
        read_template(template(hardware={"gpu": {"requests": "lots"}}))
    assert [issue["loc"] for issue in refused.value.errors()] == [("spec", "hardware", "gpu", "requests")]


def test_a_status_that_does_not_fit_is_read_as_none() -> None:
    """The status is the controller's own: one another version wrote that no longer fits is
    rewritten by the next plan, not left to hold the object."""
    stored = template() | {"status": {"status": "SomethingElse", "conditions": [{"type": "Ready"}]}}
    read = read_template(stored)
    assert read.status is None
    assert read.stored["status"] == stored["status"]


def test_a_bad_spec_is_refused_even_beside_a_bad_status() -> None:
    with pytest.raises(ValidationError):
        read_template(template(hardware={"gpu": {"requests": "lots"}}) | {"status": {"status": "SomethingElse"}})


def test_wire_gives_the_set_fields_in_camel_case_and_enum_values() -> None:
    read = read_stored(AIMServiceTemplate, template(profileId="p"))
    assert wire(read.spec.hardware) == {"gpu": {"requests": 1}}
    assert wire(read.spec.metric) == "latency"
    assert type(wire(read.spec.metric)) is str
    assert wire([Metric.LATENCY, {"k": Metric.THROUGHPUT}]) == ["latency", {"k": "throughput"}]
    assert wire(read)["spec"]["profileId"] == "p"

"""pydantic models become structural OpenAPI schemas with Kubernetes extensions."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from api.schema import structural_schema
from api.schema.generator import SchemaError
from tests.sample_schema_models import Gadget, GadgetSpec, Gpu


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return structural_schema(GadgetSpec)


def walk(schema: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [schema]
    for sub in schema.get("properties", {}).values():
        nodes += walk(sub)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            nodes += walk(schema[key])
    return nodes


def test_no_refs_titles_nulls_or_closed_objects_remain(spec: dict[str, Any]) -> None:
    for node in walk(spec):
        assert not {"$ref", "title", "$defs"} & set(node), node
        assert node.get("additionalProperties") is not False
        assert "type" in node or node.get("x-kubernetes-int-or-string"), node
        assert {"type": "null"} not in node.get("anyOf", [])


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("image", {"type": "string", "minLength": 1, "description": "Container image to run."}),
        (
            "metric",
            {"type": "string", "enum": ["latency", "throughput"], "description": "What to optimise for."},
        ),
        ("replicas", {"type": "integer", "minimum": 0, "default": 1, "description": "Fixed replica count."}),
        (
            "mode",
            {
                "type": "string",
                "enum": ["Shared", "Dedicated"],
                "description": "Unpublished default: the schema must not carry it.",
            },
        ),
        (
            "engineArgs",
            {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": True,
                "description": "Free-form engine arguments.",
            },
        ),
        (
            "labels",
            {"type": "object", "additionalProperties": {"type": "string"}, "description": "Extra labels."},
        ),
        ("fixed", {"type": "string", "enum": ["v"], "description": "A single allowed value."}),
    ],
    ids=[
        "min-length",
        "str-enum",
        "published-default",
        "unpublished-default",
        "preserve-unknown",
        "map",
        "const",
    ],
)
def test_field_schemas(spec: dict[str, Any], field: str, expected: dict[str, Any]) -> None:
    assert spec["properties"][field] == expected


def test_only_fields_without_defaults_are_required(spec: dict[str, Any]) -> None:
    assert spec["required"] == ["image"]


def test_nested_model_is_inlined_with_its_own_and_the_fields_rules(spec: dict[str, Any]) -> None:
    gpu = spec["properties"]["gpu"]
    assert gpu["type"] == "object"
    assert gpu["description"] == "Hardware; fixed once created."
    assert gpu["x-kubernetes-validations"] == [
        {
            "rule": "!(has(self.model) && has(self.minVram))",
            "message": "model and minVram are mutually exclusive",
        },
        {"rule": "self == oldSelf", "message": "gpu is immutable"},
    ]
    assert gpu["properties"]["minVram"]["x-kubernetes-int-or-string"] is True
    assert gpu["properties"]["minVram"]["anyOf"] == [{"type": "integer"}, {"type": "string"}]
    assert gpu["properties"]["model"] == {
        "type": "string",
        "maxLength": 64,
        "description": "GPU model, such as MI300X.",
    }


def test_list_items_are_inlined(spec: dict[str, Any]) -> None:
    items = spec["properties"]["gpus"]["items"]
    assert items["description"] == "GPU requirements of one replica."
    assert set(items["properties"]) == {"requests", "model", "minVram"}


def test_root_rules_and_field_path_survive() -> None:
    root = structural_schema(Gadget)
    assert root["x-kubernetes-validations"] == [
        {"rule": "self.spec.replicas <= 10", "message": "at most 10 replicas", "fieldPath": ".spec.replicas"}
    ]


def test_model_round_trips_through_aliases() -> None:
    doc = {"image": "img", "gpu": {"requests": 1, "minVram": "64Gi"}, "engineArgs": {"a": {"b": 1}}}
    parsed = GadgetSpec.model_validate(doc)
    assert parsed.gpu == Gpu(requests=1, min_vram="64Gi")
    assert parsed.model_dump(exclude_unset=True) == doc


def test_unions_that_are_not_structural_are_refused_with_the_path() -> None:
    class Bad(BaseModel):
        value: int | str

    with pytest.raises(SchemaError, match=r"Bad.value: unions other than Optional"):
        structural_schema(Bad)

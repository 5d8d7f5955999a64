"""Hardware spelling of generated templates and label values (pure rules in api/)."""

from __future__ import annotations

from typing import Any

import pytest

from api.naming import label_value, name_label_value
from api.v1alpha1.common import gpu_models, template_hardware


@pytest.mark.parametrize(
    ("gpu", "models"),
    [
        (None, []),
        ({}, []),
        ({"model": "MI300X"}, ["MI300X"]),
        ({"models": ["MI300X", "MI325X"]}, ["MI300X", "MI325X"]),
        ({"models": [], "model": "MI300X"}, ["MI300X"]),
    ],
)
def test_gpu_models_reads_both_spellings(gpu: dict[str, Any] | None, models: list[str]) -> None:
    assert gpu_models(gpu) == models


@pytest.mark.parametrize(
    ("hardware", "spelled"),
    [
        (None, None),
        ({"gpu": {"models": ["MI300X"], "requests": 1}}, {"gpu": {"model": "MI300X", "requests": 1}}),
        ({"gpu": {"model": "MI300X"}}, {"gpu": {"model": "MI300X"}}),
        ({"gpu": {"models": ["A", "B"]}}, {"gpu": {"models": ["A", "B"]}}),
        ({"gpu": {"requests": 2}}, {"gpu": {"requests": 2}}),
        ({"cpu": {"requests": "8"}}, {"cpu": {"requests": "8"}}),
    ],
    ids=["none", "one-model", "already-singular", "several", "no-model", "cpu"],
)
def test_templates_spell_one_gpu_model_as_upstream(
    hardware: dict[str, Any] | None, spelled: dict[str, Any] | None
) -> None:
    original = None if hardware is None else {k: dict(v) for k, v in hardware.items()}
    assert template_hardware(hardware) == spelled
    assert hardware == original, "the input is not changed"


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("amd/Llama-3.1-8B", "amd_llama-3.1-8b"),  # upstream's example
        ("Qwen/Qwen3-32B", "qwen_qwen3-32b"),
        ("bucket/prefix with spaces/", "bucket_prefix_with_spaces"),
        ("-x-", "x"),
        ("a" * 70, "a" * 63),
    ],
)
def test_label_value(value: str, label: str) -> None:
    assert label_value(value) == label


def test_names_are_label_values_when_they_fit() -> None:
    assert name_label_value("chat") == "chat"
    long = "a" * 62 + ".b" * 10
    assert len(name_label_value(long)) <= 63

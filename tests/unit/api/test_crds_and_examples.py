"""Generated CRDs are in sync with the models; every example round-trips through its model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.crdgen import DEFAULT_OUTPUT, render_all
from tests.examples import MODELS, example_documents


def test_committed_crds_match_the_models() -> None:
    rendered = render_all()
    committed = {p.name: p.read_text() for p in Path(DEFAULT_OUTPUT).glob("*.yaml")}
    assert set(committed) == set(rendered), "run `make generate`"
    for name, text in rendered.items():
        assert committed[name] == text, f"{name} is stale: run `make generate`"


@pytest.mark.parametrize(("where", "document"), example_documents(), ids=[w for w, _ in example_documents()])
def test_example_round_trips_through_its_model(where: str, document: dict[str, Any]) -> None:
    model = MODELS[(document["apiVersion"], document["kind"])]
    parsed = model.model_validate(document)
    assert parsed.model_dump(exclude_unset=True) == document


def test_unknown_fields_are_refused_naming_them() -> None:
    model = MODELS[("aim.eai.amd.com/v1alpha1", "AIMRuntimeConfig")]
    with pytest.raises(ValueError, match=r"spec\.storage\.headroom"):
        model.model_validate({"spec": {"storage": {"headroom": 5}}})

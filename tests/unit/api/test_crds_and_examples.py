"""Generated CRDs are in sync with the models; every example round-trips through its model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.crdgen import DEFAULT_OUTPUT, HELM_OUTPUT, render_all
from tests.examples import MODELS, example_documents


@pytest.mark.parametrize(
    ("directory", "for_helm"), [(DEFAULT_OUTPUT, False), (HELM_OUTPUT, True)], ids=["crds", "helm"]
)
def test_committed_crds_match_the_models(directory: Path, for_helm: bool) -> None:
    rendered = render_all(for_helm=for_helm)
    committed = {p.name: p.read_text() for p in Path(directory).glob("*.yaml")}
    assert set(committed) == set(rendered), "run `make generate`"
    for name, text in rendered.items():
        assert committed[name] == text, f"{name} is stale: run `make generate`"


def test_helm_crds_are_kept_on_uninstall() -> None:
    import yaml

    for text in render_all(for_helm=True).values():
        # Multi-version CRDs carry template lines for the conversion webhook (rendered by helm in
        # tests/integration/test_helm_chart.py); the rest is plain YAML.
        plain = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("{{"))
        assert yaml.safe_load(plain)["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


@pytest.mark.parametrize(("where", "document"), example_documents(), ids=[w for w, _ in example_documents()])
def test_example_round_trips_through_its_model(where: str, document: dict[str, Any]) -> None:
    model = MODELS[(document["apiVersion"], document["kind"])]
    parsed = model.model_validate(document)
    assert parsed.model_dump(exclude_unset=True) == document


def test_unknown_fields_are_refused_naming_them() -> None:
    model = MODELS[("aim.eai.amd.com/v1alpha1", "AIMRuntimeConfig")]
    with pytest.raises(ValueError, match=r"spec\.storage\.headroom"):
        model.model_validate({"spec": {"storage": {"headroom": 5}}})


def test_condition_reasons_are_valid_kubernetes_reasons() -> None:
    import re

    from api.conditions import ConditionType, Reason

    pattern = re.compile(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
    assert all(pattern.match(r.value) for r in Reason)
    assert all(pattern.match(t.value) for t in ConditionType)
    assert len({r.value for r in Reason}) == len(Reason)


def test_profiles_select_by_aim_id_and_nothing_else_does() -> None:
    from api.registry import CRDS
    from api.schema.crd import custom_resource_definition

    selectable = {
        crd.names.kind: [
            f for v in custom_resource_definition(crd)["spec"]["versions"] for f in v.get("selectableFields", [])
        ]
        for crd in CRDS
    }
    assert selectable.pop("AIMProfile") == [{"jsonPath": ".spec.aimId"}]
    assert selectable.pop("AIMClusterProfile") == [{"jsonPath": ".spec.aimId"}]
    assert not any(selectable.values())

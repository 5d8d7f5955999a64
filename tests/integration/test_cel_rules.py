"""Every CEL rule of the generated CRDs on the real API server (the table: tests/cel_rules.py): the
valid object is accepted, the invalid one (or update) rejected with the rule's message, and
`kubectl aim validate`'s offline verdict on both is the same."""

from __future__ import annotations

from typing import Any

import pytest

from cli.admission import admit
from tests.cel_rules import RULES, Rule
from tests.conftest import Kubectl


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_cel_rule(kubectl: Kubectl, rule: Rule) -> None:
    accepted = kubectl.apply(rule.valid, check=False)
    assert accepted.returncode == 0, accepted.stderr
    if not rule.update:
        kubectl("delete", "-f", "-", input_text=_yaml(rule.valid))
    rejected = kubectl.apply(rule.invalid, check=False)
    assert rejected.returncode != 0, f"{rule.id}: accepted an invalid object"
    assert rule.message in rejected.stderr, rejected.stderr

    # Offline, the same verdicts (the update rows as the update kubectl apply makes).
    assert admit(rule.valid).allowed
    offline = admit(rule.invalid, old=rule.valid if rule.update else None)
    assert not offline.allowed
    assert any(rule.message in f.message for f in offline.errors), offline.errors


def _yaml(document: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(document)

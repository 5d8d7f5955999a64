"""`kubectl aim validate` offline: the same verdicts as the API server with this project installed
(schema, CEL, webhook rules), located by file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cli.__main__ import main
from cli.admission import admit, served_versions
from cli.validate import validate_files
from tests.cel_rules import RULES, Rule
from tests.examples import EXAMPLES, example_documents

V1 = "aim.eai.amd.com/v1alpha1"
V2 = "aim.eai.amd.com/v1alpha2"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_every_cel_rule_gives_the_api_servers_verdict(rule: Rule) -> None:
    assert admit(rule.valid).allowed, admit(rule.valid).errors
    verdict = admit(rule.invalid, old=rule.valid if rule.update else None)
    assert not verdict.allowed
    assert any(rule.message in f.message for f in verdict.errors), verdict.errors


def test_the_rule_table_covers_every_cel_rule_of_the_crds() -> None:
    messages: set[str] = set()

    def walk(schema: dict[str, Any]) -> None:
        messages.update(r["message"] for r in schema.get("x-kubernetes-validations") or [])
        for child in (schema.get("properties") or {}).values():
            walk(child)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                walk(schema[key])

    for served in served_versions().values():
        walk(served.schema)
    uncovered = {m for m in messages if not any(rule.message in m for rule in RULES)}
    assert not uncovered


@pytest.mark.parametrize(("where", "document"), example_documents(), ids=[w for w, _ in example_documents()])
def test_every_example_is_valid(where: str, document: dict[str, Any]) -> None:
    verdict = admit(document)
    assert verdict.allowed, verdict.errors


def service(spec: dict[str, Any], api_version: str = V2, name: str = "chat") -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": "AIMService", "metadata": {"name": name}, "spec": spec}


MODEL = {"model": {"name": "m"}}


@pytest.mark.parametrize(
    ("obj", "field", "message"),
    [
        (service({**MODEL, "replicas": "two"}), "spec.replicas", "must be of type integer"),
        (service({**MODEL, "caching": {"mode": "Sometimes"}}), "spec.caching.mode", "Unsupported value"),
        (service({**MODEL, "replica": 1}), "spec.replica", 'unknown field "spec.replica"'),
        (service({**MODEL, "env": [{"value": "x"}]}), "spec.env[0].name", "Required value"),
        (
            service({"model": {"custom": {"hardware": {"gpu": {"requests": 1}}}}}),
            "spec.model.custom.modelSources",
            "Required value",
        ),
        (service(MODEL, name="Chat"), "metadata.name", "RFC 1123"),
        (
            service({**MODEL, "routing": {"pathTemplate": "/{.metadata.namespace"}}),
            "spec.routing.pathTemplate",
            "use JSONPath",
        ),
        (service(MODEL) | {"metadata": {"name": "chat", "namespace": "n" * 50}}, "metadata.namespace", "too long"),
        (
            {"apiVersion": "aim.eai.amd.com/v1alpha3", "kind": "AIMService", "metadata": {"name": "x"}},
            "kind",
            "no matches",
        ),
        ({"apiVersion": V1, "kind": "AIMProfile", "metadata": {"name": "x"}}, "kind", "no matches"),
    ],
    ids=[
        "type",
        "enum",
        "unknown-field",
        "required-in-list",
        "required",
        "name",
        "webhook-rule",
        "kserve-budget",
        "unknown-version",
        "kind-not-in-version",
    ],
)
def test_a_bad_object_is_refused_naming_the_field(obj: dict[str, Any], field: str, message: str) -> None:
    verdict = admit(obj)
    assert not verdict.allowed
    assert any(f.field == field and message in f.message for f in verdict.errors), [
        (f.field, f.message) for f in verdict.errors
    ]


def test_the_namespace_counts_where_the_rules_depend_on_it() -> None:
    obj = service(MODEL)
    assert admit(obj, namespace="n" * 40).allowed
    assert not admit(obj, namespace="n" * 50).allowed  # KServe's 63 characters: see api.naming


def test_defaults_come_before_the_rules_and_are_in_the_admitted_object() -> None:
    verdict = admit(service(MODEL))
    assert verdict.admitted is not None
    assert verdict.admitted["metadata"]["namespace"] == "default"


def test_webhook_warnings_are_kept() -> None:
    verdict = admit(service({**MODEL, "routing": {"routeTemplate": "/a"}}, api_version=V1))
    assert verdict.allowed
    assert any("pathTemplate" in f.message for f in verdict.warnings)


def test_an_update_of_an_immutable_field_is_refused_only_as_an_update() -> None:
    old = service({"model": {"name": "m"}})
    new = service({"model": {"name": "other"}})
    assert admit(new).allowed
    assert "immutable" in admit(new, old=old).errors[0].message


MANIFEST = """\
# a comment
apiVersion: v1
kind: ConfigMap
metadata:
  name: not-ours
---
apiVersion: aim.eai.amd.com/v1alpha2
kind: AIMService
metadata:
  name: chat
spec:
  model:
    name: qwen
  replicas: two
  caching:
    mode: Sometimes
---
apiVersion: aim.eai.amd.com/v1alpha2
kind: AIMService
metadata:
  name: fine
spec:
  model:
    name: qwen
"""


def test_findings_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "services.yaml"
    path.write_text(MANIFEST)
    report = validate_files([str(path)])
    assert (report.valid, report.invalid, report.skipped) == (1, 1, 1)
    located = {(line.line, line.field) for line in report.lines}
    assert located == {(14, "spec.replicas"), (16, "spec.caching.mode")}


def test_yaml_that_does_not_parse_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("apiVersion: v1\nkind: [unclosed\nmetadata: {}\n")
    report = validate_files([str(path)])
    assert report.invalid == 1
    assert report.lines[0].line >= 2
    assert "YAML" in report.lines[0].message


def test_a_list_kind_is_validated_item_by_item(tmp_path: Path) -> None:
    items = [service(MODEL, name="ok"), service({**MODEL, "replicas": -1}, name="bad")]
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=1))
    report = validate_files([str(path)])
    assert (report.valid, report.invalid) == (1, 1)
    assert report.lines[0].name == "bad"


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        (["-f", str(EXAMPLES)], 0),
        (["-f", str(EXAMPLES), "--strict"], 1),  # the v1alpha1 examples are deprecated: warnings
        (["-f", "{bad}"], 1),
        (["-f", "/no/such/file.yaml"], 2),
    ],
)
def test_exit_codes(arguments: list[str], code: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MANIFEST)
    arguments = [str(bad) if a == "{bad}" else a for a in arguments]
    assert main(["validate", *arguments]) == code


def test_json_output_lists_each_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "services.yaml"
    path.write_text(MANIFEST)
    assert main(["validate", "-f", str(path), "-o", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["invalid"] == 1
    assert {f["field"] for f in data["findings"]} == {"spec.replicas", "spec.caching.mode"}
    assert all(f["file"] == str(path) and f["severity"] == "error" for f in data["findings"])


def test_text_output_is_file_line_field_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "services.yaml"
    path.write_text(MANIFEST)
    main(["validate", "-f", str(path)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f'{path}:14: spec.replicas: Invalid value: "two"')

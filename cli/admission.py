"""Offline admission: what `kubectl apply` would answer with this project installed, without a cluster.

The API server's order, for one object: strict decoding (unknown fields are errors under kubectl's
default `--validate=strict`), the structural schema's defaults, the mutating webhook
(`api.defaulting`), the OpenAPI schema and the CEL rules of the generated CRD, then the validating
webhook (`api.validation`). The schema and the rules come from the same models the CRDs are
generated from, so there is no second copy of any rule here: only the evaluation machinery the API
server has and Python does not (JSON Schema through `jsonschema`, CEL through `cel-python`).

Pure: objects in, findings out. References to other objects are returned for the caller to look up.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import celpy
from celpy.adapter import json_to_cel
from celpy.celtypes import BoolType
from celpy.evaluation import CELEvalError
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from api import GROUP
from api.conversion import convert
from api.defaulting import apply_defaults
from api.registry import CRDS
from api.schema.crd import custom_resource_definition
from api.validation import AdmissionInput, Reference, validate

Path = tuple[str | int, ...]

OBJECT_META_FIELDS = frozenset(
    {
        "name",
        "generateName",
        "namespace",
        "labels",
        "annotations",
        "finalizers",
        "ownerReferences",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    }
)
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@dataclass(frozen=True)
class Finding:
    path: Path
    message: str
    warning: bool = False

    @property
    def field(self) -> str:
        return render_path(self.path)


@dataclass
class Verdict:
    """What admission decided for one object; `admitted` is what the API server would store."""

    findings: list[Finding] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    admitted: dict[str, Any] | None = None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if not f.warning]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.warning]

    @property
    def allowed(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ServedVersion:
    kind: str
    api_version: str
    plural: str
    namespaced: bool
    schema: dict[str, Any]
    deprecation_warning: str | None
    storage: bool


@cache
def served_versions() -> dict[tuple[str, str], ServedVersion]:
    """(apiVersion, kind) → the generated CRD's version: the schema the API server checks."""
    served = {}
    for spec in CRDS:
        crd = custom_resource_definition(spec)
        for version in crd["spec"]["versions"]:
            if not version["served"]:
                continue
            api_version = f"{spec.group}/{version['name']}"
            served[(api_version, spec.names.kind)] = ServedVersion(
                kind=spec.names.kind,
                api_version=api_version,
                plural=spec.names.plural,
                namespaced=spec.scope == "Namespaced",
                schema=version["schema"]["openAPIV3Schema"],
                deprecation_warning=version.get("deprecationWarning"),
                storage=version["storage"],
            )
    return served


def is_aim_object(obj: dict[str, Any]) -> bool:
    api_version = obj.get("apiVersion")
    return isinstance(api_version, str) and api_version.split("/")[0] == GROUP


def admit(obj: dict[str, Any], old: dict[str, Any] | None = None, namespace: str = "default") -> Verdict:
    """The verdict on creating `obj` (or on updating `old` to it) in `namespace`, unless the object
    names its own. `obj` is not changed."""
    verdict = Verdict()
    served = served_versions().get((str(obj.get("apiVersion")), str(obj.get("kind"))))
    if served is None:
        message = f'no matches for kind "{obj.get("kind")}" in version "{obj.get("apiVersion")}"'
        verdict.findings.append(Finding(("kind",), message))
        return verdict
    if served.deprecation_warning:
        verdict.findings.append(Finding((), served.deprecation_warning, warning=True))
    obj = copy.deepcopy(obj)
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        verdict.findings.append(Finding(("metadata",), "Required value: an object with a name"))
        return verdict
    if served.namespaced:
        metadata.setdefault("namespace", namespace)
    verdict.findings += list(_metadata_findings(metadata, served.namespaced))
    verdict.findings += list(_unknown_fields(obj, served.schema, ()))
    _apply_schema_defaults(obj, served.schema)
    obj = apply_defaults(obj)
    structural = list(_schema_findings(obj, served.schema))
    verdict.findings += structural
    verdict.findings += list(_cel_findings(obj, old, served.schema, ()))
    if verdict.errors:
        return verdict  # the API server stops before the validating webhook
    request = AdmissionInput(obj, old, "UPDATE" if old is not None else "CREATE", metadata.get("namespace"))
    rules = validate(request)
    verdict.findings += [Finding(parse_path(e.path), _with_hint(e.message, e.hint)) for e in rules.errors]
    verdict.findings += [_warning(text) for text in rules.warnings]
    verdict.references = rules.references
    if not verdict.errors:
        verdict.admitted = obj
    return verdict


def admitted_in_storage_version(obj: dict[str, Any]) -> dict[str, Any]:
    """An admitted object as the cluster would store it (what the controller reads)."""
    stored = next(
        (v.api_version for v in served_versions().values() if v.kind == obj.get("kind") and v.storage),
        str(obj.get("apiVersion")),
    )
    return convert(obj, stored) if stored != obj.get("apiVersion") else obj


def _with_hint(message: str, hint: str) -> str:
    return f"{message} ({hint})" if hint else message


def _warning(text: str) -> Finding:
    """The webhook's warnings start with the field they are about, when they are about one."""
    head, separator, rest = text.partition(": ")
    if separator and re.fullmatch(r"[A-Za-z]+(\.[A-Za-z0-9]+|\[\d+\])*", head):
        return Finding(parse_path(head), rest, warning=True)
    return Finding((), text, warning=True)


def _metadata_findings(metadata: dict[str, Any], namespaced: bool) -> Iterator[Finding]:
    name = metadata.get("name")
    if not name and not metadata.get("generateName"):
        yield Finding(("metadata", "name"), "Required value: name or generateName is required")
    elif isinstance(name, str) and (len(name) > 253 or not DNS_SUBDOMAIN.match(name)):
        yield Finding(
            ("metadata", "name"),
            f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric '
            "characters, '-' or '.', and must start and end with an alphanumeric character",
        )
    if not namespaced and metadata.get("namespace"):
        yield Finding(("metadata", "namespace"), "a cluster-scoped object has no namespace", warning=True)
    for key in metadata:
        if key not in OBJECT_META_FIELDS:
            yield Finding(("metadata", key), f'unknown field "metadata.{key}"')


def _unknown_fields(value: Any, schema: dict[str, Any], path: Path) -> Iterator[Finding]:
    """Fields the schema does not know: kubectl's default (strict) field validation refuses them."""
    if isinstance(value, dict) and schema.get("type") == "object":
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, child in value.items():
            if properties is not None and key in properties:
                if path == () and key == "metadata":
                    continue  # ObjectMeta is checked on its own
                yield from _unknown_fields(child, properties[key], (*path, key))
            elif isinstance(extra, dict):
                yield from _unknown_fields(child, extra, (*path, key))
            elif properties is not None or extra is False:
                yield Finding((*path, key), f'unknown field "{render_path((*path, key))}"')
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from _unknown_fields(item, schema["items"], (*path, index))


def _apply_schema_defaults(value: Any, schema: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, child_schema in (schema.get("properties") or {}).items():
            if key not in value and "default" in child_schema:
                value[key] = copy.deepcopy(child_schema["default"])
            if key in value:
                _apply_schema_defaults(value[key], child_schema)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for child in value.values():
                _apply_schema_defaults(child, extra)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            _apply_schema_defaults(item, schema["items"])


@cache
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json))


def _schema_findings(obj: dict[str, Any], schema: dict[str, Any]) -> Iterator[Finding]:
    root = {**schema, "properties": {k: v for k, v in schema.get("properties", {}).items() if k != "metadata"}}
    checked = {k: v for k, v in obj.items() if k != "metadata"}
    for error in sorted(_validator(json.dumps(root, sort_keys=True)).iter_errors(checked), key=_error_order):
        yield _schema_finding(error)


def _error_order(error: ValidationError) -> tuple[str, str]:
    return render_path(tuple(error.absolute_path)), str(error.validator or "")


def _schema_finding(error: ValidationError) -> Finding:
    """The API server's wording, so that a message found in one place is found in the other."""
    path: Path = tuple(error.absolute_path)
    instance: Any = error.instance
    expected: Any = error.validator_value
    schema: Any = error.schema
    value = (
        json.dumps(error.instance) if not isinstance(error.instance, dict | list) else f'"{_type_name(error.instance)}"'
    )
    where = f"{render_path(path)} in body"
    match error.validator:
        case "required":
            missing = next((k for k in expected if k not in instance), "")
            return Finding((*path, missing), "Required value")
        case "type":
            return Finding(path, f"Invalid value: {value}: {where} must be of type {expected}")
        case "enum":
            return Finding(
                path, f"Unsupported value: {value}: supported values: {', '.join(json.dumps(v) for v in expected)}"
            )
        case "pattern":
            return Finding(path, f"Invalid value: {value}: {where} should match '{expected}'")
        case "maxLength":
            return Finding(path, f"Too long: may not be more than {expected} bytes")
        case "minLength":
            return Finding(path, f"Invalid value: {value}: {where} should be at least {expected} chars long")
        case "minimum":
            return Finding(path, f"Invalid value: {value}: {where} should be greater than or equal to {expected}")
        case "maximum":
            return Finding(path, f"Invalid value: {value}: {where} should be less than or equal to {expected}")
        case "maxItems":
            return Finding(path, f"Too many: {len(instance)}: must have at most {expected} items")
        case "minItems":
            return Finding(path, f"Invalid value: {len(instance)}: {where} should have at least {expected} items")
        case "anyOf" if isinstance(schema, dict) and schema.get("x-kubernetes-int-or-string"):
            return Finding(path, f"Invalid value: {value}: {where} must be of type integer or string")
    return Finding(path, f"Invalid value: {value}: {error.message}")


def _type_name(value: Any) -> str:
    return "object" if isinstance(value, dict) else "array"


def _cel_findings(value: Any, old: Any, schema: dict[str, Any], path: Path) -> Iterator[Finding]:
    """Every x-kubernetes-validations rule where the object has a value. A transition rule (one that
    reads oldSelf) runs only on an update where the old object had a value there, as in the API server."""
    for rule in schema.get("x-kubernetes-validations") or []:
        transition = "oldSelf" in rule["rule"]
        if transition and old is None:
            continue
        if evaluate_rule(rule["rule"], value, old if transition else None) is False:
            yield Finding(path, f'Invalid value: "{_cel_type(value)}": {rule["message"]}')
    if isinstance(value, dict):
        for key, child_schema in (schema.get("properties") or {}).items():
            if key in value:
                yield from _cel_findings(value[key], _child(old, key), child_schema, (*path, key))
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key, child in value.items():
                yield from _cel_findings(child, _child(old, key), extra, (*path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            # Items of a list are correlated with the old list only for map lists (by key); none
            # of this project's rules is a transition rule inside a list.
            yield from _cel_findings(item, None, schema["items"], (*path, index))


def _child(old: Any, key: str) -> Any:
    return old.get(key) if isinstance(old, dict) else None


def _cel_type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


@cache
def _program(rule: str) -> celpy.Runner:
    environment = celpy.Environment()
    return environment.program(environment.compile(rule))


def evaluate_rule(rule: str, value: Any, old: Any = None) -> bool | None:
    """A CEL rule's result on `self` (and `oldSelf`); None when it does not evaluate to a bool (a
    value of the wrong type, which the schema reports)."""
    activation = {"self": json_to_cel(value)}
    if old is not None:
        activation["oldSelf"] = json_to_cel(old)
    try:
        result = _program(rule).evaluate(activation)
    except CELEvalError:
        return None
    return bool(result) if isinstance(result, BoolType) else None


def render_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def parse_path(text: str) -> Path:
    """`spec.a[0].b` → ("spec", "a", 0, "b")."""
    parts: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", text):
        parts.append(int(index) if index else name)
    return tuple(parts)

"""One vocabulary, in `api/`: condition types and reasons, lifecycle state words and label,
annotation and finalizer keys are defined once (api.conditions, api.v1alpha1, api.labels) and the
controller imports them. A string literal in a controller module that spells one of them fails here,
naming the file, the line and the literal.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from api import conditions, labels
from api.v1alpha1.aimservice import ServiceStatusValue
from api.v1alpha1.common import LifecycleStatus

ROOT = Path(__file__).resolve().parents[3]
CONTROLLER = ROOT / "controller"

_LABEL_CONSTANTS = {value for name, value in vars(labels).items() if name.isupper() and isinstance(value, str)}

WORDS: frozenset[str] = frozenset(
    str(member)
    for enum in (conditions.ConditionType, conditions.Reason, LifecycleStatus, ServiceStatusValue)
    for member in enum
) | frozenset(key for key in _LABEL_CONSTANTS if "/" in key or "." in key)
"""Condition types, reasons, state words, and label keys and API versions: never spelled in
`controller/`, whatever the position."""

LABEL_VALUES: frozenset[str] = frozenset(_LABEL_CONSTANTS) - WORDS
"""Label values and plain names from api.labels (`aim-engine`, `routing`, `custom`): ordinary words
that are also field names of the objects (`spec.routing`, `spec.model.custom`), so they count
everywhere except as a field name (see `_field_names`)."""

KEY_PREFIXES = ("aim.eai.amd.com/", "app.kubernetes.io/", "serving.kserve.io/", "feature.node.kubernetes.io/")
"""Label and annotation keys under these prefixes belong in api.labels, even ones it lacks yet."""

OTHER_MEANINGS: dict[tuple[str, str], str] = {
    # (module, literal) → what the word means there. Only for a word the vocabulary also uses
    # that names something else; keep it short.
    ("controller/modelsource/observe.py", "Unauthorized"): "a ListingFailureCategory (HTTP 401/403 from a "
    "registry), data between fetch and plan; the condition reason it maps to is Reason.UNAUTHORIZED",
    ("controller/service/autoscaling.py", "external"): "KEDA's trigger type for an external scaler "
    "(keda-otel-scaler), not KServe's autoscaler class",
    ("controller/service/plan.py", "custom"): "the name of a custom model without sources, not the origin "
    "label value (the schema requires a source, so it is never used)",
}


def _not_code(tree: ast.AST) -> set[int]:
    """ids of the strings that are not values: docstrings (module, class, function, and attribute
    docstrings after assignments), which are prose, and `__all__`, which names Python objects."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            found.add(id(node.value))
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            found.update(id(n) for n in ast.walk(node.value))
    return found


def _fragments(tree: ast.AST) -> set[int]:
    """ids of the constant parts of f-strings, which count only when a whole part is vocabulary."""
    return {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
        if isinstance(part, ast.Constant)
    }


def _field_names(tree: ast.AST) -> set[int]:
    """ids of the strings used as field names: `obj["x"]`, `obj.get("x")` and `{"x": ...}`. Field
    names are schema (the pydantic models in api/), not vocabulary."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            found.add(id(node.slice))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            found.update(id(arg) for arg in node.args[:1])
        elif isinstance(node, ast.Dict):
            found.update(id(key) for key in node.keys if key is not None)
    return found


def vocabulary_literals(path: Path, root: Path = ROOT) -> Iterator[str]:
    """`file:line: literal` (the file relative to `root`) for each string constant in `path` that
    spells the vocabulary."""
    tree = ast.parse(path.read_text(), filename=str(path))
    module = path.relative_to(root).as_posix()
    skipped, fragments, fields = _not_code(tree), _fragments(tree), _field_names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str) or id(node) in skipped:
            continue
        value = node.value
        spelled = (
            value in WORDS
            or (value in LABEL_VALUES and id(node) not in fields)
            or (id(node) not in fragments and value.startswith(KEY_PREFIXES))
        )
        if spelled and (module, value) not in OTHER_MEANINGS:
            yield f"{module}:{node.lineno}: {value!r}"


@pytest.mark.parametrize("path", sorted(CONTROLLER.rglob("*.py")), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_controller_module_takes_its_vocabulary_from_api(path: Path) -> None:
    found = list(vocabulary_literals(path))
    assert not found, "spelled instead of imported from api/:\n" + "\n".join(found)


def test_allowlists_name_existing_modules() -> None:
    missing = sorted(module for module, _ in OTHER_MEANINGS if not (ROOT / module).is_file())
    assert not missing, f"OTHER_MEANINGS names modules that do not exist: {missing}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param('x = "Ready"\n', ["'Ready'"], id="condition-type"),
        pytest.param('x = {"aim.eai.amd.com/new-key": "v"}\n', ["'aim.eai.amd.com/new-key'"], id="key-prefix"),
        pytest.param('x = {"app.kubernetes.io/name": "x"}\n', ["'app.kubernetes.io/name'"], id="key-as-dict-key"),
        pytest.param('x = f"{n}-Ready"\n', [], id="fragment-part-of-a-word"),
        pytest.param('x = f"aim.eai.amd.com/{n}"\n', ["'aim.eai.amd.com/'"], id="fragment-is-a-prefix-constant"),
        pytest.param('x = f"{n} is Ready"\n', [], id="prose-in-fragment"),
        pytest.param('"""Ready."""\nx = 1\n"""Ready"""\n', [], id="docstrings"),
        pytest.param('__all__ = ["Synced"]\n', [], id="dunder-all"),
        pytest.param('x = "Readiness"\n', [], id="other-word"),
        pytest.param('x = {"Ready": 1}\nx.get("Failed")\n', ["'Ready'", "'Failed'"], id="state-word-as-key"),
        pytest.param('x = {"routing": spec["routing"], "y": s.get("routing")}\n', [], id="label-value-as-field"),
        pytest.param('x = {"y": "aim-engine"}\nf("routing")\n', ["'aim-engine'", "'routing'"], id="label-value"),
    ],
)
def test_scanner(tmp_path: Path, source: str, expected: list[str]) -> None:
    path = tmp_path / "m.py"
    path.write_text(source)
    assert [line.split(": ", 1)[1] for line in vocabulary_literals(path, tmp_path)] == expected


def _members(cls: str) -> list[tuple[str, str, bool]]:
    """(name, value, documented) of each member of `cls` in api/conditions.py, from its source:
    StrEnum members cannot carry __doc__, so a member's docstring is the string after it."""
    tree = ast.parse(Path(conditions.__file__).read_text())
    (body,) = [node.body for node in tree.body if isinstance(node, ast.ClassDef) and node.name == cls]
    members = []
    for i, node in enumerate(body):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            (target,) = node.targets
            assert isinstance(target, ast.Name)
            after = body[i + 1] if i + 1 < len(body) else None
            documented = (
                isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            )
            members.append((target.id, str(node.value.value), documented))
    return members


@pytest.mark.parametrize("cls", ["ConditionType", "Reason"])
def test_condition_vocabulary_values_are_unique(cls: str) -> None:
    values = [value for _, value, _ in _members(cls)]
    duplicates = sorted({v for v in values if values.count(v) > 1})
    assert not duplicates, f"{cls} spells these values twice: {duplicates}"
    assert len(values) == len(getattr(conditions, cls)), "every member is a plain `NAME = value` assignment"


def test_every_condition_type_is_documented() -> None:
    undocumented = [name for name, _, documented in _members("ConditionType") if not documented]
    assert not undocumented, f"ConditionType members without a docstring (what True means, who sets it): {undocumented}"

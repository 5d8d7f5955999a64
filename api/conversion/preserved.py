"""What a version cannot express, carried across a conversion in one annotation.

Each entry is keyed by a JSON pointer in the *source* object's layout after conversion and says:
"here the converted object holds `converted`; the original object held `original`". On the way
back an entry is applied only while the value there still equals `converted`, so a field changed
through the other version is never overwritten by a stale stash. `ABSENT` stands for a field that
is not there (JSON has no way to say so otherwise).
"""

from __future__ import annotations

import json
from typing import Any

from jsonpointer import JsonPointer

ANNOTATION = "conversion.aim.eai.amd.com/preserved"
ABSENT: dict[str, bool] = {"$absent": True}

Parts = tuple[str | int, ...]


def pointer(parts: Parts) -> str:
    return str(JsonPointer.from_parts([str(p) for p in parts]).path)


def parts_of(path: str) -> list[str]:
    return list(JsonPointer(path).parts)


def get(document: Any, parts: Parts | list[str]) -> Any:
    """The value at `parts`, or ABSENT."""
    node = document
    for part in parts:
        if isinstance(node, dict) and str(part) in node:
            node = node[str(part)]
        elif isinstance(node, list) and str(part).isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return ABSENT
    return node


def put(document: Any, parts: Parts | list[str], value: Any) -> None:
    """Set (or, for ABSENT, remove) the value at `parts`, creating dicts on the way."""
    *parents, last = [str(p) for p in parts]
    node = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(last)] = value
    elif value == ABSENT:
        node.pop(last, None)
    else:
        node[last] = copy_json(value)


class Stash:
    """Entries recorded while converting one object."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}

    def record(self, parts: Parts, original: Any, converted: Any, kind: str = "value") -> None:
        self.entries[pointer(parts)] = {"kind": kind, "original": original, "converted": converted}


def take_annotation(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Remove the annotation from `obj` and return its entries."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return {}
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict) or ANNOTATION not in annotations:
        return {}
    raw = annotations.pop(ANNOTATION)
    if not annotations:
        del metadata["annotations"]
    entries = json.loads(raw)
    if not isinstance(entries, dict):
        raise ValueError(f"annotation {ANNOTATION} is not a JSON object")
    return entries


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON tree (dicts, lists, scalars): several times faster than
    copy.deepcopy, which dominated the conversion of large lists."""
    if type(value) is dict:
        return {key: copy_json(item) for key, item in value.items()}
    if type(value) is list:
        return [copy_json(item) for item in value]
    return value


def put_annotation(obj: dict[str, Any], stash: Stash) -> None:
    if stash.entries:
        metadata = obj.setdefault("metadata", {})
        annotations = metadata.setdefault("annotations", {})
        annotations[ANNOTATION] = json.dumps(stash.entries, sort_keys=True, separators=(",", ":"))


def restore(obj: dict[str, Any], entries: dict[str, dict[str, Any]]) -> None:
    """Apply the entries whose `converted` value is still in place. Every check is made against
    the object as it arrived; deeper pointers are applied first, so a list can be moved after
    the restorations inside it."""
    applicable = [(p, e) for p, e in entries.items() if get(obj, parts_of(p)) == e["converted"]]
    for path, entry in sorted(applicable, key=lambda item: -len(parts_of(item[0]))):
        parts = parts_of(path)
        kind = entry["kind"]
        if kind == "value":
            put(obj, parts, entry["original"])
        elif kind == "rename":  # original: the key the value had
            value = get(obj, parts)
            put(obj, parts, ABSENT)
            put(obj, [*parts[:-1], entry["original"]], value)
        elif kind == "unwrap":  # original: the scalar that was wrapped into a one-item list
            put(obj, parts, ABSENT)
            put(obj, [*parts[:-1], entry["original"]["key"]], entry["original"]["value"])
        elif kind == "move":  # original: the pointer the value lived at
            value = get(obj, parts)
            put(obj, parts, ABSENT)
            put(obj, parts_of(entry["original"]), value)
        else:
            raise ValueError(f"unknown preserved entry kind {kind!r} at {path}")

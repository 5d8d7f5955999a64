"""`kubectl aim convert`: manifests rewritten between aim.eai.amd.com/v1alpha1 and v1alpha2 with the
conversion the webhook serves (`api.conversion.convert`, lossless: what the target version cannot
say travels in an annotation and comes back on the way back).

Only what the conversion changed is touched in the file: unchanged keys keep their comments, order
and quoting; a renamed key takes the place of the old one.
"""

from __future__ import annotations

import copy
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from api import GROUP
from api.conversion import TRANSFORMS, ConversionError, convert
from cli.manifests import Document, documents, parse, round_trip_yaml

VERSIONS = ("v1alpha1", "v1alpha2")


@dataclass
class Converted:
    text: str
    converted: int
    unchanged: int
    notes: list[str]
    """Objects left as they were and why (a kind with one version, another API group)."""


def convert_text(source: str, text: str, to_version: str) -> Converted:
    """Every AIM object of one file's text in `to_version`; the rest of the text as it was."""
    target = f"{GROUP}/{to_version}"
    yaml = round_trip_yaml()
    yaml.indent(mapping=2, sequence=_dash_offset(text) + 2, offset=_dash_offset(text))
    nodes = parse(source, text)  # the trees to edit and dump, document by document
    converted = unchanged = 0
    notes = []
    for document in documents(source, nodes):
        node = _node_of(nodes, document)
        if not isinstance(node, CommentedMap):
            continue
        obj = document.plain()
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if api_version == target or not str(api_version).startswith(f"{GROUP}/"):
            unchanged += 1
            continue
        if kind not in TRANSFORMS:
            notes.append(f"{source}:{document.line(())}: {kind} exists only in {api_version}; left as it is")
            unchanged += 1
            continue
        try:
            result = convert(obj, target)
        except ConversionError as error:
            raise ConversionError(f"{source}:{document.line(())}: {error}") from error
        merge(node, result)
        converted += 1
    stream = io.StringIO()
    if converted:
        yaml.explicit_start = text.lstrip().startswith("---")
        yaml.dump_all(nodes, stream)
        output = stream.getvalue()
    else:
        output = text
    return Converted(output, converted, unchanged, notes)


def _dash_offset(text: str) -> int:
    """How far this file indents a list's dash under its key (0 or 2 in practice): the file's own
    style is kept for the lists conversion does not touch, which ruamel re-emits."""
    lines = text.splitlines()
    for above, line in itertools.pairwise(lines):
        key = re.match(r"^(\s*)[^\s#-][^:]*:\s*$", above)
        dash = re.match(r"^(\s*)- ", line)
        if key and dash:
            return max(0, len(dash.group(1)) - len(key.group(1)))
    return 2


def _node_of(nodes: list[Any], document: Document) -> Any:
    node = nodes[document.index]
    if document.item is not None:
        return node["items"][document.item]
    return node


def merge(target: CommentedMap, new: dict[str, Any], pool: list[Any] | None = None) -> None:
    """Make `target` equal to `new`, touching only what differs. New keys go where removed keys
    were (a rename keeps its place), or at the end; a value the conversion moved (equal to a list
    or map of the original document) is the original's, with its comments and quoting."""
    pool = list(_containers(target)) if pool is None else pool
    removed = [key for key in target if key not in new]
    added = [key for key in new if key not in target]
    position = list(target).index(removed[0]) if removed else None
    for key in removed:
        del target[key]
    for key, value in new.items():
        if key in added:
            continue
        current = target[key]
        if isinstance(current, CommentedMap) and isinstance(value, dict):
            merge(current, value, pool)
        elif isinstance(current, CommentedSeq) and isinstance(value, list) and len(current) == len(value):
            _merge_list(current, value, pool)
        elif current != value:
            target[key] = _reused(value, pool)
    for offset, key in enumerate(added):
        if position is not None:
            target.insert(position + offset, key, _reused(new[key], pool))
        else:
            target[key] = _reused(new[key], pool)


def _merge_list(target: CommentedSeq, new: list[Any], pool: list[Any]) -> None:
    for index, value in enumerate(new):
        current = target[index]
        if isinstance(current, CommentedMap) and isinstance(value, dict):
            merge(current, value, pool)
        elif current != value:
            target[index] = _reused(value, pool)


def _containers(node: Any) -> Iterator[Any]:
    if isinstance(node, CommentedMap | CommentedSeq):
        yield node
        for child in node.values() if isinstance(node, CommentedMap) else node:
            yield from _containers(child)


def _reused(value: Any, pool: list[Any]) -> Any:
    if isinstance(value, dict | list) and value:
        for node in pool:
            if isinstance(node, CommentedMap | CommentedSeq) and node == value:
                return copy.deepcopy(node)
    return value

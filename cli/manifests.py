"""Manifests as users keep them: files, directories, stdin, multi-document YAML, `kind: List`.

Documents are read with ruamel.yaml's round-trip loader, which remembers where every key and item
is (for `file:line` in errors) and keeps comments and key order (for `convert`).
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedBase, CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from cli.admission import Path

STDIN = "-"
SUFFIXES = (".yaml", ".yml", ".json")


class ManifestError(Exception):
    """A file that cannot be read as YAML: `where` and the parser's message."""

    def __init__(self, source: str, line: int, message: str):
        super().__init__(f"{source}:{line}: {message}")
        self.source, self.line, self.message = source, line, message


@dataclass
class Document:
    source: str
    """The file as the user named it, or "<stdin>"."""
    index: int
    """Position in its file (0-based), counting empty documents."""
    node: Any
    """The round-trip tree: a CommentedMap for an object."""
    item: int | None = None
    """Position inside a `kind: List` document."""

    def plain(self) -> Any:
        """The document as JSON data (dicts, lists, str, int, float, bool, None)."""
        return json.loads(json.dumps(self.node, default=str))

    def line(self, path: Path) -> int:
        """1-based line of the deepest part of `path` that exists in the file."""
        node: Any = self.node
        line = _own_line(node)
        for part in path:
            if isinstance(node, CommentedMap) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                line = node.lc.item(part)[0] + 1
                node = node[part]
            else:
                break
        return line


def _own_line(node: Any) -> int:
    return node.lc.line + 1 if isinstance(node, CommentedBase) and node.lc.line is not None else 1


def round_trip_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a user's long strings
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def expand(paths: list[str]) -> list[str]:
    """Files in the order given; a directory's YAML and JSON files sorted, recursively."""
    files = []
    for name in paths:
        path = FilePath(name)
        if name != STDIN and path.is_dir():
            files += sorted(str(p) for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        else:
            files.append(name)
    return files


def read_text(name: str) -> str:
    return sys.stdin.read() if name == STDIN else FilePath(name).read_text()


def load(source: str, text: str) -> list[Document]:
    """Every object in one file's text; raises ManifestError for text that is not YAML."""
    return list(documents(source, parse(source, text)))


def parse(source: str, text: str) -> list[Any]:
    """The round-trip tree of each YAML document of the text (None for an empty one)."""
    try:
        return list(round_trip_yaml().load_all(io.StringIO(text)))
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise ManifestError(source, (mark.line + 1) if mark else 1, f"YAML: {error.problem or error}") from error
    except YAMLError as error:
        raise ManifestError(source, 1, f"YAML: {error}") from error


def documents(source: str, nodes: list[Any]) -> Iterator[Document]:
    for index, node in enumerate(nodes):
        if node is None:
            continue
        if isinstance(node, CommentedMap) and str(node.get("kind", "")).endswith("List") and "items" in node:
            for item, entry in enumerate(node.get("items") or []):
                yield Document(source, index, entry, item)
        else:
            yield Document(source, index, node)


def display_name(source: str) -> str:
    return "<stdin>" if source == STDIN else source

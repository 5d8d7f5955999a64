"""Ranged parts of an S3 object and the journal of finished parts that lets a new process resume
a partial file (pure).

The journal sits next to the partial file: a JSON header naming the object version (ETag, size,
part size), then one line per finished part index, appended after the part's bytes were written.
A process killed at any point leaves at worst a torn last line, which is ignored; a header that
does not match the object (it changed, or the part size did) means starting the file over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    index: int
    start: int
    end: int
    """Inclusive, as in an HTTP Range."""

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def range_header(self) -> str:
        return f"bytes={self.start}-{self.end}"


def split_parts(size: int, part_size: int) -> list[Part]:
    if part_size <= 0:
        raise ValueError("part_size must be positive")
    return [
        Part(index, start, min(start + part_size, size) - 1) for index, start in enumerate(range(0, size, part_size))
    ]


def journal_header(etag: str, size: int, part_size: int) -> str:
    return json.dumps({"etag": etag, "size": size, "partSize": part_size}, sort_keys=True)


def completed_parts(journal: str | None, etag: str, size: int, part_size: int) -> frozenset[int] | None:
    """Finished part indexes, or None when the journal is missing or belongs to another version
    of the object (start over)."""
    if not journal:
        return None
    lines = journal.split("\n")
    if lines[0] != journal_header(etag, size, part_size):
        return None
    total = len(split_parts(size, part_size))
    done: set[int] = set()
    # Only lines terminated by a newline were written completely.
    for line in lines[1:-1]:
        if line.isdigit() and int(line) < total:
            done.add(int(line))
    return frozenset(done)

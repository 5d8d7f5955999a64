"""S3 parts and the journal that resumes them."""

from __future__ import annotations

import pytest

from downloader.parts import Part, completed_parts, journal_header, split_parts


@pytest.mark.parametrize(
    ("size", "part_size", "expected"),
    [
        pytest.param(0, 8, [], id="empty-object"),
        pytest.param(1, 8, [Part(0, 0, 0)], id="one-byte"),
        pytest.param(8, 8, [Part(0, 0, 7)], id="exactly-one-part"),
        pytest.param(20, 8, [Part(0, 0, 7), Part(1, 8, 15), Part(2, 16, 19)], id="short-last-part"),
    ],
)
def test_split_parts(size: int, part_size: int, expected: list[Part]) -> None:
    parts = split_parts(size, part_size)
    assert parts == expected
    assert sum(p.length for p in parts) == size


def test_range_header() -> None:
    assert Part(2, 16, 19).range_header == "bytes=16-19"


HEADER = journal_header("etag1", 20, 8)


@pytest.mark.parametrize(
    ("journal", "expected"),
    [
        pytest.param(None, None, id="no-journal"),
        pytest.param("", None, id="empty-journal"),
        pytest.param(HEADER + "\n", frozenset(), id="header-only"),
        pytest.param(HEADER + "\n0\n2\n", frozenset({0, 2}), id="parts"),
        pytest.param(HEADER + "\n0\n2", frozenset({0}), id="torn-last-line"),
        pytest.param(HEADER + "\n0\nx\n7\n1\n", frozenset({0, 1}), id="junk-and-out-of-range"),
        pytest.param(journal_header("etag2", 20, 8) + "\n0\n", None, id="object-changed"),
        pytest.param(journal_header("etag1", 20, 4) + "\n0\n", None, id="part-size-changed"),
    ],
)
def test_completed_parts(journal: str | None, expected: frozenset[int] | None) -> None:
    assert completed_parts(journal, "etag1", 20, 8) == expected

"""Progress arithmetic, stall detection, the status rate limit and the size check."""

from __future__ import annotations

import pytest

from downloader.progress import RateLimiter, StallDetector, human_bytes, percentage, progress
from downloader.verify import size_mismatch


@pytest.mark.parametrize(
    ("downloaded", "total", "complete", "expected"),
    [
        pytest.param(0, 100, False, 0, id="start"),
        pytest.param(42, 100, False, 42, id="midway"),
        pytest.param(999, 1000, False, 99, id="rounds-down"),
        pytest.param(100, 100, False, 99, id="all-bytes-but-not-done"),
        pytest.param(150, 100, False, 99, id="more-than-total"),
        pytest.param(100, 100, True, 100, id="complete"),
        pytest.param(5, None, False, 0, id="unknown-total"),
        pytest.param(5, 0, False, 0, id="zero-total"),
        pytest.param(0, None, True, 100, id="complete-unknown-total"),
    ],
)
def test_percentage(downloaded: int, total: int | None, complete: bool, expected: int) -> None:
    assert percentage(downloaded, total, complete) == expected


def test_progress_status_fields() -> None:
    assert progress(42, 100).as_status() == {
        "totalBytes": 100,
        "downloadedBytes": 42,
        "percentage": 42,
        "displayPercentage": "42 %",
    }
    assert progress(7, None).as_status() == {"downloadedBytes": 7, "percentage": 0, "displayPercentage": "0 %"}
    done = progress(90, 100, complete=True)
    assert (done.downloaded_bytes, done.percentage, done.display_percentage) == (100, 100, "100 %")


@pytest.mark.parametrize(
    ("samples", "stalled_at"),
    [
        pytest.param([(0, 0.0), (10, 1.0), (20, 2.0), (30, 3.0)], None, id="growing"),
        pytest.param([(0, 0.0), (10, 1.0), (10, 2.0), (10, 3.9)], None, id="flat-below-timeout"),
        pytest.param([(0, 0.0), (10, 1.0), (10, 2.0), (10, 4.0)], 3, id="flat-for-timeout"),
        pytest.param([(50, 0.0), (40, 1.0), (45, 2.0), (49, 3.0)], 3, id="shrinking-is-not-growth"),
        pytest.param([(50, 0.0), (40, 1.0), (51, 2.9), (51, 5.0)], None, id="new-high-resets"),
        pytest.param([(0, 10.0), (0, 13.0)], 1, id="nothing-ever"),
    ],
)
def test_stall_detector(samples: list[tuple[int, float]], stalled_at: int | None) -> None:
    detector = StallDetector(timeout=3.0)
    results = [detector.observe(downloaded, now) for downloaded, now in samples]
    expected = [stalled_at is not None and i >= stalled_at for i in range(len(samples))]
    assert results == expected


def test_rate_limiter() -> None:
    limiter = RateLimiter(5.0)
    assert limiter.allow(0.0)
    assert not limiter.allow(4.9)
    assert limiter.allow(4.9, force=True)  # protocol switch, end
    assert not limiter.allow(9.8)
    assert limiter.allow(9.9)


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (3 * 1024**3 // 2, "1.5 GiB"), (5 * 1024**5, "5120.0 TiB")],
)
def test_human_bytes(count: int, text: str) -> None:
    assert human_bytes(count) == text


@pytest.mark.parametrize(
    ("expected", "actual", "message"),
    [
        pytest.param(None, 123, None, id="nothing-expected"),
        pytest.param(100, 100, None, id="exact"),
        pytest.param(100, 99, "expected 100 bytes (100 B); difference -1 bytes", id="short"),
        pytest.param(100, 101, "difference +1 bytes", id="long"),
        pytest.param(0, 0, None, id="empty-model"),
    ],
)
def test_size_mismatch(expected: int | None, actual: int, message: str | None) -> None:
    result = size_mismatch(expected, actual)
    if message is None:
        assert result is None
    else:
        assert result is not None
        assert result.startswith("size verification failed: downloaded")
        assert message in result

"""What the downloader prints: a progress bar on a terminal, rate-limited log lines otherwise."""

from __future__ import annotations

import logging

import pytest

from downloader.supervisor import Console


def test_terminal_gets_a_bar_and_lines_above_it(capsys: pytest.CaptureFixture[str]) -> None:
    console = Console(interval=5, tty=True)
    console.show(512 * 1024, 1024 * 1024, "HTTP", now=0.0)
    console.write("Started attempt protocol=HTTP")
    console.show(1024 * 1024, 1024 * 1024, "HTTP", now=1.0)
    console.close()
    captured = capsys.readouterr()
    assert "HTTP" in captured.out
    assert "50%" in captured.out
    assert "100%" in captured.out
    assert "Started attempt protocol=HTTP" in captured.err


def test_no_terminal_logs_progress_at_most_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    console = Console(interval=5, tty=False)
    with caplog.at_level(logging.INFO, logger="downloader"):
        for second in range(11):
            console.show(second * 1024, 10 * 1024, "S3", now=float(second))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Progress")]
    assert lines == [
        "Progress protocol=S3 downloaded=0 B total=10.0 KiB percentage=0",
        "Progress protocol=S3 downloaded=5.0 KiB total=10.0 KiB percentage=50",
        "Progress protocol=S3 downloaded=10.0 KiB total=10.0 KiB percentage=99",
    ]

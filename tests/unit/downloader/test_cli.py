"""The command line's usage errors: exit code 2, the reason in the termination message."""

from __future__ import annotations

from pathlib import Path

import pytest

from downloader import EXIT_USAGE
from downloader.__main__ import main


@pytest.fixture
def termination_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "termination-log"
    monkeypatch.setenv("AIM_TERMINATION_LOG", str(path))
    monkeypatch.setenv("TARGET_DIR", str(tmp_path / "target"))
    monkeypatch.setenv("HF_TOKEN", "hf_secretvalue0123456789")
    return path


@pytest.mark.parametrize(
    ("argv", "env", "reason"),
    [
        pytest.param(["https://example.com/model"], {}, "must start with hf:// or s3://", id="unknown-scheme"),
        pytest.param(["hf://only-a-name"], {}, "expected hf://org/name", id="bad-hf-uri"),
        pytest.param([], {}, "the following arguments are required: source_uri", id="missing-uri"),
        pytest.param(["--bogus", "hf://a/b"], {}, "unrecognized arguments: --bogus", id="unknown-flag"),
        pytest.param(["hf://a/b"], {"AIM_DOWNLOADER_PROTOCOL": "FTP"}, "names no known protocol", id="bad-protocols"),
        pytest.param(["hf://a/b"], {"EXPECTED_SIZE_BYTES": "lots"}, "EXPECTED_SIZE_BYTES", id="bad-size"),
        pytest.param(["hf://a/b"], {"STALL_TIMEOUT": "-1"}, "STALL_TIMEOUT", id="bad-stall-timeout"),
    ],
)
def test_usage_errors(
    argv: list[str],
    env: dict[str, str],
    reason: str,
    termination_log: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == EXIT_USAGE
    message = termination_log.read_text()
    assert message.startswith("usage error: ")
    assert reason in message
    assert "\n" not in message
    captured = capsys.readouterr()
    assert reason in captured.err
    assert "hf_secretvalue0123456789" not in captured.err + captured.out + message


def test_unwritable_termination_log_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIM_TERMINATION_LOG", str(tmp_path / "no" / "such" / "dir" / "log"))
    assert main(["gs://bucket/x"]) == EXIT_USAGE

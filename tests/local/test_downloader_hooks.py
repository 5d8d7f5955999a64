"""The downloader's test hooks (downloader.simulation), as upstream's e2e suite drives them through
the environment: `aim-download` runs as the download Job runs it, with no server at all — a
simulated download never opens a connection (HF_ENDPOINT points at a closed port to prove it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from downloader import EXIT_OK, EXIT_TRANSIENT
from downloader.simulation import SIMULATED_FILE, SIMULATED_HF_BYTES
from tests.servers.fixtures import download_env, run_download

NOWHERE = "http://127.0.0.1:1"


def env(tmp_path: Path, **hooks: str) -> dict[str, str]:
    return download_env(tmp_path, HF_ENDPOINT=NOWHERE, **hooks)


def simulated_size(tmp_path: Path) -> int:
    path = tmp_path / "target" / SIMULATED_FILE
    return path.stat().st_size if path.exists() else 0


def test_simulated_download_writes_the_expected_size_in_two_steps_then_verifies(tmp_path: Path) -> None:
    hooks = {
        "AIM_DEBUG_SIMULATE_DOWNLOAD": "true",
        "AIM_DEBUG_DOWNLOAD_DURATION": "1",
        "AIM_DEBUG_VERIFY_DURATION": "1",
        "EXPECTED_SIZE_BYTES": "300000",
    }
    result = run_download("hf://test-org/test-model", env=env(tmp_path, **hooks))
    assert result.returncode == EXIT_OK, result.stderr
    assert simulated_size(tmp_path) == 300000
    assert "AIM_DEBUG_SIMULATE_DOWNLOAD is set" in result.stderr
    assert "Simulating verification" in result.stderr
    assert result.seconds >= 2  # both pauses were taken


def test_simulated_verification_failure_fails_after_the_bytes_are_there(tmp_path: Path) -> None:
    hooks = {
        "AIM_DEBUG_SIMULATE_DOWNLOAD": "1",
        "AIM_DEBUG_VERIFY_FAIL": "1",
        "AIM_DEBUG_DOWNLOAD_DURATION": "0",
        "AIM_DEBUG_VERIFY_DURATION": "0",
    }
    result = run_download("s3://bucket/model", env=env(tmp_path, **hooks))
    assert result.returncode == EXIT_TRANSIENT, result.stderr
    assert simulated_size(tmp_path) == 1024 * 1024  # the default without EXPECTED_SIZE_BYTES
    assert result.termination_message == "verification failed on purpose: AIM_DEBUG_VERIFY_FAIL is set"


@pytest.mark.parametrize(
    ("failing", "code", "attempts"),
    [
        ("XET", EXIT_OK, ["XET", "HTTP"]),  # the fallback runs
        ("", EXIT_OK, ["XET"]),
        ("XET,HTTP", EXIT_TRANSIENT, ["XET", "HTTP"]),
    ],
    ids=["first-fails", "none-fails", "all-fail"],
)
def test_simulated_protocol_failures_exercise_the_fallback(
    tmp_path: Path, failing: str, code: int, attempts: list[str]
) -> None:
    hooks = {
        "AIM_DOWNLOADER_PROTOCOL": "XET,HTTP",
        "AIM_DEBUG_SIMULATE_HF_DOWNLOAD": "true",
        "AIM_DEBUG_SIMULATE_HF_FAIL_PROTOCOLS": failing,
        "AIM_DEBUG_SIMULATE_HF_DURATION": "0.2",
        "EXPECTED_SIZE_BYTES": str(SIMULATED_HF_BYTES),
    }
    result = run_download("hf://test-org/test-model", env=env(tmp_path, **hooks))
    assert result.returncode == code, result.stderr
    started = [
        line.split("protocol=")[1].split()[0] for line in result.stderr.splitlines() if "Started attempt" in line
    ]
    assert started == attempts
    if code == EXIT_OK:
        assert simulated_size(tmp_path) == SIMULATED_HF_BYTES
    else:
        assert result.termination_message is not None
        assert result.termination_message.startswith("all protocols failed (XET,HTTP)")
        assert "AIM_DEBUG_SIMULATE_HF_FAIL_PROTOCOLS" in result.termination_message


def test_cause_failure_fails_at_once_without_trying_a_protocol(tmp_path: Path) -> None:
    result = run_download("hf://test-org/test-model", env=env(tmp_path, AIM_DEBUG_CAUSE_FAILURE="true"))
    assert result.returncode == EXIT_TRANSIENT
    assert result.termination_message == "failed on purpose: AIM_DEBUG_CAUSE_FAILURE is set"
    assert "Started attempt" not in result.stderr
    assert result.seconds < 10


def test_cause_hang_is_stopped_by_the_stall_detector(tmp_path: Path) -> None:
    hooks = {"AIM_DEBUG_CAUSE_HANG": "true", "STALL_TIMEOUT": "2", "AIM_DOWNLOADER_PROTOCOL": "HTTP"}
    result = run_download("hf://test-org/test-model", env=env(tmp_path, **hooks), timeout=60)
    assert result.returncode == EXIT_TRANSIENT, result.stderr
    assert result.termination_message is not None
    assert result.termination_message.startswith("download stalled: no progress for 2 s with HTTP")


def test_an_empty_hook_is_off(tmp_path: Path) -> None:
    hooks = {"AIM_DEBUG_CAUSE_FAILURE": "", "AIM_DEBUG_SIMULATE_HF_DOWNLOAD": "x", "AIM_DOWNLOADER_PROTOCOL": "HTTP"}
    result = run_download("hf://test-org/test-model", env=env(tmp_path, **hooks, EXPECTED_SIZE_BYTES="102400"))
    assert result.returncode == EXIT_OK, result.stderr

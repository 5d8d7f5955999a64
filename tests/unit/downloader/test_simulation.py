"""The test hooks' decisions (pure): what a simulated download writes and when, which protocols a
simulation fails, and that a hook is on for any non-empty value as in upstream's scripts."""

from __future__ import annotations

import pytest

from downloader.settings import DownloaderSettings
from downloader.simulation import (
    DEFAULT_SIMULATED_BYTES,
    SIMULATED_HF_BYTES,
    SimulatedFailureError,
    SimulatedWrite,
    failing_protocols,
    simulated_download,
    simulated_hf_attempt,
)


@pytest.mark.parametrize(
    ("expected", "duration", "writes"),
    [
        (1000, 5.0, (SimulatedWrite(0.0, 500), SimulatedWrite(5.0, 1000))),
        (
            None,
            10.0,
            (SimulatedWrite(0.0, DEFAULT_SIMULATED_BYTES // 2), SimulatedWrite(10.0, DEFAULT_SIMULATED_BYTES)),
        ),
        (0, 0.0, (SimulatedWrite(0.0, DEFAULT_SIMULATED_BYTES // 2), SimulatedWrite(0.0, DEFAULT_SIMULATED_BYTES))),
    ],
)
def test_simulated_download(expected: int | None, duration: float, writes: tuple[SimulatedWrite, ...]) -> None:
    assert simulated_download(expected, duration) == writes


@pytest.mark.parametrize(
    ("raw", "protocols"),
    [("", frozenset()), ("XET", {"XET"}), (" xet , http ,", {"XET", "HTTP"})],
)
def test_failing_protocols(raw: str, protocols: frozenset[str]) -> None:
    assert failing_protocols(raw) == protocols


def test_simulated_hf_attempt_fails_only_listed_protocols() -> None:
    assert simulated_hf_attempt("HTTP", "XET", 2.0) == (SimulatedWrite(2.0, SIMULATED_HF_BYTES),)
    with pytest.raises(SimulatedFailureError, match="XET"):
        simulated_hf_attempt("XET", "XET,HTTP", 2.0)


@pytest.mark.parametrize(
    ("value", "on"),
    [("true", True), ("1", True), ("false", True), ("", False), ("  ", False)],
    ids=["true", "one", "false-is-set", "empty", "blank"],
)
def test_a_hook_is_on_for_any_non_empty_value(value: str, on: bool) -> None:
    settings = DownloaderSettings.from_environment({"AIM_DEBUG_CAUSE_FAILURE": value})
    assert settings.debug_cause_failure is on


def test_hooks_are_off_by_default() -> None:
    settings = DownloaderSettings.from_environment({})
    assert [settings.debug_cause_failure, settings.debug_cause_hang, settings.debug_simulate_download] == [False] * 3
    assert (settings.debug_download_duration, settings.debug_verify_duration) == (10.0, 10.0)

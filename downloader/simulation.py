"""Test hooks driven by the environment, as upstream's downloader image has them (its e2e suite
sets them on an AIMArtifact's or a runtime config's `env`), so the same scenarios run against
this project without a network. Each variable is on when set to any non-empty value, as in
upstream's shell scripts (`[ -n "$VAR" ]`).

- AIM_DEBUG_CAUSE_FAILURE: fail at once (exit 1, transient), before any protocol.
- AIM_DEBUG_CAUSE_HANG: every attempt sleeps without writing; the stall detector kills it after
  STALL_TIMEOUT and the download fails (exit 1) once every protocol has stalled.
- AIM_DEBUG_SIMULATE_DOWNLOAD: instead of downloading, write half of EXPECTED_SIZE_BYTES (1 MiB
  when unset) to `simulated_data`, wait AIM_DEBUG_DOWNLOAD_DURATION seconds (10), write the rest,
  report 100 %, then "verify" for AIM_DEBUG_VERIFY_DURATION seconds (10) while the Job still runs
  (the artifact shows DownloadComplete=True/Verifying), and exit 0 — or 1 with
  AIM_DEBUG_VERIFY_FAIL set.
- AIM_DEBUG_SIMULATE_HF_DOWNLOAD: each Hugging Face attempt waits AIM_DEBUG_SIMULATE_HF_DURATION
  seconds (2), then fails if its protocol is listed in AIM_DEBUG_SIMULATE_HF_FAIL_PROTOCOLS (comma
  list) — so the fallback to the next protocol runs — or writes 100 KiB.

The decisions are pure (this module); writing and sleeping happen in the worker and supervisor.
"""

from __future__ import annotations

from dataclasses import dataclass

SIMULATED_FILE = "simulated_data"
DEFAULT_SIMULATED_BYTES = 1024 * 1024
SIMULATED_HF_BYTES = 100 * 1024


class SimulatedFailureError(Exception):
    """An attempt the hooks told to fail (classified as transient)."""


@dataclass(frozen=True)
class SimulatedWrite:
    """Bytes of `simulated_data` after a pause of `seconds` (in order)."""

    seconds: float
    size: int


def simulated_download(expected_size: int | None, duration: float) -> tuple[SimulatedWrite, ...]:
    """AIM_DEBUG_SIMULATE_DOWNLOAD: half at once, the rest after `duration`."""
    size = expected_size or DEFAULT_SIMULATED_BYTES
    return (SimulatedWrite(0.0, size // 2), SimulatedWrite(duration, size))


def failing_protocols(raw: str) -> frozenset[str]:
    return frozenset(name.strip().upper() for name in raw.split(",") if name.strip())


def simulated_hf_attempt(protocol: str, fail_protocols: str, duration: float) -> tuple[SimulatedWrite, ...]:
    """AIM_DEBUG_SIMULATE_HF_DOWNLOAD: raises SimulatedFailureError for a listed protocol."""
    if protocol.upper() in failing_protocols(fail_protocols):
        raise SimulatedFailureError(
            f"simulated download failure for protocol {protocol} (AIM_DEBUG_SIMULATE_HF_FAIL_PROTOCOLS)"
        )
    return (SimulatedWrite(duration, SIMULATED_HF_BYTES),)

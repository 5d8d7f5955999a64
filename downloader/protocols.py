"""Which Hugging Face protocols to try, in which order, with which environment (pure).

AIM_DOWNLOADER_PROTOCOL is a comma list of XET, HF_TRANSFER and HTTP. As upstream's
hf-download.sh does, an unknown entry is skipped with a warning but still counts as an attempt,
so `attempt`/`totalAttempts` in the status match the list the user wrote.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

DEFAULT_PROTOCOLS = "XET,HF_TRANSFER"


class Protocol(enum.StrEnum):
    XET = "XET"
    """huggingface_hub's snapshot_download with hf_xet enabled (Xet storage where the Hub offers it)."""
    HF_TRANSFER = "HF_TRANSFER"
    """hf_transfer's parallel ranged GETs on the URLs huggingface_hub resolves."""
    HTTP = "HTTP"
    """huggingface_hub's streaming GET, resuming partial files."""
    S3 = "S3"
    """boto3 ranged GETs (the only protocol for s3:// sources)."""


HF_PROTOCOLS = (Protocol.XET, Protocol.HF_TRANSFER, Protocol.HTTP)


@dataclass(frozen=True)
class Attempt:
    number: int
    """1-based."""
    name: str
    """As written in the sequence (upper-cased)."""
    protocol: Protocol | None
    """None when the name is not a known protocol: the attempt is skipped."""


@dataclass(frozen=True)
class ProtocolPlan:
    sequence: str
    """The sequence as configured, for status.download.protocolSequence."""
    attempts: tuple[Attempt, ...]

    @property
    def total_attempts(self) -> int:
        return len(self.attempts)

    @property
    def unknown(self) -> list[str]:
        return [a.name for a in self.attempts if a.protocol is None]


class ProtocolPlanError(ValueError):
    """No usable protocol in the sequence (a usage error)."""


def plan_hf_protocols(raw: str | None) -> ProtocolPlan:
    sequence = (raw or "").strip() or DEFAULT_PROTOCOLS
    names = [n.strip().upper() for n in sequence.split(",") if n.strip()]
    known = {p.value: p for p in HF_PROTOCOLS}
    attempts = tuple(Attempt(i, name, known.get(name)) for i, name in enumerate(names, start=1))
    if not any(a.protocol for a in attempts):
        raise ProtocolPlanError(
            f"AIM_DOWNLOADER_PROTOCOL={sequence!r} names no known protocol (use XET, HF_TRANSFER or HTTP)"
        )
    return ProtocolPlan(sequence, attempts)


def s3_plan() -> ProtocolPlan:
    return ProtocolPlan(Protocol.S3.value, (Attempt(1, Protocol.S3.value, Protocol.S3),))


def protocol_environment(protocol: Protocol) -> dict[str, str]:
    """Variables a worker for this protocol runs with. huggingface_hub reads them at import time,
    which is one reason every attempt runs in a fresh process. huggingface_hub >= 1.0 ignores
    HF_HUB_ENABLE_HF_TRANSFER (it only warns), so HF_TRANSFER calls hf_transfer itself and the
    variable is always off."""
    common = {"HF_HUB_ENABLE_HF_TRANSFER": "0", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    if protocol is Protocol.XET:
        return {**common, "HF_HUB_DISABLE_XET": "0"}
    return {**common, "HF_HUB_DISABLE_XET": "1"}

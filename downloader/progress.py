"""Progress arithmetic, stall detection and the status rate limit (pure: the caller passes in the
bytes it measured and the time it read from a monotonic clock)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Progress:
    total_bytes: int | None
    downloaded_bytes: int
    percentage: int
    display_percentage: str

    def as_status(self) -> dict[str, object]:
        status: dict[str, object] = {
            "downloadedBytes": self.downloaded_bytes,
            "percentage": self.percentage,
            "displayPercentage": self.display_percentage,
        }
        if self.total_bytes is not None:
            status["totalBytes"] = self.total_bytes
        return status


def percentage(downloaded: int, total: int | None, complete: bool) -> int:
    """0-100; 99 at most until the download is complete (bytes on disk can reach the total
    before the last file is renamed and verified); 0 while the total is unknown."""
    if complete:
        return 100
    if not total or total <= 0:
        return 0
    return max(0, min(99, downloaded * 100 // total))


def progress(downloaded: int, total: int | None, complete: bool = False) -> Progress:
    if complete and total is not None:
        downloaded = max(downloaded, total)
    value = percentage(downloaded, total, complete)
    return Progress(total, downloaded, value, f"{value} %")


@dataclass
class StallDetector:
    """A stall is `timeout` seconds without the byte count growing. Shrinking (a protocol that
    cleans up) does not count as growth."""

    timeout: float
    high_water: int = -1
    last_growth: float | None = None

    def observe(self, downloaded: int, now: float) -> bool:
        """Record a measurement; True when the attempt has stalled."""
        if self.last_growth is None or downloaded > self.high_water:
            self.high_water = max(self.high_water, downloaded)
            self.last_growth = now
            return False
        return now - self.last_growth >= self.timeout

    def seconds_without_growth(self, now: float) -> float:
        return 0.0 if self.last_growth is None else now - self.last_growth


@dataclass
class RateLimiter:
    """At most one event per `interval` seconds, except those forced (protocol switch, end)."""

    interval: float
    last: float | None = field(default=None)

    def allow(self, now: float, force: bool = False) -> bool:
        if force or self.last is None or now - self.last >= self.interval:
            self.last = now
            return True
        return False


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(count) < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")

"""The final size check (pure)."""

from __future__ import annotations

from downloader.progress import human_bytes


def size_mismatch(expected: int | None, actual: int) -> str | None:
    """None when the size is as expected (or nothing was expected), else the reason."""
    if expected is None or expected == actual:
        return None
    difference = actual - expected
    sign = "+" if difference > 0 else "-"
    return (
        f"size verification failed: downloaded {actual} bytes ({human_bytes(actual)}), expected {expected} bytes"
        f" ({human_bytes(expected)}); difference {sign}{abs(difference)} bytes"
    )

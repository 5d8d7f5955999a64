"""Reads the node (sysfs, /proc/cpuinfo) into a `Snapshot`, and writes the feature file (I/O edge).

What it reads, under the sysfs root (the host's /sys, mounted read-only):

- `class/drm/card<N>/device/vendor`: `0x1002` marks an AMD GPU. Connectors (`card0-DP-1`) and
  render nodes are skipped by name; the extra cards of a partitioned GPU (their `device` is a
  platform device without `vendor`) and a device reached twice count once. Only GPUs a DRM
  driver (amdgpu) has bound appear here: the ones the device plugin can advertise.
- `.../device/device`: the PCI device id, named through the controller's table.
- `.../device/mem_info_vram_total`: VRAM in bytes (logged; no label carries it).
- `.../device/current_compute_partition`, `current_memory_partition`: the partition modes, on
  GPUs that have them (MI300 and later); without them a GPU counts as unpartitioned.

All of these are world-readable. A file that exists but cannot be read (e.g. the partition
files while the GPU resets) fails the cycle: the last file stays, rather than labels flapping.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from detector.features import AMD_PCI_VENDOR, CPU, FEATURE_FILE, GPU, Snapshot, parse_cpuinfo

_CARD = re.compile(r"^card\d+$")


class DetectionError(Exception):
    """A read failed: this cycle's snapshot would be incomplete."""


def read_snapshot(sys_root: Path, cpuinfo: Path) -> Snapshot:
    gpus = read_gpus(sys_root)
    return Snapshot(gpus=gpus, cpu=None if gpus else read_cpu(cpuinfo))


def read_gpus(sys_root: Path) -> tuple[GPU, ...]:
    if not (sys_root / "class").is_dir():
        raise DetectionError(f"{sys_root / 'class'} does not exist (is the host's /sys mounted at {sys_root}?)")
    drm = sys_root / "class" / "drm"  # missing while no DRM driver is loaded: no GPU
    gpus: list[GPU] = []
    seen: set[Path] = set()
    for card in sorted(drm.iterdir() if drm.is_dir() else [], key=lambda path: path.name):
        device = card / "device"
        if not _CARD.match(card.name) or (_read(device / "vendor") or "").lower() != AMD_PCI_VENDOR:
            continue
        if (resolved := device.resolve()) in seen:
            continue
        seen.add(resolved)
        device_id = _read(device / "device")
        if not device_id:
            raise DetectionError(f"{device / 'device'} is missing or empty")
        gpus.append(
            GPU(
                device_id=device_id.lower().removeprefix("0x"),
                vram_bytes=_integer(_read(device / "mem_info_vram_total")),
                compute_partition=_read(device / "current_compute_partition"),
                memory_partition=_read(device / "current_memory_partition"),
            )
        )
    return tuple(gpus)


def read_cpu(cpuinfo: Path) -> CPU | None:
    text = _read(cpuinfo)
    return parse_cpuinfo(text) if text is not None else None


def _read(path: Path) -> str | None:
    """The file's text without surrounding whitespace; None when it does not exist."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise DetectionError(f"{path} could not be read: {error}") from error


def _integer(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def write_feature_file(directory: Path, content: str) -> bool:
    """Replaces `<directory>/aim-accelerators` with `content` when it differs (False: unchanged).

    Written to a hidden file in the same directory (NFD skips dot files) and renamed over the
    target, so NFD reads the old file or the new one, never half of one."""
    target = directory / FEATURE_FILE
    try:
        if target.read_text() == content:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    temporary = directory / f".{FEATURE_FILE}.tmp"
    with temporary.open("w") as stream:
        stream.write(content)
        stream.flush()
        os.fsync(stream.fileno())
    temporary.replace(target)
    return True

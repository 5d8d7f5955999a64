"""The target directory on disk: bytes downloaded so far, bytes of model files, leftovers."""

from __future__ import annotations

import os
from pathlib import Path

METADATA_DIR = ".cache"
"""huggingface_hub's local-dir metadata (`.cache/huggingface`) and ours (`.cache/s3`)."""
INCOMPLETE_SUFFIX = ".incomplete"


def _walk_files(root: Path, skip_metadata: bool) -> list[os.stat_result]:
    stats: list[os.stat_result] = []
    for directory, subdirs, files in os.walk(root):
        if skip_metadata and Path(directory) == root and METADATA_DIR in subdirs:
            subdirs.remove(METADATA_DIR)
        for name in files:
            try:
                stats.append(os.lstat(Path(directory, name)))
            except FileNotFoundError:
                continue  # renamed or removed while we walked
    return stats


def downloaded_bytes(root: Path) -> int:
    """Bytes written under `root`, partial files included. Counts allocated blocks, not the
    apparent size, for files that are larger than their blocks: a protocol that preallocates a
    sparse file (hf_transfer, parallel ranged writes) would otherwise look finished at once and
    never stalled."""
    total = 0
    for stat in _walk_files(root, skip_metadata=False):
        total += min(stat.st_size, stat.st_blocks * 512)
    return total


def model_bytes(root: Path) -> int:
    """Apparent size of the downloaded model files, without the metadata directory."""
    return sum(s.st_size for s in _walk_files(root, skip_metadata=True) if not _is_symlink(s))


def _is_symlink(stat: os.stat_result) -> bool:
    return (stat.st_mode & 0o170000) == 0o120000


def incomplete_files(root: Path) -> list[Path]:
    metadata = root / METADATA_DIR
    if not metadata.is_dir():
        return []
    return sorted(p for p in metadata.rglob(f"*{INCOMPLETE_SUFFIX}") if p.is_file())


def remove_incomplete_files(root: Path) -> list[Path]:
    """Delete partial files (and S3 part journals) under the metadata directory."""
    removed = []
    for path in incomplete_files(root):
        path.unlink(missing_ok=True)
        removed.append(path)
    metadata = root / METADATA_DIR
    if metadata.is_dir():
        for journal in metadata.rglob(f"*{INCOMPLETE_SUFFIX}.parts"):
            journal.unlink(missing_ok=True)
    return removed


def read_text(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


CGROUP_V2_MEMORY_MAX = Path("/sys/fs/cgroup/memory.max")
CGROUP_V1_MEMORY_LIMIT = Path("/sys/fs/cgroup/memory/memory.limit_in_bytes")

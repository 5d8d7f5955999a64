"""hf_xet's memory limits from the container's memory limit (pure).

hf_xet sizes its download buffers for a workstation: 2 GB always, plus 512 MB per active file,
up to 8 GB (HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_*), with 8 files at once
(HF_XET_DATA_MAX_CONCURRENT_FILE_DOWNLOADS). In a download Job with a memory limit of a few GiB
that is an OOM kill. We give hf_xet a quarter of the limit (the rest is Python, the kernel's page
cache for the files being written, and the other protocols' libraries) and derive the buffers and
the number of concurrent files from that budget. Values the user set explicitly win.
"""

from __future__ import annotations

MiB = 1024 * 1024
GiB = 1024 * MiB

UNLIMITED_BUDGET = 2 * GiB
"""hf_xet's budget when the container has no memory limit."""
MIN_BUDGET = 64 * MiB
MAX_BUDGET = 4 * GiB
# cgroup v1 reports "no limit" as a page-rounded LONG_MAX; anything this large is no limit.
_NO_LIMIT_THRESHOLD = 1 << 60


def parse_memory_limit(text: str | None) -> int | None:
    """The content of cgroup v2 `memory.max` or v1 `memory.limit_in_bytes`: bytes, or None when
    unlimited, absent or unreadable."""
    if text is None:
        return None
    value = text.strip()
    if not value or value == "max":
        return None
    try:
        limit = int(value)
    except ValueError:
        return None
    if limit <= 0 or limit >= _NO_LIMIT_THRESHOLD:
        return None
    return limit


def container_memory_limit(v2_text: str | None, v1_text: str | None) -> int | None:
    """cgroup v2 first; v1 only when there is no v2 file."""
    if v2_text is not None:
        return parse_memory_limit(v2_text)
    return parse_memory_limit(v1_text)


def xet_budget(memory_limit: int | None) -> int:
    if memory_limit is None:
        return UNLIMITED_BUDGET
    return max(MIN_BUDGET, min(MAX_BUDGET, memory_limit // 4))


def xet_environment(memory_limit: int | None, already_set: frozenset[str] = frozenset()) -> dict[str, str]:
    """HF_XET_* variables bounding hf_xet's memory; names in `already_set` are left alone."""
    budget = xet_budget(memory_limit)
    per_file = max(16 * MiB, budget // 8)
    values = {
        "HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_SIZE": budget // 2,
        "HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_PERFILE_SIZE": per_file,
        "HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_LIMIT": budget,
        "HF_XET_RECONSTRUCTION_MIN_PREFETCH_BUFFER": budget // 4,
        "HF_XET_DATA_MAX_CONCURRENT_FILE_DOWNLOADS": max(1, min(8, budget // (128 * MiB))),
        # The chunk cache lives on the container's disk, not the volume; a one-shot Job gains
        # nothing from it.
        "HF_XET_CHUNK_CACHE_SIZE_BYTES": 0,
    }
    return {name: str(value) for name, value in values.items() if name not in already_set}

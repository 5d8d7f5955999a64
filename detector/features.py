"""What a node has, as NFD feature lines (pure: a snapshot in, lines out).

One line per label, `<key>=<value>`, keys under `feature.node.kubernetes.io/aim-accelerator.`;
the value is a count, informational only (matchers test the key with `Exists`):

- a node with AMD GPUs: `<MODEL>=<gpus>` per model (the device id through the controller's table,
  `controller.common.gpus`, so detector and controller name a GPU alike), the family `GPU=<n>`,
  the vendor `vendor.GPU.AMD=<n>`, and the partition axis `partitioning-scheme.<C>-<M>=<gpus>`
  per scheme, plus `partitioning-scheme.default=<n>` when no GPU is partitioned;
- a node without: its AMD EPYC CPU, `EPYC_<number>=<cores>`, `CPU=<cores>`, `vendor.CPU.AMD=<cores>`;
- anything else: no line (the file is still written, so that labels of removed hardware go).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from api.labels import ACCELERATOR_PREFIX
from controller.common.gpus import model_for_device

AMD_PCI_VENDOR = "0x1002"
AMD_CPU_VENDOR = "AuthenticAMD"
FEATURE_FILE = "aim-accelerators"
"""The file's name in NFD's features.d (one file: the detector has one source, sysfs)."""
HEADER = "# Written by aim-detect-accelerators (AIM Engine) every interval; edits are overwritten."

GPU_FAMILY = "GPU"
CPU_FAMILY = "CPU"
VENDOR_AMD = "AMD"
VENDOR_AXIS = "vendor"
PARTITION_AXIS = "partitioning-scheme"
PARTITION_DEFAULT = "default"
"""Unpartitioned, or hardware without partitions (upstream's sentinel)."""
UNPARTITIONED_SCHEME = "SPX-NPS1"
"""One compute partition, one memory partition: what `default` stands for on partitionable GPUs."""

_MODE = re.compile(r"^[A-Z0-9]+$")
_EPYC = re.compile(r"\bEPYC\s+(\d[0-9A-Z]*)\b")


@dataclass(frozen=True)
class GPU:
    """One AMD GPU: a DRM card whose PCI device has vendor 0x1002."""

    device_id: str
    """`device` without `0x`, e.g. `74a1`."""
    vram_bytes: int | None = None
    """`mem_info_vram_total`, when the driver exposes it."""
    compute_partition: str | None = None
    """`current_compute_partition` (SPX, DPX, TPX, QPX, CPX) on partitionable GPUs."""
    memory_partition: str | None = None
    """`current_memory_partition` (NPS1, NPS2, NPS4, NPS8) on partitionable GPUs."""

    @property
    def model(self) -> str:
        return model_for_device(self.device_id)

    @property
    def scheme(self) -> str | None:
        """`<C>-<M>`, or None when either mode is missing or not a plain word (e.g. `N/A`)."""
        compute = (self.compute_partition or "").strip().upper()
        memory = (self.memory_partition or "").strip().upper()
        if _MODE.match(compute) and _MODE.match(memory):
            return f"{compute}-{memory}"
        return None


@dataclass(frozen=True)
class CPU:
    vendor: str
    """`vendor_id`, e.g. AuthenticAMD."""
    model_name: str
    """`model name`, e.g. `AMD EPYC 9965 192-Core Processor`."""
    cores: int
    """Physical cores: distinct (physical id, core id) pairs, else the processors listed."""


@dataclass(frozen=True)
class Snapshot:
    gpus: tuple[GPU, ...] = ()
    cpu: CPU | None = None


def feature_lines(snapshot: Snapshot) -> list[str]:
    if snapshot.gpus:
        return _gpu_lines(snapshot.gpus)
    cpu = snapshot.cpu
    model = cpu_model(cpu) if cpu else None
    return _lines([(model, cpu.cores)], CPU_FAMILY) if cpu and model else []


def _gpu_lines(gpus: tuple[GPU, ...]) -> list[str]:
    lines = _lines(sorted(Counter(gpu.model for gpu in gpus).items()), GPU_FAMILY)
    schemes = Counter(scheme for gpu in gpus if (scheme := gpu.scheme))
    lines += [_line(f"{PARTITION_AXIS}.{scheme}", count) for scheme, count in sorted(schemes.items())]
    if set(schemes) <= {UNPARTITIONED_SCHEME}:
        lines.append(_line(f"{PARTITION_AXIS}.{PARTITION_DEFAULT}", len(gpus)))
    return lines


def _lines(models: list[tuple[str, int]], family: str) -> list[str]:
    total = sum(count for _, count in models)
    lines = [_line(model, count) for model, count in models]
    return [*lines, _line(family, total), _line(f"{VENDOR_AXIS}.{family}.{VENDOR_AMD}", total)]


def _line(name: str, count: int) -> str:
    return f"{ACCELERATOR_PREFIX}{name}={count}"


def cpu_model(cpu: CPU) -> str | None:
    """`EPYC_9965` for an AMD EPYC 9965 (the name upstream's CPU detector publishes); None for
    other CPUs, which no AIM image targets."""
    found = _EPYC.search(cpu.model_name.upper())
    if cpu.vendor != AMD_CPU_VENDOR or found is None:
        return None
    return f"EPYC_{found.group(1)}"


def parse_cpuinfo(text: str) -> CPU | None:
    """The CPU of a /proc/cpuinfo (x86 layout: one block per logical processor); None when it
    lists no processor with a vendor."""
    blocks = [dict(_fields(block)) for block in text.split("\n\n")]
    processors = [block for block in blocks if "processor" in block and "vendor_id" in block]
    if not processors:
        return None
    cores = {(p.get("physical id"), p.get("core id")) for p in processors}
    topology = all(socket is not None and core is not None for socket, core in cores)
    first = processors[0]
    return CPU(first["vendor_id"], first.get("model name", ""), len(cores) if topology else len(processors))


def _fields(block: str) -> list[tuple[str, str]]:
    return [
        (key.strip(), value.strip()) for key, sep, value in (line.partition(":") for line in block.splitlines()) if sep
    ]


def render(lines: list[str]) -> str:
    return "\n".join([HEADER, *lines]) + "\n"

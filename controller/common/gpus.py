"""Which AMD GPU models a cluster has, read from Node labels and capacity (pure: Node dicts in).

Labels, in the order they are trusted: `amd.com/gpu.device-id` (or `beta.amd.com/gpu.device-id`),
the count-encoded `amd.com/gpu.device-id.<id>` written by newer node labellers, then
`amd.com/gpu.family`. A device id maps to a model through the table below; an unknown id becomes
`AMD-<ID>` so that it is still distinguishable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from api import labels

GPU_RESOURCE = "amd.com/gpu"
DEVICE_ID_LABELS = (labels.GPU_DEVICE_ID, labels.GPU_DEVICE_ID_BETA)
VRAM_LABELS = (labels.GPU_VRAM, labels.GPU_VRAM_BETA)

_DEVICE_MODELS = {
    ("74a1", "74a9", "74b5", "74bd"): "MI300X",
    ("74a5", "74b9"): "MI325X",
    ("74a2", "74a8", "74b6"): "MI308X",
    ("74a0",): "MI300A",
    ("7408", "740c"): "MI250X",
    ("740f", "7410"): "MI210",
    ("738c", "738e"): "MI100",
    ("75a0", "75b0"): "MI350X",
    ("75a3", "75b3"): "MI355X",
    ("7460", "7461"): "V710",
    ("7448", "744a"): "W7900",
    ("7449", "745e"): "W7800",
    ("73a2",): "W6900X",
    ("73a3",): "W6800",
    ("73ab",): "W6800X",
    ("73a1", "73ae"): "V620",
    ("7551",): "R9700",  # Radeon AI PRO R9700 (upstream 0.2.4)
    ("7550",): "RX9070",
    ("744c",): "RX7900",
    ("73af",): "RX6900",
    ("73bf",): "RX6800",
}
DEVICE_MODEL = {device: model for devices, model in _DEVICE_MODELS.items() for device in devices}

_VRAM = {"MI355X": "288G", "MI350X": "288G", "MI325X": "256G", "MI300X": "192G", "MI308X": "128G"}
_VRAM |= {"MI300A": "128G", "MI250X": "128G", "MI210": "64G", "MI100": "32G", "W7900": "48G", "RX7900": "24G"}
_RADEON_PRO = {"R9700", "V710", "W7800", "W6900X", "W6800", "W6800X", "V620"}
_SKIPPED_TOKENS = {"AMD", "INSTINCT"}
_MODEL_TOKEN = re.compile(r"^(?=.*[A-Z])(?=.*[0-9])[A-Z0-9]+$")


def model_for_device(device_id: str) -> str:
    device = device_id.strip().lower()
    return DEVICE_MODEL.get(device, f"AMD-{device.upper()}")


def normalise_gpu_model(name: str) -> str:
    """ "Instinct-MI325X" -> "MI325X", "MI300X (rev 2)" -> "MI300X", "mi300x" -> "MI300X"."""
    tokens = re.split(r"[-\s/:()]+", name.upper().replace("_", "-"))
    for token in tokens:
        if token and token not in _SKIPPED_TOKENS and _MODEL_TOKEN.match(token):
            return token
    return name.strip().upper()


def default_vram(model: str) -> str:
    if model in _VRAM:
        return _VRAM[model]
    if model in _RADEON_PRO:
        return "32G"
    return "16G" if model.startswith("RX") else ""


@dataclass(frozen=True)
class NodeGPUs:
    node: str
    model: str
    count: int
    """Allocatable `amd.com/gpu` (capacity when allocatable is not reported)."""
    vram: str


def node_gpus(node: dict[str, Any]) -> NodeGPUs | None:
    """The GPU model and count of one Node, or None for a node without AMD GPU labels."""
    metadata = node.get("metadata") or {}
    node_labels: dict[str, str] = metadata.get("labels") or {}
    model = ""
    for key in DEVICE_ID_LABELS:
        if node_labels.get(key):
            model = model_for_device(node_labels[key])
            break
    if not model:
        prefix = labels.GPU_DEVICE_ID_COUNT_PREFIX
        counted = sorted(k[len(prefix) :] for k in node_labels if k.startswith(prefix))
        if counted:
            model = model_for_device(counted[0])
    if not model and node_labels.get(labels.GPU_FAMILY):
        model = normalise_gpu_model(node_labels[labels.GPU_FAMILY])
    if not model:
        return None
    status = node.get("status") or {}
    amount = (status.get("allocatable") or {}).get(GPU_RESOURCE) or (status.get("capacity") or {}).get(GPU_RESOURCE)
    vram = next((node_labels[k] for k in VRAM_LABELS if node_labels.get(k)), "") or default_vram(model)
    return NodeGPUs(metadata.get("name", ""), model, _count(amount), vram)


def cluster_gpu_models(nodes: Iterable[dict[str, Any]]) -> dict[str, list[NodeGPUs]]:
    """GPU model -> the nodes that have it (unschedulable nodes excluded)."""
    models: dict[str, list[NodeGPUs]] = {}
    for node in nodes:
        if (node.get("spec") or {}).get("unschedulable"):
            continue
        gpus = node_gpus(node)
        if gpus is not None:
            models.setdefault(gpus.model, []).append(gpus)
    return models


def device_ids_for(model: str) -> list[str]:
    """The PCI device ids of a model, for node affinity on `amd.com/gpu.device-id`."""
    return sorted(device for device, name in DEVICE_MODEL.items() if name == normalise_gpu_model(model))


def _count(amount: Any) -> int:
    try:
        return int(str(amount))
    except (TypeError, ValueError):
        return 0

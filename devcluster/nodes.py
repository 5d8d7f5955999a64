"""Simulated AMD GPU nodes: what their Node objects look like (pure) and the default set.

The labels are the ones AIM Engine reads: `amd.com/gpu.device-id` and `amd.com/gpu.vram` (as the
AMD GPU operator's node labeller writes them), `feature.node.kubernetes.io/aim-accelerator.<model>`
(profiles' node affinity), and `amd.com/gpu` in capacity and allocatable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
DEFAULT_NODES_FILE = Path(__file__).with_name("default-nodes.yaml")

# One representative PCI device id and the VRAM of each model we simulate.
GPU_MODELS: dict[str, tuple[str, str]] = {
    "MI300X": ("74a1", "192G"),
    "MI325X": ("74a5", "256G"),
    "MI308X": ("74a2", "128G"),
    "MI300A": ("74a0", "128G"),
    "MI250X": ("7408", "128G"),
    "MI210": ("740f", "64G"),
    "MI350X": ("75a0", "288G"),
    "MI355X": ("75a3", "288G"),
    "R9700": ("7551", "32G"),
    "W7900": ("7448", "48G"),
}


class FakeNode(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    name: str
    gpu_model: str = Field("", alias="gpuModel")
    gpu_count: int = Field(0, alias="gpuCount", ge=0)
    cpu: str = "64"
    memory: str = "256Gi"
    extra_labels: dict[str, str] = Field(default_factory=dict, alias="extraLabels")

    def labels(self) -> dict[str, str]:
        labels = {
            "kubernetes.io/hostname": self.name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "type": "kwok",
        }
        if self.gpu_model:
            if self.gpu_model not in GPU_MODELS:
                known = ", ".join(sorted(GPU_MODELS))
                raise ValueError(f"node {self.name}: gpuModel {self.gpu_model!r} is not one of {known}")
            device_id, vram = GPU_MODELS[self.gpu_model]
            labels |= {
                "amd.com/gpu.device-id": device_id,
                "amd.com/gpu.vram": vram,
                f"feature.node.kubernetes.io/aim-accelerator.{self.gpu_model}": "true",
            }
        return labels | self.extra_labels

    def resources(self) -> dict[str, str]:
        resources = {"cpu": self.cpu, "memory": self.memory, "pods": "110"}
        if self.gpu_count:
            resources["amd.com/gpu"] = str(self.gpu_count)
        return resources

    def manifest(self) -> dict[str, Any]:
        """The Node object; its status is kept by kwok, which serves it on 127.0.0.1 only."""
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.name,
                "labels": self.labels(),
                "annotations": {KWOK_NODE_ANNOTATION: "fake"},
            },
            # No kwok taint: every node here is simulated, and the operator's own Jobs must
            # schedule onto them exactly as they would onto real GPU servers.
            "spec": {},
            "status": {"capacity": self.resources(), "allocatable": self.resources()},
        }


class NodeSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nodes: list[FakeNode]


def load_node_set(path: Path | None = None) -> list[FakeNode]:
    data = yaml.safe_load((path or DEFAULT_NODES_FILE).read_text())
    return NodeSet.model_validate(data).nodes

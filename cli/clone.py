"""`kubectl aim clone-templates PROFILE_GPU TARGET_GPU`: copies of the AIMClusterServiceTemplates
profiled on one GPU model, made to run on another (upstream's `hack/clone-templates-for-gpu.sh`).
A GPU without profiles of its own (an MI308X) can then serve with a close relative's (an MI300X's):
the clone asks for the target GPU and tells the runtime, through `AIM_GPU_MODEL`, which GPU's
profile to load.

Pure (the command's core): template objects in, clones and progress lines out. The entry point
(`cli.__main__`) lists the templates through `cli.cluster` and prints.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from api.labels import V1ALPHA1
from api.naming import derived_name, rfc1123
from api.v1alpha1.common import gpu_models
from controller.common.selection import CLUSTER_KIND

GPU_MODEL_ENV = "AIM_GPU_MODEL"
"""What the AIM runtime reads to pick a profile when the GPU it runs on has none of its own."""
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
SERVER_MANAGED = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
)
"""Metadata the API server writes. ownerReferences and labels stay, as upstream keeps them: a clone
of a generated template goes away with the model that owns the original."""


@dataclass(frozen=True)
class Clone:
    model_name: str
    source_name: str
    name: str
    manifest: dict[str, Any]


def profiled_gpu(template: Mapping[str, Any]) -> str | None:
    """The one GPU model a template was profiled on: discovery's resolved hardware wins over the
    spec, as upstream reads it. `model` or a one-item `models` (two spellings of one field); a
    template allowed on several models was profiled on none of them in particular."""
    status = template.get("status") or {}
    for hardware in (status.get("resolvedHardware"), (template.get("spec") or {}).get("hardware")):
        models = gpu_models((hardware or {}).get("gpu"))
        if models:
            return models[0] if len(models) == 1 else None
    return None


def clone_name(name: str, profile_gpu: str, target_gpu: str) -> str:
    """Upstream's rule: every PROFILE_GPU in the name (any case) becomes the target's lower case;
    a name without it keeps its length, its end giving way to `-<target>`. Where that rule gives no
    valid object name (too long, characters a name cannot hold) the name is shortened and a hash of
    the original and the target appended, so that two clones still have two names."""
    target = target_gpu.lower()
    pattern = re.compile(re.escape(profile_gpu), re.IGNORECASE)
    if pattern.search(name):
        candidate = pattern.sub(target, name)
    else:
        kept = max(1, len(name) - len(target) - 1)
        candidate = f"{name[:kept]}-{target}"
    if is_valid_name(candidate):
        return candidate
    return hashed_name(candidate, name, target_gpu)


def hashed_name(candidate: str, source_name: str, target_gpu: str) -> str:
    return derived_name([candidate], hash_inputs=[source_name, target_gpu])


def is_valid_name(name: str) -> bool:
    """A DNS-1123 label (what every name AIM Engine derives is): sanitising leaves it as it is."""
    return bool(name) and rfc1123(name) == name


def clone_manifest(template: Mapping[str, Any], name: str, profile_gpu: str, target_gpu: str) -> dict[str, Any]:
    """The template as a new object for `kubectl apply`: what the server wrote removed, the target
    GPU as the only one it asks for, and the profile's GPU named for the runtime."""
    source = copy.deepcopy(dict(template))
    source.pop("status", None)
    source.pop("apiVersion", None)
    source.pop("kind", None)
    metadata = source.pop("metadata", None) or {}
    for key in SERVER_MANAGED:
        metadata.pop(key, None)
    annotations = metadata.get("annotations") or {}
    annotations.pop(LAST_APPLIED, None)
    if not annotations:
        metadata.pop("annotations", None)
    metadata["name"] = name

    spec = source.get("spec") or {}
    hardware = spec.get("hardware") or {}
    gpu = hardware.get("gpu") or {}
    # Exactly the target: `models` would be a second spelling (refused beside `model`), and a
    # minVram would be refused beside a model (api.v1alpha1.common GPU_MODEL_XOR_VRAM).
    gpu.pop("models", None)
    gpu.pop("minVram", None)
    gpu["model"] = target_gpu
    hardware["gpu"] = gpu
    spec["hardware"] = hardware
    source["spec"] = spec
    env = [entry for entry in spec.get("env") or [] if entry.get("name") != GPU_MODEL_ENV]
    spec["env"] = [*env, {"name": GPU_MODEL_ENV, "value": profile_gpu}]
    return {"apiVersion": V1ALPHA1, "kind": CLUSTER_KIND, "metadata": metadata, **source}


def clone_templates(templates: Sequence[Mapping[str, Any]], profile_gpu: str, target_gpu: str) -> list[Clone]:
    """A clone of every template profiled on `profile_gpu`, grouped by model name (sorted), each
    group in the listing's order, as upstream prints them. Two clones never share a name: the
    second of a pair gets the hashed form."""
    matching = [t for t in templates if profiled_gpu(t) == profile_gpu]
    matching.sort(key=lambda t: str((t.get("spec") or {}).get("modelName") or ""))
    clones: list[Clone] = []
    taken: set[str] = set()
    for template in matching:
        source_name = str(template["metadata"]["name"])
        name = clone_name(source_name, profile_gpu, target_gpu)
        if name in taken:
            name = hashed_name(name, source_name, target_gpu)
        taken.add(name)
        model_name = str((template.get("spec") or {}).get("modelName") or "")
        clones.append(Clone(model_name, source_name, name, clone_manifest(template, name, profile_gpu, target_gpu)))
    return clones


def progress(clones: Sequence[Clone], profile_gpu: str, target_gpu: str) -> list[str]:
    """The lines upstream writes to stderr while it clones."""
    lines = [f"Cloning templates from GPU profile '{profile_gpu}' to '{target_gpu}'..."]
    if not clones:
        return [*lines, f"No templates found matching GPU profile '{profile_gpu}'"]
    lines += [f"Found {len(clones)} templates to clone", ""]
    model_name = None
    for clone in clones:
        if clone.model_name != model_name:
            lines.append(f"Model: {clone.model_name}")
            model_name = clone.model_name
        lines.append(f"  {clone.source_name} -> {clone.name}")
    return [*lines, "", "Done"]

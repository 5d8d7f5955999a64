"""The example manifests under examples/, paired with the model each must validate against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from api.v1alpha1 import aimruntimeconfig as rc1

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

MODELS: dict[tuple[str, str], type[BaseModel]] = {
    ("aim.eai.amd.com/v1alpha1", "AIMRuntimeConfig"): rc1.AIMRuntimeConfig,
    ("aim.eai.amd.com/v1alpha1", "AIMClusterRuntimeConfig"): rc1.AIMClusterRuntimeConfig,
}


def example_documents() -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        for index, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc:
                documents.append((f"{path.relative_to(EXAMPLES)}#{index}", doc))
    return documents

"""The example manifests under examples/, paired with the model each must validate against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from api.registry import CRDS

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

MODELS: dict[tuple[str, str], type[BaseModel]] = {
    (f"{crd.group}/{version.name}", crd.names.kind): version.model for crd in CRDS for version in crd.versions
}
SHORT_NAMES = {crd.names.kind: crd.names.short_names[0] for crd in CRDS}
PLURALS = {crd.names.kind: crd.names.plural for crd in CRDS}


def example_documents() -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        for index, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc:
                documents.append((f"{path.relative_to(EXAMPLES)}#{index}", doc))
    return documents

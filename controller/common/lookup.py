"""Objects looked up namespace first, then cluster (pure data): what a reference resolved to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NAMESPACE, CLUSTER = "Namespace", "Cluster"


@dataclass(frozen=True)
class Found:
    """An object looked up namespace first, then cluster. `obj` is None when neither exists."""

    obj: dict[str, Any] | None
    scope: str = ""

    @property
    def name(self) -> str:
        return str(((self.obj or {}).get("metadata") or {}).get("name", ""))

"""Objects looked up namespace first, then cluster (pure data): what a reference resolved to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from api.objects import ObjectRoot

Obj = TypeVar("Obj", bound=ObjectRoot | dict[str, Any])

NAMESPACE, CLUSTER = "Namespace", "Cluster"


@dataclass(frozen=True)
class Found(Generic[Obj]):
    """An object looked up namespace first, then cluster. `obj` is None when neither exists: an
    AIM object as its API model, another kind as the API server's dict."""

    obj: Obj | None
    scope: str = ""

    @property
    def name(self) -> str:
        obj: ObjectRoot | dict[str, Any] | None = self.obj
        if isinstance(obj, ObjectRoot):
            return obj.name
        return str(((obj or {}).get("metadata") or {}).get("name", ""))

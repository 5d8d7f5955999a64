"""What the template-cache reconciler observed (pure data filled by controller.cache.fetch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CacheObservation:
    cache: dict[str, Any]
    """An AIMTemplateCache (v1alpha1)."""
    template: dict[str, Any] | None
    """The template named by spec.templateName in spec.templateScope, when it exists."""
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    """Every AIMArtifact in the cache's namespace."""
    namespace_terminating: bool = False

    def existing(self, kind: str, name: str) -> dict[str, Any] | None:
        if kind != "AIMArtifact":
            return None
        return next((a for a in self.artifacts if a["metadata"]["name"] == name), None)

"""How long to wait before trying a failed external read again (pure data)."""

from __future__ import annotations

from collections.abc import Mapping

IMAGE_RETRY_SECONDS: Mapping[str, float] = {"unreachable": 30.0, "not-found": 60.0, "unauthorized": 300.0}
"""Default of settings.image_retry_seconds: when to read an image again after a registry error."""

"""Whether a desired object must be applied, judged from the observed one (pure).

Server-side apply of an unchanged object changes nothing, but it is still a write request; a
resync of a thousand services must not send a thousand of them. An object is left alone when its
applied-hash annotation matches the desired object and every desired field is present with the
same value (so a field someone else changed is put back). The hash covers fields we stopped
setting, which a subset check alone would miss.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from api.labels import APPLIED_HASH


def with_applied_hash(desired: dict[str, Any]) -> dict[str, Any]:
    digest = hashlib.sha256(json.dumps(desired, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]
    metadata = dict(desired["metadata"])
    metadata["annotations"] = dict(metadata.get("annotations") or {}) | {APPLIED_HASH: digest}
    return desired | {"metadata": metadata}


def needs_apply(desired: dict[str, Any], observed: dict[str, Any] | None) -> bool:
    """`desired` as returned by with_applied_hash."""
    if observed is None:
        return True
    wanted = desired["metadata"]["annotations"][APPLIED_HASH]
    if ((observed.get("metadata") or {}).get("annotations") or {}).get(APPLIED_HASH) != wanted:
        return True
    return not _contains(observed, desired)


def _contains(observed: Any, desired: Any) -> bool:
    if isinstance(desired, dict):
        return isinstance(observed, dict) and all(
            k in observed and _contains(observed[k], v) for k, v in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(observed, list)
            and len(observed) == len(desired)
            and all(_contains(o, d) for o, d in zip(observed, desired, strict=True))
        )
    return bool(observed == desired)

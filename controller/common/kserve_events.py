"""KServe's Warning events on InferenceServices that a service cannot wait out (pure data and
rules; the event watch feeds them, a service's reconcile reads them).

KServe reports some failures only as events, never in the InferenceService's status: the
Serverless mode without Knative (`ServerlessModeRejected`, before it writes any status) and a
failed reconcile (`InternalError`). Upstream's AIMService reads them and fails with them; so does
this controller, from its event watch rather than a list of events on every reconcile.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.conditions import Reason


@dataclass(frozen=True)
class KServeWarning:
    """A Warning event KServe sent about an InferenceService that it will not get past by itself."""

    reason: str
    message: str
    at: str
    """When it last happened (RFC 3339), to tell it from a later recovery."""


KSERVE_EVENTS = "involvedObject.kind=InferenceService,type=Warning"
"""The events the watch asks the API server for (a field selector): Warnings about
InferenceServices. Without it the controller was sent every event of the cluster, its own
included (one per service in a rollout)."""

KSERVE_FATAL_REASONS = frozenset({Reason.SERVERLESS_MODE_REJECTED, Reason.INTERNAL_ERROR})
KSERVE_RETRIED_WORDS = ("the object has been modified", "Operation cannot be fulfilled")
"""An InternalError saying one of these is a write conflict that KServe retries (upstream's rule)."""


def kserve_warning(body: Mapping[str, Any]) -> tuple[tuple[str, str], KServeWarning] | None:
    """(namespace, InferenceService name) and the warning, for a KServe event that fails a service."""
    involved = body.get("involvedObject") or {}
    if involved.get("kind") != "InferenceService" or body.get("type") != "Warning":
        return None
    reason, message = str(body.get("reason") or ""), str(body.get("message") or "")
    if reason not in KSERVE_FATAL_REASONS or any(words in message for words in KSERVE_RETRIED_WORDS):
        return None
    metadata = body.get("metadata") or {}
    at = body.get("lastTimestamp") or body.get("eventTime") or metadata.get("creationTimestamp") or ""
    namespace = str(involved.get("namespace") or metadata.get("namespace") or "")
    return (namespace, str(involved.get("name") or "")), KServeWarning(reason, message, str(at))


class KServeWarnings:
    """The latest fatal KServe warning per InferenceService, from the event watch (events are not
    stored or listed: a reconcile reads this instead of the API server). Rebuilt on restart when
    kopf lists the events again."""

    def __init__(self) -> None:
        self._latest: dict[tuple[str, str], KServeWarning] = {}
        self._lock = threading.Lock()

    def observe(self, body: Mapping[str, Any], deleted: bool) -> tuple[str, str] | None:
        """Record (or, once the event expires, forget) a warning; the InferenceService it concerns."""
        found = kserve_warning(body)
        if found is None:
            return None
        key, warning = found
        with self._lock:
            current = self._latest.get(key)
            if deleted:
                if current == warning:
                    self._latest.pop(key, None)
            elif current is None or current.at <= warning.at:
                self._latest[key] = warning
        return key

    def get(self, namespace: str, name: str) -> KServeWarning | None:
        with self._lock:
            return self._latest.get((namespace, name))

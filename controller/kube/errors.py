"""Errors of the API server the controller reacts to by name (edge: they wrap the client's)."""

from __future__ import annotations

import json
from typing import Any

ADMISSION_FAILURE = "failed calling webhook"
"""How kube-apiserver words a write it refused because it could not call an admission webhook
(connection refused, timeout, TLS): the webhook did not judge the object, it was not reached."""


class AdmissionUnavailableError(Exception):
    """A write refused because an admission webhook could not be called (not because the object
    is invalid): retried with back-off, and said on the object's status meanwhile."""


def admission_unavailable(status: int | None, body: Any) -> str | None:
    """The API server's message when `body` is its refusal for an unreachable admission webhook."""
    if status != 500 or not body:
        return None
    try:
        message = str(json.loads(body).get("message") or "")
    except (ValueError, AttributeError):
        message = str(body)
    return message if ADMISSION_FAILURE in message else None

"""When the API server calls the admission webhooks at all: `matchConditions` (CEL, Kubernetes ≥
1.30) shared by the chart's webhook configurations and the local control plane's (pure data).

The webhooks read an object's spec, its name and namespace, and its labels and annotations (a
route path template may render them: `api.validation`), never its finalizers, owner references or
status. An UPDATE that changes none of what they read cannot make an object invalid, so it is not
sent: the controller's own bookkeeping (adding and removing finalizers, also on objects being
deleted) goes through while the webhook service is down. Without this, a webhook outage kept
namespaces in Terminating: the finalizer-removing patches were refused with failurePolicy Fail.

CREATE is always reviewed, and so is every UPDATE that changes the spec, labels or annotations,
also of an object being deleted (a foreign finalizer must not open a way around the rules). A
condition that fails to evaluate rejects the request under failurePolicy Fail; these guard every
field they read with has().
"""

from __future__ import annotations

from typing import Final

from api.defaulting import DEFAULTERS
from api.registry import CRDS


def _changed(field: str) -> str:
    """CEL: the field differs between the object and the old object (absent on both is equal)."""
    new, old = f"object.{field}", f"oldObject.{field}"
    return f"(has({new}) != has({old}) || (has({new}) && {new} != {old}))"


MATCH_CONDITIONS: Final[tuple[dict[str, str], ...]] = (
    {
        "name": "created-or-reviewed-fields-changed",
        "expression": (
            "request.operation != 'UPDATE' || "
            + " || ".join(_changed(f) for f in ("spec", "metadata.labels", "metadata.annotations"))
        ),
    },
)
"""Every condition must hold for the webhook to be called."""


def match_conditions() -> list[dict[str, str]]:
    """A fresh copy, for manifests that are mutated further."""
    return [dict(condition) for condition in MATCH_CONDITIONS]


MUTATED_RESOURCES: Final[tuple[str, ...]] = tuple(
    sorted(crd.names.plural for crd in CRDS if crd.names.kind in DEFAULTERS)
)
"""The resources the mutating webhook is registered for: those whose kind `api.defaulting` gives
defaults. The validating webhook reviews every AIM resource."""

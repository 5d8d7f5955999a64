"""Names of everything AIM Engine derives from user objects: one function, always ≤ the limit.

`derived_name(["my-svc"], hash_inputs=[namespace])` → `my-svc-1a2b3c4d`. Parts are sanitised to
RFC 1123 labels, a hash of the inputs is always appended (stable across restarts and replicas), and
while the result is too long the longest part loses one character at a time.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

MAX_NAME = 63
PREDICTOR_INFIX = "-predictor-"
MIN_SERVICE_NAME_BUDGET = 10
_INVALID = re.compile(r"[^a-z0-9-]")


class NameTooLongError(ValueError):
    """No derived name can fit; the message says which input to shorten."""


def rfc1123(value: str, max_length: int = MAX_NAME) -> str:
    label = _INVALID.sub("-", value.lower()).strip("-")
    return label[:max_length].rstrip("-")


def name_hash(inputs: Sequence[Any], length: int = 8) -> str:
    encoded = "|".join(json.dumps(_normalise(i), sort_keys=True, separators=(",", ":")) for i in inputs)
    return hashlib.sha256(encoded.encode()).hexdigest()[:length]


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return [[k, _normalise(value[k])] for k in sorted(value)]
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    return value


def derived_name(
    parts: Sequence[str],
    hash_inputs: Sequence[Any] | None = None,
    hash_length: int = 8,
    max_length: int = MAX_NAME,
) -> str:
    labels = [rfc1123(p) or "part" for p in parts]
    suffix = name_hash(list(hash_inputs) if hash_inputs is not None else list(parts), hash_length)
    if max_length < hash_length + 2 * len(labels):
        raise NameTooLongError(f"no name of {max_length} characters can hold {len(labels)} parts and a hash")
    while sum(len(label) + 1 for label in labels) + len(suffix) > max_length:
        longest = max(range(len(labels)), key=lambda i: len(labels[i]))
        labels[longest] = labels[longest][:-1].rstrip("-") or "p"
    return "-".join([*labels, suffix])


def service_name_budget(namespace: str) -> int:
    """KServe serves an InferenceService at `{name}-predictor-{namespace}`, a DNS label of ≤ 63."""
    return MAX_NAME - len(PREDICTOR_INFIX) - len(namespace)


def inference_service_name(service_name: str, namespace: str) -> str:
    budget = service_name_budget(namespace)
    if budget < MIN_SERVICE_NAME_BUDGET:
        limit = MAX_NAME - len(PREDICTOR_INFIX) - MIN_SERVICE_NAME_BUDGET
        raise NameTooLongError(
            f'namespace "{namespace}" is too long ({len(namespace)} characters): KServe names the predictor '
            f"{{name}}{PREDICTOR_INFIX}{{namespace}}, which must fit {MAX_NAME} characters; use a namespace of "
            f"at most {limit} characters"
        )
    return derived_name([service_name], hash_inputs=[namespace, service_name], max_length=budget)


def http_route_name(service_name: str, namespace: str) -> str:
    return derived_name([service_name], hash_inputs=[namespace, service_name])

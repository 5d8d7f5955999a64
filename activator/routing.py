"""Where a request goes (pure: a request path in, the predictor URL out) and how much each service
is asked for (plain counters, no I/O)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from api.naming import NameTooLongError, inference_service_name, predictor_name

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
PREDICTOR_PORT = 80
"""KServe's predictor Service port (raw deployment), in front of the model server."""


class RouteError(ValueError):
    """The path names no service this activator can reach; the message says which part is wrong."""


@dataclass(frozen=True)
class Target:
    namespace: str
    service: str
    url: str
    """The predictor's URL for this request (path and query included)."""

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.service)


def parse_service(namespace: str, service: str) -> tuple[str, str]:
    for what, value in (("namespace", namespace), ("service", service)):
        if len(value) > 63 or not _DNS_LABEL.match(value):
            raise RouteError(f"{what} {value!r} is not a valid name (RFC 1123 label)")
    return namespace, service


def target(path: str, query: str = "", cluster_domain: str = "cluster.local") -> Target:
    """`/<namespace>/<service>/<rest>` → the predictor of that AIMService, as the controller names
    its InferenceService (api.naming: one rule for both)."""
    parts = path.lstrip("/").split("/", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise RouteError("the path must start with /<namespace>/<service>/")
    namespace, service = parse_service(parts[0], parts[1])
    rest = parts[2] if len(parts) == 3 else ""
    try:
        predictor = predictor_name(inference_service_name(service, namespace))
    except NameTooLongError as error:
        raise RouteError(str(error)) from error
    url = f"http://{predictor}.{namespace}.svc.{cluster_domain}:{PREDICTOR_PORT}/{rest}"
    return Target(namespace, service, url + (f"?{query}" if query else ""))


@dataclass
class Demand:
    """Requests per service that are held (waiting for a pod) or being answered. KEDA activates
    the predictor while their sum is above zero."""

    held: Counter[tuple[str, str]]
    answering: Counter[tuple[str, str]]

    @classmethod
    def empty(cls) -> Demand:
        return cls(Counter(), Counter())

    def value(self, key: tuple[str, str]) -> int:
        return self.held[key] + self.answering[key]

    def report(self, key: tuple[str, str]) -> dict[str, int]:
        """The JSON KEDA's metrics-api scaler reads (`valueLocation: value`)."""
        return {"value": self.value(key), "held": self.held[key], "answering": self.answering[key]}

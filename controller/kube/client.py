"""A small typed facade over the kubernetes client's ApiClient: get, list, server-side apply,
status patch and events for the kinds the controller touches. Objects are plain JSON dicts.

Why not the generated per-kind APIs: their PATCH methods hard-code the content type, and
server-side apply needs `application/apply-patch+yaml`.
"""

from __future__ import annotations

import builtins
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from api import labels
from api.registry import CRDS
from controller.kube.errors import AdmissionUnavailableError, admission_unavailable
from controller.kube.store import ObjectStore
from controller.metrics import ControllerMetrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResourceType:
    api_version: str
    kind: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        if subresource:
            base += f"/{subresource}"
        return base


_TYPES: dict[tuple[str, str], ResourceType] = {}
for _crd in CRDS:
    for _version in _crd.versions:
        _api_version = f"{_crd.group}/{_version.name}"
        _TYPES[(_api_version, _crd.names.kind)] = ResourceType(
            _api_version, _crd.names.kind, _crd.names.plural, _crd.scope == "Namespaced"
        )
for _type in (
    ResourceType(labels.INFERENCE_SERVICE_API, "InferenceService", "inferenceservices", True),
    ResourceType(labels.HTTP_ROUTE_API, "HTTPRoute", "httproutes", True),
    ResourceType(labels.SCALED_OBJECT_API, "ScaledObject", "scaledobjects", True),
    ResourceType("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True),
    ResourceType("v1", "Node", "nodes", False),
    ResourceType("v1", "Event", "events", True),
    ResourceType("v1", "Secret", "secrets", True),
    ResourceType("v1", "ConfigMap", "configmaps", True),
    ResourceType("v1", "PersistentVolumeClaim", "persistentvolumeclaims", True),
    ResourceType("v1", "Pod", "pods", True),
    ResourceType("v1", "Namespace", "namespaces", False),
    ResourceType("v1", "Service", "services", True),
    ResourceType("batch/v1", "Job", "jobs", True),
    ResourceType("apps/v1", "StatefulSet", "statefulsets", True),
    ResourceType("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True),
    ResourceType("coordination.k8s.io/v1", "Lease", "leases", True),
    ResourceType("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", False),
):
    _TYPES[(_type.api_version, _type.kind)] = _type


Objects = list[dict[str, Any]]
Read = TypeVar("Read")


def resource_type(api_version: str, kind: str) -> ResourceType:
    return _TYPES[(api_version, kind)]


def kind_of(api_version: str, plural: str) -> str:
    """The kind a resource (API version and plural) serves."""
    return next(t.kind for t in _TYPES.values() if t.api_version == api_version and t.plural == plural)


class Kube:
    def __init__(self, api_client: client.ApiClient, field_manager: str, metrics: ControllerMetrics | None = None):
        self._api = api_client
        self.field_manager = field_manager
        self.metrics = metrics or ControllerMetrics()
        self.store: ObjectStore | None = None
        """Reads of the kinds it serves come from memory (set by the entry point)."""

    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: list[tuple[str, Any]] | None = None,
        content_type: str = "application/json",
        kind: str = "",
    ) -> Any:
        self.metrics.api_requests.labels(method, kind).inc()
        try:
            return self._api.call_api(
                path,
                method,
                query_params=query or [],
                header_params={"Accept": "application/json", "Content-Type": content_type},
                body=body,
                response_type="object",
                auth_settings=["BearerToken"],
                _return_http_data_only=True,
                _preload_content=True,
                _request_timeout=30,
            )
        except ApiException as error:
            message = admission_unavailable(error.status, error.body)
            if message is not None:
                raise AdmissionUnavailableError(message) from error
            raise

    def _remember(self, written: dict[str, Any]) -> dict[str, Any]:
        """What a write returned goes into the store at once (ordered by resourceVersion like any
        event), so the next reconcile does not read its own write as missing and conflict on it."""
        if self.store is not None and "metadata" in written:
            self.store.observe(written)
        return written

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        if self.store is not None and self.store.serves(api_version, kind):
            self.metrics.store_reads.labels(kind).inc()
            return self.store.get(api_version, kind, name, namespace)
        try:
            obj: dict[str, Any] = self._call("GET", resource_type(api_version, kind).path(namespace, name), kind=kind)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return obj

    def list(
        self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        if self.store is not None and self.store.covers(api_version, kind, label_selector):
            stored = self.store.list(api_version, kind, namespace, label_selector)
            if stored is not None:
                self.metrics.store_reads.labels(kind).inc()
                return stored
        return self.list_from_server(api_version, kind, namespace, label_selector)[0]

    def list_read(
        self,
        api_version: str,
        kind: str,
        read: Callable[[dict[str, Any]], Read],
        namespace: str | None = None,
        label_selector: str | None = None,
    ) -> builtins.list[Read]:
        """`read` of each object of a kind, for a reader that keeps a few fields of many objects:
        from the store each object is read as it is unpickled, so they are never all whole at once."""
        if self.store is not None and self.store.covers(api_version, kind, label_selector):
            stored = self.store.list_read(api_version, kind, read, namespace, label_selector)
            if stored is not None:
                self.metrics.store_reads.labels(kind).inc()
                return stored
        return [read(obj) for obj in self.list_from_server(api_version, kind, namespace, label_selector)[0]]

    def list_from_server(
        self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> tuple[Objects, str | None]:
        """The items and the list's resourceVersion, read from the API server."""
        query = [("labelSelector", label_selector)] if label_selector else []
        try:
            result = self._call("GET", resource_type(api_version, kind).path(namespace), query=query, kind=kind)
        except ApiException as error:
            if error.status == 404:  # the CRD is not installed: nothing of that kind exists
                return [], None
            raise
        items: list[dict[str, Any]] = result.get("items") or []
        for item in items:  # list items come without their type
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items, (result.get("metadata") or {}).get("resourceVersion")

    def list_resource(self, resource: ResourceType) -> Objects:
        """Every object of a resource type, in all namespaces."""
        result = self._call("GET", resource.path(), kind=resource.kind)
        items: Objects = result.get("items") or []
        for item in items:
            item.setdefault("apiVersion", resource.api_version)
            item.setdefault("kind", resource.kind)
        return items

    def replace_resource(self, resource: ResourceType, obj: dict[str, Any]) -> None:
        """PUT through an explicit resource type (types not in the built-in table, e.g. during
        storage migration); guarded by the object's resourceVersion."""
        metadata = obj["metadata"]
        self._call("PUT", resource.path(metadata.get("namespace"), metadata["name"]), obj, kind=resource.kind)

    def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Server-side apply with this controller's field manager, taking over conflicting fields
        (the controller is the authority on the objects it derives)."""
        metadata = obj["metadata"]
        path = resource_type(obj["apiVersion"], obj["kind"]).path(metadata.get("namespace"), metadata["name"])
        query = [("fieldManager", self.field_manager), ("force", "true")]
        applied: dict[str, Any] = self._call(
            "PATCH", path, obj, query, "application/apply-patch+yaml", kind=obj["kind"]
        )
        return self._remember(applied)

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        metadata = obj["metadata"]
        created: dict[str, Any] = self._call(
            "POST", resource_type(obj["apiVersion"], obj["kind"]).path(metadata.get("namespace")), obj, kind=obj["kind"]
        )
        return self._remember(created)

    def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        """PUT, guarded by metadata.resourceVersion: raises Conflict when someone wrote first."""
        metadata = obj["metadata"]
        path = resource_type(obj["apiVersion"], obj["kind"]).path(metadata.get("namespace"), metadata["name"])
        replaced: dict[str, Any] = self._call("PUT", path, obj, kind=obj["kind"])
        return self._remember(replaced)

    def patch_status(self, obj: dict[str, Any], status: dict[str, Any]) -> None:
        """Merge-patch `status`; keys the controller stopped setting are removed (null)."""
        previous = obj.get("status") or {}
        body = {"status": {key: None for key in previous if key not in status} | status}
        metadata = obj["metadata"]
        path = resource_type(obj["apiVersion"], obj["kind"]).path(metadata.get("namespace"), metadata["name"], "status")
        self._remember(
            self._call("PATCH", path, body, content_type="application/merge-patch+json", kind=obj["kind"] + "/status")
        )

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> None:
        """Delete with background propagation; an object already gone is not an error."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        try:
            self._call("DELETE", resource_type(api_version, kind).path(namespace, name), body, kind=kind)
        except ApiException as error:
            if error.status != 404:
                raise

    def namespace_terminating(self, namespace: str) -> bool:
        """True when the namespace is being deleted, gone, or unreadable (cleanup is then skipped)."""
        try:
            found = self.get("v1", "Namespace", namespace)
        except ApiException as error:
            if error.status == 403:
                return True
            raise
        return found is None or bool(found["metadata"].get("deletionTimestamp"))

    def set_finalizers(self, obj: dict[str, Any], finalizers: Sequence[str]) -> None:
        """Merge-patch metadata.finalizers, guarded by resourceVersion (a concurrent writer wins)."""
        metadata = obj["metadata"]
        body = {"metadata": {"finalizers": list(finalizers), "resourceVersion": metadata["resourceVersion"]}}
        path = resource_type(obj["apiVersion"], obj["kind"]).path(metadata.get("namespace"), metadata["name"])
        self._remember(self._call("PATCH", path, body, content_type="application/merge-patch+json", kind=obj["kind"]))

    def pod_log_tail(self, name: str, namespace: str, lines: int = 50) -> str:
        """The last lines of a pod's log ("" when the pod or its log is gone)."""
        try:
            # Raw bytes: the client would JSON-decode a log that happens to be one JSON document.
            response = self._api.call_api(
                resource_type("v1", "Pod").path(namespace, name, "log"),
                "GET",
                query_params=[("tailLines", lines)],
                header_params={"Accept": "*/*"},
                auth_settings=["BearerToken"],
                _return_http_data_only=True,
                _preload_content=False,
                _request_timeout=30,
            )
        except ApiException:
            return ""
        finally:
            self.metrics.api_requests.labels("GET", "Pod/log").inc()
        return bytes(response.data).decode("utf-8", errors="replace")

    def event(self, regarding: dict[str, Any], event_type: str, reason: str, message: str) -> None:
        """A core/v1 Event on `regarding` (best effort: an event lost is not worth a retry)."""
        metadata = regarding["metadata"]
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        namespace = metadata.get("namespace") or "default"
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{metadata['name']}.", "namespace": namespace},
            "involvedObject": {
                "apiVersion": regarding["apiVersion"],
                "kind": regarding["kind"],
                "name": metadata["name"],
                "namespace": metadata.get("namespace"),
                "uid": metadata.get("uid"),
            },
            "type": event_type,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": self.field_manager},
            "reportingComponent": self.field_manager,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            self._call("POST", resource_type("v1", "Event").path(namespace), body, kind="Event")
        except ApiException as error:
            log.warning("Could not record event %s on %s/%s: %s", reason, namespace, metadata["name"], error.reason)

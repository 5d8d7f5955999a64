"""Read-only access to a live cluster for the commands that want one (edge: the only I/O to the API
server in `cli`). Configured as kubectl is: $KUBECONFIG or ~/.kube/config, `--context`."""

from __future__ import annotations

from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from api import GROUP
from api.registry import CRDS

PLURALS = {crd.names.kind: (crd.names.plural, crd.scope == "Namespaced") for crd in CRDS}
STORED = {crd.names.kind: next(v.name for v in crd.versions if v.storage) for crd in CRDS}
TIMEOUT = 10


class ClusterError(Exception):
    """The cluster could not be asked (no kubeconfig, unreachable, forbidden)."""


class Cluster:
    def __init__(self, kubeconfig: str | None = None, context: str | None = None):
        try:
            config.load_kube_config(config_file=kubeconfig, context=context)
        except (config.ConfigException, OSError) as error:
            raise ClusterError(f"no cluster to ask: {error}") from error
        self.client = client.ApiClient()
        self.custom = client.CustomObjectsApi(self.client)
        self.namespace = self._current_namespace(kubeconfig, context)

    @staticmethod
    def _current_namespace(kubeconfig: str | None, context: str | None) -> str:
        try:
            _, active = config.list_kube_config_contexts(config_file=kubeconfig)
            if context:
                contexts, _ = config.list_kube_config_contexts(config_file=kubeconfig)
                active = next(c for c in contexts if c["name"] == context)
            return str(active["context"].get("namespace") or "default")
        except (config.ConfigException, StopIteration, KeyError, TypeError):
            return "default"

    def get_aim(self, kind: str, name: str, namespace: str | None, version: str | None = None) -> dict[str, Any] | None:
        """An AIM object in `version` (the storage version by default); None when absent."""
        plural, namespaced = PLURALS[kind]
        version = version or STORED[kind]
        try:
            if namespaced:
                found = self.custom.get_namespaced_custom_object(
                    GROUP, version, namespace or "default", plural, name, _request_timeout=TIMEOUT
                )
            else:
                found = self.custom.get_cluster_custom_object(GROUP, version, plural, name, _request_timeout=TIMEOUT)
        except ApiException as error:
            if error.status == 404:
                return None
            raise ClusterError(f"reading {kind} {name}: {error.status} {error.reason}") from error
        except Exception as error:  # connection refused, TLS, timeouts
            raise ClusterError(f"reading {kind} {name}: {error}") from error
        result: dict[str, Any] = found
        return result

    def list_aim(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Every object of an AIM kind (in `namespace` for a namespaced kind, else everywhere)."""
        plural, namespaced = PLURALS[kind]
        try:
            if namespaced and namespace:
                listed = self.custom.list_namespaced_custom_object(
                    GROUP, STORED[kind], namespace, plural, _request_timeout=TIMEOUT
                )
            else:
                listed = self.custom.list_cluster_custom_object(GROUP, STORED[kind], plural, _request_timeout=TIMEOUT)
        except ApiException as error:
            if error.status == 404:
                return []  # the CRD is not installed: doctor says so
            raise ClusterError(f"listing {kind}: {error.status} {error.reason}") from error
        except Exception as error:  # connection refused, TLS, timeouts
            raise ClusterError(f"listing {kind}: {error}") from error
        items: list[dict[str, Any]] = listed.get("items", [])
        return items

    def exists(self, kind: str, name: str, namespace: str | None) -> bool | None:
        """For reference checks: None when the cluster cannot tell (never a false warning)."""
        try:
            return self.get_aim(kind, name, namespace) is not None
        except ClusterError:
            return None

    def get(self, path: str) -> dict[str, Any] | None:
        """GET any API path (e.g. /apis/apps/v1/namespaces/x/deployments/y); None when absent."""
        try:
            data, _, _ = self.client.call_api(
                path,
                "GET",
                response_type="object",
                auth_settings=["BearerToken"],
                _request_timeout=TIMEOUT,
                _return_http_data_only=False,
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise ClusterError(f"GET {path}: {error.status} {error.reason}") from error
        except Exception as error:  # connection refused, TLS, timeouts
            raise ClusterError(f"GET {path}: {error}") from error
        result: dict[str, Any] = data
        return result

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a review object (SelfSubjectAccessReview and the like: they store nothing)."""
        try:
            data, _, _ = self.client.call_api(
                path,
                "POST",
                body=body,
                response_type="object",
                auth_settings=["BearerToken"],
                _request_timeout=TIMEOUT,
                _return_http_data_only=False,
            )
        except ApiException as error:
            raise ClusterError(f"POST {path}: {error.status} {error.reason}") from error
        result: dict[str, Any] = data
        return result

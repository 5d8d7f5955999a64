"""Routes `kubectl logs` of simulated pods to files that tests prepare.

kwok answers the kubelet's `containerLogs` API from a file named in a `Logs` object (one per pod).
This router watches pods bound to a node (every node here is simulated) and gives each one
a `Logs` object pointing at

    <logs_root>/<namespace>/<job-name>.log   for a pod owned by a Job
    <logs_root>/<namespace>/<pod-name>.log   otherwise

The file may be written before or after the pod appears; it is read when logs are requested, so
discovery output and downloader logs reach the controller through the real `pods/log` API.
Files are in the CRI log format (`write_log_file` converts plain text).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from devcluster.watching import WatchThread

JOB_NAME_LABEL = "batch.kubernetes.io/job-name"


def log_file_for(logs_root: Path, namespace: str, pod_name: str, labels: dict[str, str]) -> Path:
    owner = labels.get(JOB_NAME_LABEL) or labels.get("job-name") or pod_name
    return logs_root / namespace / f"{owner}.log"


def write_log_file(path: Path, text: str, stream: str = "stdout") -> None:
    """Write `text` as CRI log lines (`<RFC3339Nano> <stream> F <line>`), the format kwok reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lines = text.splitlines() or [""]
    path.write_text("".join(f"{stamp} {stream} F {line}\n" for line in lines))


class LogRouter:
    def __init__(self, api_client: client.ApiClient, logs_root: Path, real_nodes: frozenset[str] = frozenset()):
        self._core = client.CoreV1Api(api_client)
        self._custom = client.CustomObjectsApi(api_client)
        self._logs_root = logs_root
        self._watch = WatchThread(
            "log-router", self._core.list_pod_for_all_namespaces, lambda event: self._route(event["object"])
        )
        self._routed: set[tuple[str, str, str]] = set()
        self._real_nodes = real_nodes
        """Nodes whose kubelet serves real logs: their pods get no kwok Logs object."""

    def start(self) -> None:
        self._watch.start()

    def stop(self) -> None:
        self._watch.stop()

    def _route(self, pod: Any) -> None:
        node = pod.spec.node_name
        if not node or node in self._real_nodes:
            return
        key = (pod.metadata.namespace, pod.metadata.name, pod.metadata.uid)
        if key in self._routed:
            return
        path = log_file_for(self._logs_root, key[0], key[1], pod.metadata.labels or {})
        body = {
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": "Logs",
            "metadata": {"name": key[1], "namespace": key[0]},
            "spec": {"logs": [{"logsFile": str(path)}]},
        }
        try:
            self._custom.create_namespaced_custom_object("kwok.x-k8s.io", "v1alpha1", key[0], "logs", body)
        except ApiException as error:
            if error.status == 409:  # a pod of the same name from before: point it at the new file
                self._custom.patch_namespaced_custom_object(
                    "kwok.x-k8s.io", "v1alpha1", key[0], "logs", key[1], {"spec": body["spec"]}
                )
            elif error.status != 404:  # namespace being deleted
                raise
        self._routed.add(key)

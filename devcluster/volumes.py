"""A simulated volume provisioner: binds every pending PersistentVolumeClaim to a new hostPath
PersistentVolume under the work directory.

The local control plane has no storage driver, and a pod whose claim never binds is never
scheduled; with this, the operator's download Jobs and InferenceServices schedule onto the
simulated GPU nodes as they would onto real ones. kube-controller-manager's own PV controller does
the binding; this only creates the volume a dynamic provisioner would have created.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

log = logging.getLogger(__name__)


def volume_for_claim(claim: dict[str, Any], root: Path) -> dict[str, Any]:
    metadata = claim["metadata"]
    spec = claim.get("spec") or {}
    name = f"pv-{metadata['uid']}"
    volume: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": {"aim.eai.amd.com/simulated": "true"}},
        "spec": {
            "capacity": {"storage": ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")},
            "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Delete",
            "hostPath": {"path": str(root / name), "type": "DirectoryOrCreate"},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": metadata["namespace"],
                "name": metadata["name"],
                "uid": metadata["uid"],
            },
        },
    }
    if spec.get("storageClassName"):
        volume["spec"]["storageClassName"] = spec["storageClassName"]
    return volume


class VolumeProvisioner:
    def __init__(self, api_client: client.ApiClient, root: Path):
        self._api_client = api_client
        self._core = client.CoreV1Api(api_client)
        self._root = root
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="volume-provisioner", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                stream = watch.Watch().stream(
                    self._core.list_persistent_volume_claim_for_all_namespaces, timeout_seconds=5, _request_timeout=10
                )
                for event in stream:
                    if self._stop.is_set():
                        return
                    claim = self._api_client.sanitize_for_serialization(event["object"])
                    if event["type"] != "DELETED" and not (claim.get("spec") or {}).get("volumeName"):
                        self._provision(claim)
            except Exception as error:  # the API server may be going away; retry until stopped
                if not self._stop.is_set():
                    log.debug("volume provisioner watch restarted: %r", error)
                    self._stop.wait(0.5)

    def _provision(self, claim: dict[str, Any]) -> None:
        try:
            self._core.create_persistent_volume(volume_for_claim(claim, self._root))
        except ApiException as error:
            if error.status != 409:  # 409: provisioned on an earlier event
                raise

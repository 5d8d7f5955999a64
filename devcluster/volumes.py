"""A simulated volume provisioner: binds every pending PersistentVolumeClaim to a new hostPath
PersistentVolume under the work directory.

The local control plane has no storage driver, and a pod whose claim never binds is never
scheduled; with this, the operator's download Jobs and InferenceServices schedule onto the
simulated GPU nodes as they would onto real ones. kube-controller-manager's own PV controller does
the binding; this only creates the volume a dynamic provisioner would have created.

On the real node the kubelet bind-mounts the hostPath directory into the pod as it is, with no
fsGroup ownership change (hostPath volumes have none), so the directory is made here, open to
every user as Rancher's local-path-provisioner makes its directories: the download Job runs as
uid 1000 and the model server as its image's user.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from devcluster.watching import WatchThread


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
        self._watch = WatchThread(
            "volume-provisioner", self._core.list_persistent_volume_claim_for_all_namespaces, self._claim_changed
        )

    def start(self) -> None:
        self._watch.start()

    def stop(self) -> None:
        self._watch.stop()

    def _claim_changed(self, event: dict[str, Any]) -> None:
        claim = self._api_client.sanitize_for_serialization(event["object"])
        if event["type"] != "DELETED" and not (claim.get("spec") or {}).get("volumeName"):
            self._provision(claim)

    def _provision(self, claim: dict[str, Any]) -> None:
        volume = volume_for_claim(claim, self._root)
        directory = Path(volume["spec"]["hostPath"]["path"])
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o777)
        try:
            self._core.create_persistent_volume(volume)
        except ApiException as error:
            if error.status != 409:  # 409: provisioned on an earlier event
                raise

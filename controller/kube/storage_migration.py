"""Storage version migration: rewrite every stored object of a CRD in its current storage version,
then trim `status.storedVersions` to it (what kube-storage-version-migrator does, for our CRDs).

Reading an object and writing it back unchanged makes the API server encode it in the storage
version; an object already stored that way is left as it is by the server. Only once every object
has been rewritten may the old version leave `storedVersions` (and later the CRD).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from kubernetes.client.exceptions import ApiException

from controller.kube.client import Kube, ResourceType

log = logging.getLogger(__name__)
CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")


@dataclass
class MigrationReport:
    crd: str
    storage_version: str
    rewritten: int = 0
    vanished: int = 0
    stored_versions_before: list[str] = field(default_factory=list)


def migrate_crd(kube: Kube, crd_name: str, attempts: int = 5) -> MigrationReport:
    crd = kube.get(*CRD, crd_name)
    if crd is None:
        raise LookupError(f"CustomResourceDefinition {crd_name} does not exist")
    spec = crd["spec"]
    storage = next(v["name"] for v in spec["versions"] if v.get("storage"))
    api_version = f"{spec['group']}/{storage}"
    resource = ResourceType(api_version, spec["names"]["kind"], spec["names"]["plural"], spec["scope"] == "Namespaced")
    report = MigrationReport(
        crd_name, storage, stored_versions_before=list((crd.get("status") or {}).get("storedVersions") or [])
    )
    for item in kube.list_resource(resource):
        metadata = item["metadata"]
        for _ in range(attempts):
            try:
                kube.replace_resource(resource, item)
                report.rewritten += 1
                break
            except ApiException as error:
                if error.status == 404:
                    report.vanished += 1
                    break
                if error.status != 409:
                    raise
                fresh = kube.get(api_version, resource.kind, metadata["name"], metadata.get("namespace"))
                if fresh is None:
                    report.vanished += 1
                    break
                item = fresh
        else:
            raise RuntimeError(
                f"{crd_name}: {metadata.get('namespace', '')}/{metadata['name']} kept changing; run again"
            )
    kube.patch_status(crd, crd.get("status", {}) | {"storedVersions": [storage]})
    log.info("Migrated %s: %d objects rewritten in %s", crd_name, report.rewritten, storage)
    return report

"""Storage version migration: rewrite every stored object of a CRD in its current storage version,
then trim `status.storedVersions` to it (what kube-storage-version-migrator does, for our CRDs).

Reading an object and writing it back unchanged makes the API server encode it in the storage
version; an object already stored that way is left as it is by the server. Only once every object
has been rewritten may the old version leave `storedVersions` (and later the CRD).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

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


def needs_migration(crd: dict[str, Any]) -> bool:
    """Some object may still be stored in a version other than the storage version."""
    storage = next((v["name"] for v in crd["spec"]["versions"] if v.get("storage")), None)
    stored = (crd.get("status") or {}).get("storedVersions") or []
    return bool(storage) and any(version != storage for version in stored)


def migrate_pending(kube: Kube, crd_names: list[str]) -> list[MigrationReport]:
    """Migrate each CRD whose storedVersions still name an old version; the rest are left alone.
    The leading controller runs this after an upgrade, so no object stays in an old version."""
    reports = []
    for name in crd_names:
        crd = kube.get(*CRD, name)
        if crd is not None and needs_migration(crd):
            reports.append(migrate_crd(kube, name))
    return reports


def migrate_while_leading(
    kube: Kube, crd_names: list[str], leading: threading.Event, stop: threading.Event, retry_seconds: float = 60.0
) -> None:
    """Until nothing is left to migrate, or leadership is lost: a failure (the conversion webhook
    not up yet during a rollout) is logged and tried again."""
    while leading.is_set() and not stop.is_set():
        try:
            migrate_pending(kube, crd_names)
            return
        except Exception as error:  # retried: the next attempt may find the webhook up
            log.warning("Storage migration failed (retry in %.0fs): %s", retry_seconds, error)
        stop.wait(retry_seconds)

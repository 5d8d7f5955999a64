"""The adapter disk's layout and the three operations on it (file system only, no Kubernetes).

A model artifact's adapter disk holds one subtree per service that serves adapters, named by the
service's uid and mounted read-only into its pods (`subPath`), so a service sees only its own:

    <root>/<service-uid>/<adapter-path>/          live, what the engine loads
    <root>/.staging/<service-uid>/<path>.<job>    a download in progress (outside every mount)
    <root>/.aside/<service-uid>/<path>.<job>      the previous copy while it is replaced

`promote` makes a staged download live with one rename(2), so a pod never sees half an adapter;
`sync_subtree` creates a service's subtree (its pods' subPath mount needs it) and removes the
adapters it no longer declares; `reap` removes the subtrees of services that no longer exist.
"""

from __future__ import annotations

import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from downloader.disk import METADATA_DIR

STAGING = ".staging"
ASIDE = ".aside"
NOT_SUBTREES = frozenset({STAGING, ASIDE, "lost+found"})


class UnsafeAdapterError(ValueError):
    """A staged adapter holds something a pod must not be handed (a symbolic link)."""


@dataclass(frozen=True)
class AdapterDisk:
    root: Path

    def live(self, service_id: str, adapter_path: str) -> Path:
        return self.root / service_id / adapter_path

    def staging(self, service_id: str, adapter_path: str, job_id: str) -> Path:
        return self.root / STAGING / service_id / f"{adapter_path}.{job_id}"

    def aside(self, service_id: str, adapter_path: str, job_id: str) -> Path:
        return self.root / ASIDE / service_id / f"{adapter_path}.{job_id}"


def _check_name(value: str, what: str) -> None:
    # Names come from the controller (uids, artifact names); anything that could leave the disk
    # or hide among the bookkeeping directories is refused rather than trusted.
    if not value or value in (".", "..") or "/" in value or value.startswith("."):
        raise ValueError(f"{what} {value!r} is not a plain directory name")


def promote(disk: AdapterDisk, service_id: str, adapter_path: str, job_id: str) -> Path:
    """Make the staged copy live: readable by the pods' user, the old copy set aside and removed."""
    _check_name(service_id, "SERVICE_ID")
    _check_name(adapter_path, "ADAPTER_PATH")
    staged = disk.staging(service_id, adapter_path, job_id)
    shutil.rmtree(staged / METADATA_DIR, ignore_errors=True)  # the downloader's own bookkeeping
    for path in [staged, *staged.rglob("*")]:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            raise UnsafeAdapterError(f"{path.relative_to(staged)} is a symbolic link")
        # u+rwX,go+rX: the inference pods run as another user than the staging Job.
        extra = stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH
        if stat.S_ISDIR(mode):
            extra |= stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
        path.chmod(stat.S_IMODE(mode) | extra)
    live = disk.live(service_id, adapter_path)
    live.parent.mkdir(parents=True, exist_ok=True)
    if live.exists():
        aside = disk.aside(service_id, adapter_path, job_id)
        aside.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(aside, ignore_errors=True)
        live.rename(aside)
        staged.replace(live)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        staged.replace(live)
    return live


def sync_subtree(disk: AdapterDisk, service_id: str, keep: set[str]) -> list[str]:
    """Create the service's subtree; remove the adapter directories not in `keep`. Returns the
    names removed. Never touches other services' subtrees or the staging areas."""
    _check_name(service_id, "SERVICE_ID")
    subtree = disk.root / service_id
    subtree.mkdir(parents=True, exist_ok=True)
    subtree.chmod(0o755)
    removed = []
    for entry in sorted(subtree.iterdir()):
        if entry.name not in keep:
            _remove(entry)
            removed.append(entry.name)
    return removed


def reap(disk: AdapterDisk, live_services: set[str], min_age_seconds: float, now: float) -> list[str]:
    """Remove the subtrees (and staging leftovers) of services not in `live_services` that are
    older than `min_age_seconds`: a service created a moment ago may not be listed yet. Returns
    what was removed, relative to the root."""
    removed = []

    def old(path: Path) -> bool:
        return now - path.lstat().st_mtime >= min_age_seconds

    for entry in sorted(disk.root.iterdir()) if disk.root.is_dir() else []:
        if entry.name in NOT_SUBTREES or entry.name in live_services or not old(entry):
            continue
        _remove(entry)
        removed.append(entry.name)
    for area in (STAGING, ASIDE):
        base = disk.root / area
        for entry in sorted(base.iterdir()) if base.is_dir() else []:
            if entry.name not in live_services and old(entry):
                _remove(entry)
                removed.append(f"{area}/{entry.name}")
    return removed


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()

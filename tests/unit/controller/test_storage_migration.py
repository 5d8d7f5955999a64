"""When the leading controller migrates stored objects: only CRDs whose storedVersions still name
a version other than the storage version."""

from __future__ import annotations

from typing import Any

import pytest

from controller.kube.storage_migration import needs_migration


def crd(storage: str, stored: list[str] | None) -> dict[str, Any]:
    versions = [{"name": v, "storage": v == storage, "served": True} for v in ("v1alpha1", "v1alpha2")]
    status = {} if stored is None else {"storedVersions": stored}
    return {"spec": {"versions": versions}, "status": status}


@pytest.mark.parametrize(
    ("storage", "stored", "expected"),
    [
        ("v1alpha2", ["v1alpha2"], False),
        ("v1alpha2", ["v1alpha1", "v1alpha2"], True),
        ("v1alpha2", ["v1alpha1"], True),
        ("v1alpha2", [], False),
        ("v1alpha2", None, False),
    ],
    ids=["migrated", "upgraded-from-v1alpha1", "only-old-version-recorded", "nothing-stored", "no-status"],
)
def test_migration_is_needed_while_an_old_version_is_recorded(
    storage: str, stored: list[str] | None, expected: bool
) -> None:
    assert needs_migration(crd(storage, stored)) is expected

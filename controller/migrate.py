"""`python -m controller.migrate [CRD ...]`: after an upgrade that changed a storage version, rewrite
the stored objects and trim `status.storedVersions` (default: every aim.eai.amd.com CRD with more
than one version). Safe to run again; run it with the new CRDs and the conversion webhook in place.
"""

from __future__ import annotations

import argparse
import logging
import sys

from kubernetes import client, config

from api.registry import CRDS
from controller.kube.client import Kube
from controller.kube.storage_migration import migrate_crd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("crds", nargs="*", help="CRD names (default: the multi-version AIM CRDs)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    kube = Kube(client.ApiClient(), "aim-engine-storage-migration")
    names = args.crds or [f"{c.names.plural}.{c.group}" for c in CRDS if len(c.versions) > 1]
    for name in names:
        report = migrate_crd(kube, name)
        print(
            f"{report.crd}: {report.rewritten} rewritten in {report.storage_version}"
            f" (storedVersions {report.stored_versions_before} -> [{report.storage_version!r}])"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Every CRD the project serves, as data: the single list `crdgen` renders into `crds/`."""

from __future__ import annotations

from api import GROUP
from api.schema.crd import CRDSpec, Names, Version
from api.v1alpha1 import aimruntimeconfig as rc1

CATEGORIES = ("aim", "all")

CRDS: tuple[CRDSpec, ...] = (
    CRDSpec(
        group=GROUP,
        names=Names("AIMRuntimeConfig", "aimruntimeconfigs", "aimruntimeconfig", ("aimrc",), CATEGORIES),
        scope="Namespaced",
        versions=(Version("v1alpha1", rc1.AIMRuntimeConfig, storage=True),),
    ),
    CRDSpec(
        group=GROUP,
        names=Names(
            "AIMClusterRuntimeConfig",
            "aimclusterruntimeconfigs",
            "aimclusterruntimeconfig",
            ("aimclrc",),
            CATEGORIES,
        ),
        scope="Cluster",
        versions=(Version("v1alpha1", rc1.AIMClusterRuntimeConfig, storage=True),),
    ),
)

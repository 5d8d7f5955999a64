"""Every CRD the project serves, as data: the single list `crdgen` renders into `crds/`.

Kinds that exist in both versions (AIMService, AIMModel, AIMClusterModel) store v1alpha2 and serve
v1alpha1 as deprecated. Until the conversion webhook is registered (`make run` and the chart do
that), the API server converts between them by rewriting apiVersion only; see docs/api-versions.md.
"""

from __future__ import annotations

from api import GROUP
from api.schema.crd import CRDSpec, Names, PrinterColumn, Version
from api.v1alpha1 import aimartifact as art1
from api.v1alpha1 import aimclustermodelsource as src1
from api.v1alpha1 import aimkvcache as kvc1
from api.v1alpha1 import aimmodel as mdl1
from api.v1alpha1 import aimruntimeconfig as rc1
from api.v1alpha1 import aimservice as svc1
from api.v1alpha1 import aimservicetemplate as tpl1
from api.v1alpha1 import aimtemplatecache as tc1
from api.v1alpha2 import aimmodel as mdl2
from api.v1alpha2 import aimprofile as prf2
from api.v1alpha2 import aimprofilecache as pc2
from api.v1alpha2 import aimprofileset as ps2
from api.v1alpha2 import aimservice as svc2

CATEGORIES = ("aim", "all")
AGE = PrinterColumn("Age", ".metadata.creationTimestamp", "date")
STATUS = PrinterColumn("Status", ".status.status")

SERVICE_COLUMNS = (
    STATUS,
    PrinterColumn("Model", ".status.resolvedModel.name"),
    PrinterColumn("Template", ".status.resolvedTemplate.name"),
    PrinterColumn("Profile", ".status.resolvedProfile.name", priority=1),
    PrinterColumn("Replicas", ".status.runtime.replicas"),
    AGE,
)
MODEL_COLUMNS = (
    STATUS,
    PrinterColumn("Source", ".status.sourceType"),
    PrinterColumn("Image", ".spec.image"),
    PrinterColumn("Model", ".status.imageMetadata.model.canonicalName"),
    AGE,
)
TEMPLATE_COLUMNS = (
    PrinterColumn("Model", ".spec.modelName"),
    STATUS,
    PrinterColumn("Hardware", ".status.hardwareSummary"),
    PrinterColumn("Metric", ".status.profile.metadata.metric"),
    PrinterColumn("Precision", ".status.profile.metadata.precision"),
    AGE,
)
PROFILE_COLUMNS = (
    PrinterColumn("AimId", ".spec.aimId"),
    PrinterColumn("Engine", ".spec.engine"),
    STATUS,
    PrinterColumn("Hardware", ".status.hardwareSummary"),
    PrinterColumn("Metric", ".spec.metric"),
    PrinterColumn("Precision", ".spec.precision"),
    AGE,
)
PROFILE_SET_COLUMNS = (
    STATUS,
    PrinterColumn("Managed", ".status.managedProfiles.total", "integer"),
    PrinterColumn("Ready", ".status.managedProfiles.ready", "integer"),
    AGE,
)
PROFILE_SELECTABLE = (".spec.aimId",)
"""`kubectl get aimprofile --field-selector spec.aimId=qwen/qwen3-32b`, as upstream (unreleased, 2026)."""
MODEL_DEPRECATION = "aim.eai.amd.com/v1alpha1 {kind} is deprecated; use aim.eai.amd.com/v1alpha2 {kind}."


def _names(kind: str, short: str) -> Names:
    return Names(kind, f"{kind.lower()}s", kind.lower(), (short,), CATEGORIES)


def _model_crd(kind: str, short: str, scope: str, v1: type, v2: type) -> CRDSpec:
    warning = MODEL_DEPRECATION.format(kind=kind)
    return CRDSpec(
        group=GROUP,
        names=_names(kind, short),
        scope=scope,  # type: ignore[arg-type]
        versions=(
            Version("v1alpha1", v1, deprecation_warning=warning, printer_columns=MODEL_COLUMNS),
            Version("v1alpha2", v2, storage=True, printer_columns=MODEL_COLUMNS),
        ),
    )


CRDS: tuple[CRDSpec, ...] = (
    CRDSpec(
        group=GROUP,
        names=_names("AIMService", "aimsvc"),
        scope="Namespaced",
        versions=(
            Version(
                "v1alpha1",
                svc1.AIMService,
                deprecation_warning=svc1.DEPRECATION_WARNING,
                printer_columns=SERVICE_COLUMNS,
            ),
            Version("v1alpha2", svc2.AIMService, storage=True, printer_columns=SERVICE_COLUMNS),
        ),
    ),
    _model_crd("AIMModel", "aimmdl", "Namespaced", mdl1.AIMModel, mdl2.AIMModel),
    _model_crd("AIMClusterModel", "aimclmdl", "Cluster", mdl1.AIMClusterModel, mdl2.AIMClusterModel),
    CRDSpec(
        group=GROUP,
        names=_names("AIMServiceTemplate", "aimtpl"),
        scope="Namespaced",
        versions=(Version("v1alpha1", tpl1.AIMServiceTemplate, storage=True, printer_columns=TEMPLATE_COLUMNS),),
    ),
    CRDSpec(
        group=GROUP,
        names=_names("AIMClusterServiceTemplate", "aimcltpl"),
        scope="Cluster",
        versions=(Version("v1alpha1", tpl1.AIMClusterServiceTemplate, storage=True, printer_columns=TEMPLATE_COLUMNS),),
    ),
    CRDSpec(
        group=GROUP,
        names=_names("AIMRuntimeConfig", "aimrc"),
        scope="Namespaced",
        versions=(Version("v1alpha1", rc1.AIMRuntimeConfig, storage=True),),
    ),
    CRDSpec(
        group=GROUP,
        names=_names("AIMClusterRuntimeConfig", "aimclrc"),
        scope="Cluster",
        versions=(Version("v1alpha1", rc1.AIMClusterRuntimeConfig, storage=True),),
    ),
    CRDSpec(
        group=GROUP,
        names=_names("AIMClusterModelSource", "aimclsrc"),
        scope="Cluster",
        versions=(
            Version(
                "v1alpha1",
                src1.AIMClusterModelSource,
                storage=True,
                printer_columns=(
                    STATUS,
                    PrinterColumn("Models", ".status.discoveredModels", "integer"),
                    PrinterColumn("LastSync", ".status.lastSyncTime", "date"),
                    AGE,
                ),
            ),
        ),
    ),
    CRDSpec(
        group=GROUP,
        names=_names("AIMArtifact", "aimart"),
        scope="Namespaced",
        versions=(
            Version(
                "v1alpha1",
                art1.AIMArtifact,
                storage=True,
                printer_columns=(
                    STATUS,
                    PrinterColumn("Mode", ".status.mode"),
                    PrinterColumn("Model Size", ".status.displaySize"),
                    PrinterColumn("Progress", ".status.progress.displayPercentage"),
                    PrinterColumn("Downloaded", ".status.progress.downloadedBytes", "integer", priority=1),
                    PrinterColumn("Protocol", ".status.download.protocol", priority=1),
                    PrinterColumn("Attempt", ".status.download.attempt", "integer", priority=1),
                    AGE,
                ),
            ),
        ),
    ),
    CRDSpec(
        group=GROUP,
        names=_names("AIMTemplateCache", "aimtc"),
        scope="Namespaced",
        versions=(
            Version(
                "v1alpha1",
                tc1.AIMTemplateCache,
                storage=True,
                printer_columns=(
                    PrinterColumn("Template", ".spec.templateName"),
                    PrinterColumn("Mode", ".spec.mode"),
                    STATUS,
                    PrinterColumn("Kind", ".status.resolvedTemplateKind"),
                    AGE,
                ),
            ),
        ),
    ),
    CRDSpec(
        group=GROUP,
        names=_names("AIMKVCache", "aimkvc"),
        scope="Namespaced",
        versions=(
            Version(
                "v1alpha1",
                kvc1.AIMKVCache,
                storage=True,
                printer_columns=(
                    PrinterColumn("Type", ".spec.kvCacheType"),
                    STATUS,
                    PrinterColumn("Replicas", ".status.replicas", "integer"),
                    PrinterColumn("ReplicasReady", ".status.readyReplicas", "integer"),
                    PrinterColumn("StorageSize", ".status.storageSize"),
                    PrinterColumn("Endpoint", ".status.endpoint", priority=1),
                    AGE,
                ),
            ),
        ),
    ),
    CRDSpec(
        group=GROUP,
        names=_names("AIMProfile", "aimprf"),
        scope="Namespaced",
        versions=(
            Version(
                "v1alpha2",
                prf2.AIMProfile,
                storage=True,
                printer_columns=PROFILE_COLUMNS,
                selectable_fields=PROFILE_SELECTABLE,
            ),
        ),
    ),
    CRDSpec(
        group=GROUP,
        names=_names("AIMClusterProfile", "aimclprf"),
        scope="Cluster",
        versions=(
            Version(
                "v1alpha2",
                prf2.AIMClusterProfile,
                storage=True,
                printer_columns=PROFILE_COLUMNS,
                selectable_fields=PROFILE_SELECTABLE,
            ),
        ),
    ),
    CRDSpec(
        group=GROUP,
        names=_names("AIMProfileCache", "aimpc"),
        scope="Namespaced",
        versions=(
            Version(
                "v1alpha2",
                pc2.AIMProfileCache,
                storage=True,
                printer_columns=(
                    PrinterColumn("Profile", ".spec.profileName"),
                    PrinterColumn("Scope", ".spec.profileScope"),
                    PrinterColumn("Mode", ".spec.mode"),
                    STATUS,
                    AGE,
                ),
            ),
        ),
    ),
    CRDSpec(
        group=GROUP,
        names=_names("AIMProfileSet", "aimprfset"),
        scope="Namespaced",
        versions=(Version("v1alpha2", ps2.AIMProfileSet, storage=True, printer_columns=PROFILE_SET_COLUMNS),),
    ),
    CRDSpec(
        group=GROUP,
        names=_names("AIMClusterProfileSet", "aimclprfset"),
        scope="Cluster",
        versions=(Version("v1alpha2", ps2.AIMClusterProfileSet, storage=True, printer_columns=PROFILE_SET_COLUMNS),),
    ),
)

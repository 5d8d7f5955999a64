"""Condition types and reasons: part of the API contract, shared by the controller (which sets
them) and by anyone reading status. Conditions follow the Kubernetes API conventions: `status`
True/False/Unknown, CamelCase `reason`, `observedGeneration`, and `lastTransitionTime` changed only
when `status` changes."""

from __future__ import annotations

from enum import StrEnum


class ConditionType(StrEnum):
    READY = "Ready"
    """True when the object does what it was asked (a service serves, a model's templates are usable,
    an artifact is downloaded). Every kind sets it."""
    CONFIG_VALID = "ConfigValid"
    """False when the spec refers to something that cannot work (a missing named runtime config,
    routing without a gateway); the object is Failed until the spec or the reference is fixed."""
    DEPENDENCIES_REACHABLE = "DependenciesReachable"
    """False when the API server or a registry could not be reached; retried."""
    AUTH_VALID = "AuthValid"
    """False when credentials (pull secrets, tokens) were refused."""
    RUNTIME_CONFIG_READY = "RuntimeConfigReady"
    """True when the runtime config resolved (a missing `default` config is fine: reason DefaultConfigNotFound)."""
    MODEL_READY = "ModelReady"
    """AIMService/templates: the model resolved and is Ready."""
    TEMPLATE_READY = "TemplateReady"
    """AIMService: a template was selected (or named) and is Ready."""
    PROFILE_READY = "ProfileReady"
    """AIMService with spec.profile: the profile resolved and is Ready."""
    CACHE_READY = "CacheReady"
    """AIMService/templates: the model cache is downloaded."""
    INFERENCE_SERVICE_READY = "InferenceServiceReady"
    """AIMService: KServe reports the InferenceService Ready."""
    INFERENCE_SERVICE_PODS_READY = "InferenceServicePodsReady"
    """AIMService: the predictor pods run (False carries image-pull or OOM reasons)."""
    HTTP_ROUTE_READY = "HTTPRouteReady"
    """AIMService with routing: the HTTPRoute is accepted by its Gateway."""
    HPA_READY = "HPAReady"
    """AIMService with autoscaling: the autoscaler is operational."""
    IMAGE_METADATA_READY = "ImageMetadataReady"
    """AIMModel: image labels were read from the registry."""
    SERVICE_TEMPLATES_READY = "ServiceTemplatesReady"
    """AIMModel: the templates created from the image are Ready (AIMClusterModel: ClusterServiceTemplatesReady)."""
    DISCOVERED = "Discovered"
    """Templates: the model sources and runtime profile are known (discovery ran or the spec gave them)."""
    GPU_READY = "GPUReady"
    """Templates: the required GPU model (or VRAM) exists on the cluster's nodes."""
    CACHE_PVC_READY = "CachePvcReady"
    """AIMArtifact: the volume is bound."""
    DOWNLOAD_COMPLETE = "DownloadComplete"
    """AIMArtifact: the download Job finished and the size was verified."""
    ARTIFACTS_READY = "ArtifactsReady"
    """Template and profile caches: every artifact is Ready."""
    PROFILE_FOUND = "ProfileFound"
    """AIMProfileCache: the AIMProfile or AIMClusterProfile named by spec.profileName exists in spec.profileScope."""
    HARDWARE_AVAILABLE = "HardwareAvailable"
    """Profiles: at least one node has the accelerator and enough allocatable resources."""


class Reason(StrEnum):
    # runtime config
    CONFIG_FOUND = "ConfigFound"
    DEFAULT_CONFIG_NOT_FOUND = "DefaultConfigNotFound"
    CONFIG_NOT_FOUND = "ConfigNotFound"
    REFERENCE_NOT_FOUND = "ReferenceNotFound"
    # model resolution
    INVALID_IMAGE_REFERENCE = "InvalidImageReference"
    MODEL_NOT_FOUND = "ModelNotFound"
    CREATING_MODEL = "CreatingModel"
    MODEL_NOT_READY = "ModelNotReady"
    MODEL_RESOLVED = "ModelResolved"
    # template and profile resolution
    TEMPLATE_NOT_FOUND = "TemplateNotFound"
    TEMPLATE_NOT_READY = "TemplateNotReady"
    TEMPLATE_SELECTION_AMBIGUOUS = "TemplateSelectionAmbiguous"
    NO_TEMPLATE_AVAILABLE = "NoTemplateAvailable"
    RESOLVED = "Resolved"
    PROFILE_NOT_FOUND = "ProfileNotFound"
    PROFILE_NOT_READY = "ProfileNotReady"
    PROFILE_RESOLVED = "ProfileResolved"
    REQUIRED_GPU_NOT_IN_CLUSTER = "RequiredGPUNotInCluster"
    # caching
    CACHE_CREATING = "CacheCreating"
    CACHE_NOT_READY = "CacheNotReady"
    CACHE_READY = "CacheReady"
    CACHE_FAILED = "CacheFailed"
    CACHE_LOST = "CacheLost"
    CREATING_CACHES = "CreatingCaches"
    ALL_CACHES_READY = "AllCachesReady"
    CACHES_NOT_READY = "CachesNotReady"
    NO_CACHES = "NoCaches"
    # serving and routing
    CREATING_RUNTIME = "CreatingRuntime"
    RUNTIME_READY = "RuntimeReady"
    RUNTIME_SCALING = "RuntimeScaling"
    NAME_TOO_LONG = "NameTooLong"
    ROUTE_TEMPLATE_INVALID = "RouteTemplateInvalid"
    GATEWAY_NOT_CONFIGURED = "GatewayNotConfigured"
    HTTP_ROUTE_ACCEPTED = "HTTPRouteAccepted"
    HTTP_ROUTE_PENDING = "HTTPRoutePending"
    # image metadata
    IMAGE_METADATA_FOUND = "ImageMetadataFound"
    IMAGE_FOUND = "ImageFound"
    METADATA_EXTRACTION_FAILED = "MetadataExtractionFailed"
    SECRET_NOT_FOUND = "SecretNotFound"  # noqa: S105 - a condition reason, not a secret
    # downloads
    DOWNLOADING = "Downloading"
    VERIFIED = "Verified"
    VERIFICATION_FAILED = "VerificationFailed"
    AUTH_ERROR = "AuthError"
    STORAGE_FULL = "StorageFull"
    SOURCE_NOT_FOUND = "SourceNotFound"
    POD_OOM_KILLED = "PodOOMKilled"
    # hardware
    HARDWARE_AVAILABLE = "HardwareAvailable"
    HARDWARE_NOT_AVAILABLE = "HardwareNotAvailable"
    NO_ACCELERATOR_SPECIFIED = "NoAcceleratorSpecified"

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
    """False when the API server, an admission webhook or a registry could not be reached;
    retried. Models set it when their image's registry is unreachable; every kind sets it
    (reason AdmissionWebhookUnavailable) while a write it needs is refused because the API server
    cannot call an admission webhook."""
    AUTH_VALID = "AuthValid"
    """False when credentials (pull secrets, tokens) were refused. Models (reading their image) and
    AIMClusterModelSources (listing registries) set it."""
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
    KV_CACHE_READY = "KVCacheReady"
    """AIMService with spec.kvCache: its AIMKVCache is Ready (upstream's condition)."""
    STATEFUL_SET_READY = "StatefulSetReady"
    """AIMKVCache: the backend's StatefulSet has its replicas Ready."""
    SERVICE_READY = "ServiceReady"
    """AIMKVCache: the Service in front of the backend exists."""
    INFERENCE_SERVICE_PODS_READY = "InferenceServicePodsReady"
    """AIMService: the predictor pods run (False carries image-pull or OOM reasons)."""
    ADAPTERS_READY = "AdaptersReady"
    """AIMService with adapters: its adapter subtree exists (adapters stage behind it)."""
    ADAPTER_PARENT_READY = "AdapterParentReady"
    """AIMArtifact of type adapter: its parent is a model artifact with an adapter disk."""
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
    """AIMArtifact: the download Job finished and the size was verified; also the reason of the
    Normal event sent when the artifact becomes Ready."""
    DOWNLOAD_JOB_READY = "DownloadJobReady"
    """AIMArtifact, while not Ready: the download Job exists and has not failed (True once it
    completed); its reason says how a failed Job ended (JobBackoffLimitExceeded, ...)."""
    DOWNLOAD_JOB_PODS_READY = "DownloadJobPodsReady"
    """AIMArtifact, while the download Job runs: its pod runs (False PodsPending while it waits to
    be scheduled or started; Failed with the downloader's reason when it failed)."""
    ARTIFACTS_READY = "ArtifactsReady"
    """Template and profile caches: every artifact is Ready."""
    PROFILE_FOUND = "ProfileFound"
    """AIMProfileCache: the AIMProfile or AIMClusterProfile named by spec.profileName exists in spec.profileScope."""
    HARDWARE_AVAILABLE = "HardwareAvailable"
    """Profiles: at least one node has the accelerator and enough allocatable resources."""
    DERIVATION_READY = "DerivationReady"
    """AIMProfileSet, AIMClusterProfileSet: every profile the set derives exists and is Ready."""
    CLUSTER_SERVICE_TEMPLATES_READY = "ClusterServiceTemplatesReady"
    """AIMClusterModel: the cluster templates created from the image are Ready (AIMModel:
    ServiceTemplatesReady)."""
    CLUSTER_MODEL_READY = "ClusterModelReady"
    """AIMClusterServiceTemplate: its AIMClusterModel exists and has not failed (AIMServiceTemplate:
    ModelReady)."""
    SERVICE_TEMPLATE_READY = "ServiceTemplateReady"
    """AIMTemplateCache: the template named by spec.templateName exists in spec.templateScope and is
    Ready, so its model sources are known."""
    CHECK_SIZE_OUTPUT_READY = "CheckSizeOutputReady"
    """AIMArtifact whose size is not known yet: the check-size Job printed the size at the source.
    Also set, False (InvalidSize), when spec.size is not a quantity."""
    STORAGE_QUOTA_READY = "StorageQuotaReady"
    """AIMArtifact without a volume yet and a storage quota in force: there is room for its volume
    (False, Failed, while the namespace's or the cluster's quota leaves none)."""
    STORAGE_QUOTA_EXCEEDED = "StorageQuotaExceeded"
    """AIMArtifact: True while its volume would exceed the namespace's or the cluster's artifact
    storage quota (Evicting while artifacts are deleted to make room; the numbers in the message);
    False (WithinQuota) once it fits. Only set when a quota is configured."""
    FILTERS_VALID = "FiltersValid"
    """AIMClusterModelSource: every spec.filters entry (image pattern and version constraints) is
    usable."""
    SYNC_INTERVAL_VALID = "SyncIntervalValid"
    """AIMClusterModelSource: spec.syncInterval is a Go duration of at least the minimum interval."""
    REGISTRY_REACHABLE = "RegistryReachable"
    """AIMClusterModelSource: every registry listing (catalog, tags) of the last sync answered."""
    MODELS_DISCOVERED = "ModelsDiscovered"
    """AIMClusterModelSource: at least one image matched the filters in the last sync."""
    MAX_MODELS_LIMIT_REACHED = "MaxModelsLimitReached"
    """AIMClusterModelSource: maxModels left some matching images without a model
    (status.modelsLimitReached). Unlike the others, True is the problem; also the reason of the
    Warning event sent when it becomes True."""


class Reason(StrEnum):
    # the Ready and ConfigValid aggregates
    ALL_COMPONENTS_READY = "AllComponentsReady"
    CONFIGURATION_VALID = "ConfigurationValid"
    # ConfigValid and AuthValid as upstream's reconcile framework sets them from a failed component
    INVALID_SPEC = "InvalidSpec"
    AUTHENTICATION_VALID = "AuthenticationValid"
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
    MODEL_FOUND = "ModelFound"
    MODEL_FAILED = "ModelFailed"
    """A template's ModelReady: its model is Failed or Degraded for a reason other than templates."""
    CLUSTER_MODEL_FOUND = "ClusterModelFound"
    CLUSTER_MODEL_NOT_FOUND = "ClusterModelNotFound"
    CLUSTER_MODEL_FAILED = "ClusterModelFailed"
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
    TEMPLATE_READY = "TemplateReady"
    # template selection: why a candidate was passed over (listed in TemplateReady's message)
    TEMPLATE_PENDING = "TemplatePending"
    TEMPLATE_PROGRESSING = "TemplateProgressing"
    TEMPLATE_NOT_AVAILABLE = "TemplateNotAvailable"
    TEMPLATE_DEGRADED = "TemplateDegraded"
    TEMPLATE_FAILED = "TemplateFailed"
    UNOPTIMIZED_TEMPLATE_FILTERED = "UnoptimizedTemplateFiltered"
    SERVICE_OVERRIDES_NOT_MATCHED = "ServiceOverridesNotMatched"
    NAMESPACE_TEMPLATE_PREFERRED = "NamespaceTemplatePreferred"
    LOWER_PREFERENCE_RANK = "LowerPreferenceRank"
    # a model's templates (ServiceTemplatesReady, ClusterServiceTemplatesReady)
    NO_TEMPLATES_EXPECTED = "NoTemplatesExpected"
    CREATING_TEMPLATES = "CreatingTemplates"
    ALL_TEMPLATES_READY = "AllTemplatesReady"
    ALL_TEMPLATES_FAILED = "AllTemplatesFailed"
    NO_TEMPLATES_AVAILABLE = "NoTemplatesAvailable"
    SOME_TEMPLATES_DEGRADED = "SomeTemplatesDegraded"
    TEMPLATES_PROGRESSING = "TemplatesProgressing"
    SOME_TEMPLATES_READY = "SomeTemplatesReady"
    # a template's GPUs (GPUReady)
    GPU_AVAILABLE = "GPUAvailable"
    GPU_NOT_AVAILABLE = "GPUNotAvailable"
    VRAM_NOT_AVAILABLE = "VRAMNotAvailable"
    GPU_CHECK_FAILED = "GPUCheckFailed"
    # a template's model sources (Discovered)
    INLINE_MODEL_SOURCES = "InlineModelSources"
    AWAITING_DISCOVERY = "AwaitingDiscovery"
    DISCOVERY_COMPLETE = "DiscoveryComplete"
    DISCOVERY_FAILED = "DiscoveryFailed"
    # caching
    CACHE_CREATING = "CacheCreating"
    CACHE_NOT_READY = "CacheNotReady"
    CACHE_READY = "CacheReady"
    CACHE_FAILED = "CacheFailed"
    CACHE_LOST = "CacheLost"
    CACHE_ABANDONED = "CacheAbandoned"
    """Event: a Shared cache no service made or uses any more, never Ready, deleted by its reconcile."""
    # KV cache (AIMService KVCacheReady: upstream's reasons; AIMKVCache's StatefulSetReady and ServiceReady)
    WAITING_FOR_KV_CACHE = "WaitingForKVCache"
    KV_CACHE_PROGRESSING = "KVCacheProgressing"
    KV_CACHE_READY = "KVCacheReady"
    KV_CACHE_FAILED = "KVCacheFailed"
    STATEFUL_SET_PENDING = "StatefulSetPending"
    WAITING_FOR_PODS = "WaitingForPods"
    STATEFUL_SET_READY = "StatefulSetReady"
    SERVICE_PENDING = "ServicePending"
    SERVICE_CREATED = "ServiceCreated"
    UNSUPPORTED_KV_CACHE_TYPE = "UnsupportedKVCacheType"
    # LoRA adapters (AIMService AdaptersReady, AIMArtifact AdapterParentReady: upstream's reasons)
    ADAPTER_CONFIG_INVALID = "AdapterConfigInvalid"
    PARENT_LACKS_ADAPTER_DISK = "ParentLacksAdapterDisk"
    ADAPTER_SUBTREE_PROVISIONING = "AdapterSubtreeProvisioning"
    ADAPTERS_STAGING = "AdaptersStaging"
    ADAPTERS_STAGED = "AdaptersStaged"
    ADAPTER_ARTIFACT_NOT_FOUND = "AdapterArtifactNotFound"
    PARENT_ARTIFACT_NOT_FOUND = "ParentArtifactNotFound"
    PARENT_ARTIFACT_NOT_MODEL = "ParentArtifactNotModel"
    ADAPTER_VALIDATED = "AdapterValidated"
    WAITING_FOR_PARENT = "WaitingForParent"
    CREATING_CACHES = "CreatingCaches"
    ALL_CACHES_READY = "AllCachesReady"
    CACHES_NOT_READY = "CachesNotReady"
    NO_CACHES = "NoCaches"
    # serving and routing
    CREATING_RUNTIME = "CreatingRuntime"
    RUNTIME_READY = "RuntimeReady"
    RUNTIME_SCALING = "RuntimeScaling"
    """InferenceServiceReady while KServe reports it not Ready but predictor pods serve (a scale
    up or down in progress): the service stays Running."""
    # autoscaling (HPAReady, as upstream names the reasons)
    HPA_NOT_FOUND = "HPANotFound"
    HPA_OPERATIONAL = "HPAOperational"
    SCALED_TO_ZERO = "ScaledToZero"
    WAITING_FOR_METRICS = "WaitingForMetrics"
    METRICS_FAILED = "MetricsFailed"
    SCALE_TARGET_NOT_READY = "ScaleTargetNotReady"
    AUTOSCALING_REQUIRES_METRICS = "AutoscalingRequiresMetrics"
    KEDA_NOT_INSTALLED = "KEDANotInstalled"
    """This project's: the ScaledObject kind is not served (KEDA's CRDs are missing)."""
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
    AWAITING_METADATA = "AwaitingMetadata"
    INFRASTRUCTURE_ERROR = "InfrastructureError"
    # the API server
    ADMISSION_WEBHOOK_UNAVAILABLE = "AdmissionWebhookUnavailable"
    # downloads
    DOWNLOADING = "Downloading"
    VERIFYING = "Verifying"
    """Every byte is there (progress 100 %), the Job still runs: the downloader verifies."""
    VERIFIED = "Verified"
    VERIFICATION_FAILED = "VerificationFailed"
    AUTH_ERROR = "AuthError"
    STORAGE_FULL = "StorageFull"
    SOURCE_NOT_FOUND = "SourceNotFound"
    POD_OOM_KILLED = "PodOOMKilled"
    POD_FAILED = "PodFailed"
    # an artifact's size and volume (CheckSizeOutputReady, CachePvcReady)
    INVALID_SIZE = "InvalidSize"
    CHECKING_SIZE = "CheckingSize"
    CHECK_SIZE_FAILED = "CheckSizeFailed"
    INVALID_SIZE_OUTPUT = "InvalidSizeOutput"
    SIZE_DISCOVERED = "SizeDiscovered"
    # artifact storage quotas and retention
    NAMESPACE_QUOTA_EXCEEDED = "NamespaceQuotaExceeded"
    CLUSTER_QUOTA_EXCEEDED = "ClusterQuotaExceeded"
    EVICTING = "Evicting"
    WITHIN_QUOTA = "WithinQuota"
    EVICTED = "Evicted"
    """Event on an artifact deleted to make room for another under a storage quota."""
    REAPED = "Reaped"
    """Event on an evictable artifact deleted because no cache referenced it for the grace period."""
    JOB_NOT_FOUND = "JobNotFound"
    JOB_RUNNING = "JobRunning"
    JOB_SUCCEEDED = "JobSucceeded"
    JOB_FAILED = "JobFailed"
    JOB_BACKOFF_LIMIT_EXCEEDED = "JobBackoffLimitExceeded"
    JOB_DEADLINE_EXCEEDED = "JobDeadlineExceeded"
    PODS_READY = "PodsReady"
    PODS_PENDING = "PodsPending"
    PODS_PROGRESSING = "PodsProgressing"
    # an InferenceService's predictor pods (InferenceServicePodsReady), upstream's words
    PODS_STARTING = "PodsStarting"
    NO_PODS = "NoPods"
    FAILED_SCHEDULING = "FailedScheduling"
    """A predictor pod the scheduler cannot place (the scheduler's message says why)."""
    IMAGE_PULL_AUTH_FAILURE = "ImagePullAuthFailure"
    IMAGE_NOT_FOUND = "ImageNotFound"
    IMAGE_PULL_BACK_OFF = "ImagePullBackOff"
    CRASH_LOOP_BACK_OFF = "CrashLoopBackOff"
    # KServe's Warning events on an InferenceService that it will not get past by itself
    SERVERLESS_MODE_REJECTED = "ServerlessModeRejected"
    """KServe resolved the Serverless mode and Knative is not installed."""
    INTERNAL_ERROR = "InternalError"
    """KServe failed to reconcile the InferenceService (its event's message says why)."""
    PVC_BOUND = "PvcBound"
    PVC_CREATED = "PvcCreated"
    # hardware
    HARDWARE_AVAILABLE = "HardwareAvailable"
    HARDWARE_NOT_AVAILABLE = "HardwareNotAvailable"
    NO_ACCELERATOR_SPECIFIED = "NoAcceleratorSpecified"
    # profile derivation (AIMProfileSet, AIMClusterProfileSet: DerivationReady)
    NO_MATCHING_PROFILES = "NoMatchingProfiles"
    CREATING = "Creating"
    MANAGED_PROFILES_READY = "ManagedProfilesReady"
    MANAGED_PROFILES_PARTIALLY_READY = "ManagedProfilesPartiallyReady"
    MANAGED_PROFILES_NOT_AVAILABLE = "ManagedProfilesNotAvailable"
    SOURCE_LOAD_FAILED = "SourceLoadFailed"
    INVALID_PROFILE_SELECTION = "InvalidProfileSelection"
    # model sources (AIMClusterModelSource)
    FILTERS_VALID = "FiltersValid"
    INVALID_FILTERS = "InvalidFilters"
    SYNC_INTERVAL_VALID = "SyncIntervalValid"
    INVALID_SYNC_INTERVAL = "InvalidSyncInterval"
    CREDENTIALS_ACCEPTED = "CredentialsAccepted"
    ANONYMOUS_ACCESS = "AnonymousAccess"
    UNAUTHORIZED = "Unauthorized"
    PULL_SECRET_PROBLEM = "PullSecretProblem"  # noqa: S105 - a condition reason, not a secret
    REACHABLE = "Reachable"
    REGISTRY_UNREACHABLE = "RegistryUnreachable"
    REPOSITORY_NOT_FOUND = "RepositoryNotFound"
    REGISTRY_PROTOCOL_ERROR = "RegistryProtocolError"
    REGISTRY_RATE_LIMITED = "RegistryRateLimited"
    """RegistryReachable=False: a registry or its listing API (Docker Hub, GitHub) answered 429 or
    an exhausted rate limit; the sync is retried when the answer said (at least a minute)."""
    MODELS_DISCOVERED = "ModelsDiscovered"
    NO_MATCHING_IMAGES = "NoMatchingImages"
    LIMIT_REACHED = "LimitReached"
    WITHIN_LIMIT = "WithinLimit"
    # events only (AIMClusterModelSource)
    SYNCED = "Synced"
    MODELS_CREATED = "ModelsCreated"


# A component that failed for one of these reasons is a failure of the object's configuration
# (ConfigValid=False, reason InvalidSpec or ReferenceNotFound) or of its credentials
# (AuthValid=False, reason AuthError), as upstream's reconcile framework categorises errors.
INVALID_SPEC_REASONS = frozenset(
    {
        Reason.INVALID_IMAGE_REFERENCE,
        Reason.INVALID_SIZE,
        Reason.INVALID_FILTERS,
        Reason.INVALID_SYNC_INTERVAL,
        Reason.NAME_TOO_LONG,
        Reason.ROUTE_TEMPLATE_INVALID,
        Reason.INVALID_PROFILE_SELECTION,
        Reason.SOURCE_NOT_FOUND,
    }
)
MISSING_REFERENCE_REASONS = frozenset(
    {
        Reason.CONFIG_NOT_FOUND,
        Reason.REFERENCE_NOT_FOUND,
        Reason.SECRET_NOT_FOUND,
        Reason.PULL_SECRET_PROBLEM,
        Reason.MODEL_NOT_FOUND,
        Reason.TEMPLATE_NOT_FOUND,
        Reason.PROFILE_NOT_FOUND,
    }
)
AUTH_FAILURE_REASONS = frozenset({Reason.AUTH_ERROR, Reason.UNAUTHORIZED, Reason.IMAGE_PULL_AUTH_FAILURE})


class JobConditionType(StrEnum):
    """Condition types of a batch/v1 Job (Kubernetes' vocabulary, not ours): the controller reads
    them to tell a discovery, check-size or download Job finished."""

    COMPLETE = "Complete"
    FAILED = "Failed"


class PodPhase(StrEnum):
    """A pod's status.phase (Kubernetes' vocabulary): the controller reads predictor pods."""

    PENDING = "Pending"
    RUNNING = "Running"
    FAILED = "Failed"


class PodConditionType(StrEnum):
    """A pod's status.conditions[].type values the controller reads (Kubernetes' vocabulary)."""

    READY = "Ready"
    POD_SCHEDULED = "PodScheduled"


class ContainerReason(StrEnum):
    """Why a container waits or ended (the kubelet's and scheduler's words) where it matters to a
    service's health."""

    ERR_IMAGE_PULL = "ErrImagePull"
    IMAGE_PULL_BACK_OFF = "ImagePullBackOff"
    INVALID_IMAGE_NAME = "InvalidImageName"
    CRASH_LOOP_BACK_OFF = "CrashLoopBackOff"
    OOM_KILLED = "OOMKilled"
    UNSCHEDULABLE = "Unschedulable"


class HTTPRouteConditionType(StrEnum):
    """Condition types a Gateway sets on an HTTPRoute's status.parents[] (Gateway API's
    vocabulary): the controller reads them for HTTPRouteReady."""

    ACCEPTED = "Accepted"

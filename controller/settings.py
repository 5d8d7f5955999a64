"""The controller's configuration, read once from the environment (prefix AIM_CONTROLLER_)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from controller.common.retries import IMAGE_RETRY_SECONDS


class ControllerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIM_CONTROLLER_")

    field_manager: str = "aim-engine-controller"
    """Server-side apply field manager of every object the controller writes."""
    workers: int = 4
    """Reconciles running at once (different objects; one object is never reconciled twice at once)."""
    resync_seconds: float = 300.0
    """Every known service is reconciled again at this period, whatever the watches said."""
    store: bool = True
    """Read the kinds watched in full (AIM kinds, nodes) from the controller's in-memory view
    (controller.kube.store) instead of the API server; false reads everything from the server."""
    store_relist_seconds: float = 600.0
    """The in-memory view is listed again at this period, dropping objects whose deletion a watch
    restart hid."""
    watch_server_timeout: int = 300
    """Seconds the API server keeps a watch open before the controller re-establishes it."""
    watch_client_timeout: int = 330
    """Seconds without any answer after which a watch is considered stalled and restarted."""
    watch_idle_seconds: float = 1.0
    """Seconds kopf keeps an object's event task after its last event (kopf's default: 5)."""
    leader_election: bool = True
    """Only the replica holding the Lease reconciles; the others stand by with warm watches."""
    lease_name: str = "aim-engine-controller"
    lease_namespace: str = Field(
        default="default", validation_alias=AliasChoices("AIM_CONTROLLER_LEASE_NAMESPACE", "POD_NAMESPACE")
    )
    """Where the Lease lives: the controller's own namespace in a cluster (POD_NAMESPACE)."""
    system_namespace: str = Field(
        default="aim-system", validation_alias=AliasChoices("AIM_SYSTEM_NAMESPACE", "AIM_CONTROLLER_SYSTEM_NAMESPACE")
    )
    """The operator's namespace: discovery Jobs of cluster templates run here; cluster models'
    pull secrets live here."""
    downloader_image: str = "ghcr.io/aim-engine-python/aim-engine:0.1.0"
    """Image of download and check-size Jobs (runs `aim-download`) when an artifact names none; the
    chart sets it to the operator's own image."""
    activator_url: str = ""
    """The aim-activator's base URL (e.g. http://aim-activator.aim-system.svc.cluster.local:8080),
    set by the chart when it runs one: services with minReplicas 0 get a KEDA trigger on the
    requests it holds for them, which wakes their predictor from zero. Empty: none runs."""
    adapter_reap_interval_seconds: float = 900.0
    """How often a model artifact with an adapter disk removes the subtrees of deleted services
    (also at once when a service with adapters is deleted)."""
    adapter_reap_min_age_seconds: float = 1800.0
    """A subtree younger than this is never reaped: its service may not be listed yet."""
    artifact_status_role: str = "aim-engine-artifact-status-updater"
    """ClusterRole bound (per namespace, to its default service account) so that download pods can
    report progress on their AIMArtifact; the chart installs it."""
    job_pod_annotations: dict[str, str] = {}
    """Annotations for the pods of the Jobs the operator runs (discovery, check-size, download), as
    JSON, e.g. to keep a service mesh sidecar out of them."""
    image_retry_seconds: dict[str, float] = Field(default_factory=lambda: dict(IMAGE_RETRY_SECONDS))
    """How soon a model's image is read again after its registry answered with this error, as JSON
    (`unreachable`, `not-found`, `unauthorized`); the image may be pushed or the registry come back."""
    lease_seconds: int = 15
    """A leader that has not renewed for this long is replaced."""
    lease_retry_seconds: float = 2.0
    webhook_secret: str = ""
    """The Secret (in lease_namespace) holding the chart's self-managed webhook certificate and its
    CA; when set, the leader renews the certificate before it expires."""
    certificate_check_seconds: float = 3600.0
    metrics_port: int = 8080
    """Prometheus metrics (/metrics) on this port; 0 turns them off."""
    health_port: int = 8081
    """kopf's liveness endpoint (/healthz) listens on this port; 0 turns it off."""
    health_host: str = "0.0.0.0"  # noqa: S104 - in a pod the kubelet probes the pod IP
    """Address of the liveness endpoint (127.0.0.1 on the local control plane)."""

"""A download that fails for good: the simulated download pod exits 4 (aim-download's "unauthorized"),
the Job's podFailurePolicy fails it without retries, the artifact is Failed with the reason, and so
are the cache and the service waiting for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.labels import SERVICE_FINALIZER
from devcluster.controlplane import ControlPlane
from devcluster.waiting import wait_until
from tests.builders import condition_or_empty as condition
from tests.conftest import Kubectl, controller_running
from tests.integration.test_caching import items, wait_status
from tests.integration.test_service_controller import ready_model, ready_template, service, wait_service


@pytest.fixture(scope="module", autouse=True)
def controller(control_plane: ControlPlane) -> Iterator[None]:
    failing = {"sim.aim.eai.amd.com/outcome": "Failed", "sim.aim.eai.amd.com/exit-code": "4"}
    with controller_running(control_plane, "controller-failing-downloads", failing):
        yield


def test_a_permanent_download_failure_fails_artifact_cache_and_service(kubectl: Kubectl) -> None:
    ready_model(kubectl, "m")
    ready_template(kubectl, "t", "m", "MI300X")
    kubectl.apply(service("svc", model={"name": "m"}, template={"name": "t"}))
    status = wait_service(kubectl, "svc", lambda s: s.get("status") == "Failed", "the service to fail")
    cache_ready = condition(status["status"], "CacheReady")
    assert cache_ready["reason"] == "CacheFailed"
    assert "exit code 4: unauthorized" in cache_ready["message"]

    [artifact] = items(kubectl, "aimartifacts")
    failed = wait_status(kubectl, "aimartifacts", artifact["metadata"]["name"], "Failed")
    download = condition(failed["status"], "DownloadComplete")
    assert (download["status"], download["reason"]) == ("False", "AuthError")
    assert download["message"] == "exit code 4: unauthorized"
    # As upstream: the Job's and its pod's conditions, and AuthValid from the refused credentials.
    assert (condition(failed["status"], "DownloadJobReady")["reason"]) == "JobFailed"
    assert (condition(failed["status"], "DownloadJobPodsReady")["reason"]) == "AuthError"
    auth = condition(failed["status"], "AuthValid")
    assert (auth["status"], auth["reason"]) == ("False", "AuthError")
    [job] = [j for j in items(kubectl, "jobs") if "download" in j["metadata"]["name"]]
    assert job["status"]["failed"] == 1, "a permanent failure is not retried"
    assert any(c["reason"] == "PodFailurePolicy" for c in job["status"]["conditions"] if c["type"] == "Failed")
    assert not items(kubectl, "inferenceservices.serving.kserve.io")

    # Deleting the service leaves its failed Shared cache abandoned: the cache deletes itself, its
    # finalizer its artifact, the artifact's owner references its volume and Job. Nothing failed
    # is left behind (a Ready cache would stay for reuse: test_caching.py), and the service holds
    # no finalizer of ours, so its own deletion waits for nothing.
    [cache] = items(kubectl, "aimtemplatecaches")
    assert cache["metadata"]["labels"]["aim.eai.amd.com/service"] == "svc"
    svc = kubectl.get_json("aimservices.aim.eai.amd.com", "svc")
    assert not [f for f in svc["metadata"].get("finalizers") or [] if f.startswith("aim.eai.amd.com/")]
    kubectl("delete", "aimservices.aim.eai.amd.com", "svc", "--wait=true", "--timeout=30s")
    wait_until(lambda: not items(kubectl, "aimtemplatecaches"), 30, "the abandoned cache deleted")
    wait_until(lambda: not items(kubectl, "aimartifacts"), 30, "its artifact deleted by the cache's finalizer")
    wait_until(lambda: not items(kubectl, "persistentvolumeclaims"), 30, "the artifact's volume collected")
    events = kubectl.get_json("events", "--field-selector", f"involvedObject.name={cache['metadata']['name']}")
    assert "CacheAbandoned" in {e.get("reason") for e in events["items"]}


def test_a_service_with_upstreams_finalizer_is_cleaned_up_and_released(kubectl: Kubectl) -> None:
    """A service moved over from upstream carries its `template-cache-cleanup` finalizer (this
    controller adds none): deleting it deletes its non-Ready cache, then removes the finalizer."""
    ready_model(kubectl, "m")
    ready_template(kubectl, "t", "m", "MI300X")
    migrated = service("svc", model={"name": "m"}, template={"name": "t"})
    migrated["metadata"]["finalizers"] = [SERVICE_FINALIZER]
    kubectl.apply(migrated)
    wait_service(kubectl, "svc", lambda s: s.get("status") == "Failed", "the service to fail")
    kubectl("delete", "aimservices.aim.eai.amd.com", "svc", "--wait=true", "--timeout=30s")
    wait_until(lambda: not items(kubectl, "aimtemplatecaches"), 30, "the failed cache deleted")
    wait_until(lambda: not items(kubectl, "aimartifacts"), 30, "its artifact deleted by the cache's finalizer")


def test_namespace_deletion_releases_a_service_with_a_failed_cache(
    control_plane: ControlPlane, kubectl: Kubectl, namespace: str
) -> None:
    ready_model(kubectl, "m")
    ready_template(kubectl, "t", "m", "MI300X")
    kubectl.apply(service("svc", model={"name": "m"}, template={"name": "t"}))
    wait_service(kubectl, "svc", lambda s: s.get("status") == "Failed", "the service to fail")
    control_plane.kubectl("delete", "namespace", namespace, "--wait=true", "--timeout=60s")
    assert control_plane.kubectl("get", "namespace", namespace, check=False).returncode != 0

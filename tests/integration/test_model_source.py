"""AIMClusterModelSource against the real API server and a real OCI registry (CNCF distribution on
127.0.0.1, images pushed by crane): the AIMClusterModels a sync creates, maxModels, private
registries with pull Secrets in the operator namespace, wrong credentials, an unreachable
registry, and when a sync happens (spec change, syncInterval; not on every event).

The model controller also reconciles the AIMClusterModels created here (and may read their images
from the registry); nothing here depends on a model's own status.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from controller.catalog.sources import RegistryImage, cluster_model_name
from devcluster.controlplane import ControlPlane, free_port
from devcluster.processes import ManagedProcess
from devcluster.waiting import wait_until
from tests.builders import condition
from tests.conftest import PRIVATE_REGISTRY_PASSWORD, PRIVATE_REGISTRY_USER, Kubectl
from tests.integration.test_helm_chart import render
from tests.registry import Crane, RegistryServer, push_images

V1 = "aim.eai.amd.com/v1alpha1"
SOURCE_LABEL = "aim.eai.amd.com/model-source"
AIM_LABELS = {"com.amd.aim.model.canonicalName": "test/model"}
WRONG_PASSWORD = "not-the-Pa55word-at-all"


@pytest.fixture(scope="module")
def operator_namespace(control_plane: ControlPlane) -> Iterator[str]:
    """The operator namespace of this module's controller: where the sources' pull Secrets live."""
    name = f"aim-ms-{uuid.uuid4().hex[:6]}"
    control_plane.kubectl("create", "namespace", name)
    yield name
    control_plane.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)


@pytest.fixture(scope="module", autouse=True)
def controller(control_plane: ControlPlane, operator_namespace: str) -> Iterator[ManagedProcess]:
    process = control_plane.start_controller("controller-model-source", {"AIM_SYSTEM_NAMESPACE": operator_namespace})
    yield process
    process.stop()


@pytest.fixture(scope="module")
def org(crane: Crane) -> str:
    """<org>/aim-llama 0.8.4 0.9.0 1.0.0-rc1, <org>/aim-qwen 0.9.1, <org>/aim-old 0.9.5 (excluded
    below), <org>/other 1.0.0 (no aim- prefix)."""
    name = f"org-{uuid.uuid4().hex[:6]}"
    push_images(crane, f"{name}/aim-llama", ["0.8.4", "0.9.0", "1.0.0-rc1"], AIM_LABELS)
    push_images(crane, f"{name}/aim-qwen", ["0.9.1"], AIM_LABELS)
    push_images(crane, f"{name}/aim-old", ["0.9.5"], AIM_LABELS)
    push_images(crane, f"{name}/other", ["1.0.0"], AIM_LABELS)
    return name


class Sources:
    """Creates cluster-scoped sources for one test; afterwards deletes them and waits until the
    garbage collector removed their models (the next test may create models of the same names)."""

    def __init__(self, plane: ControlPlane):
        self.kubectl = Kubectl(plane)
        self.names: list[str] = []

    def create(self, registry: str, filters: list[dict[str, Any]], **spec: Any) -> str:
        name = f"src-{uuid.uuid4().hex[:8]}"
        body = {"registry": registry, "filters": filters, **spec}
        self.kubectl.apply(
            {"apiVersion": V1, "kind": "AIMClusterModelSource", "metadata": {"name": name}, "spec": body}
        )
        self.names.append(name)
        return name

    def patch_spec(self, name: str, **spec: Any) -> None:
        self.kubectl("patch", "aimclustermodelsource", name, "--type=merge", "-p", json.dumps({"spec": spec}))

    def get(self, name: str) -> dict[str, Any]:
        return self.kubectl.get_json("aimclustermodelsource", name)

    def models(self, name: str) -> dict[str, dict[str, Any]]:
        found = self.kubectl.get_json("aimclustermodels", "-l", f"{SOURCE_LABEL}={name}")["items"]
        return {m["metadata"]["name"]: m for m in found}

    def wait(self, name: str, what: str, check: Any, timeout: float = 60) -> dict[str, Any]:
        seen: dict[str, Any] = {}

        def probe() -> bool:
            seen.clear()
            seen.update(self.get(name))
            return bool(check(seen.get("status") or {}))

        try:
            wait_until(probe, timeout, f"source {name}: {what}")
        except TimeoutError as error:
            raise AssertionError(f"{error}; last status: {json.dumps(seen.get('status'), indent=1)}") from error
        return seen

    def wait_status(self, name: str, wanted: str, generation: int = 1, timeout: float = 60) -> dict[str, Any]:
        return self.wait(
            name,
            f"{wanted} for generation {generation}",
            lambda s: s.get("status") == wanted and s.get("observedGeneration") == generation,
            timeout,
        )

    def events(self, name: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.kubectl.get_json(
            "events", "-n", "default", "--field-selector", f"involvedObject.name={name}"
        )["items"]
        return found

    def cleanup(self) -> None:
        for name in self.names:
            self.kubectl("delete", "aimclustermodelsource", name, "--ignore-not-found", "--wait=true")
        for name in self.names:
            wait_until(lambda n=name: not self.models(n), 60, f"the models of {name} to be collected")  # type: ignore[misc]


@pytest.fixture
def sources(control_plane: ControlPlane) -> Iterator[Sources]:
    created = Sources(control_plane)
    yield created
    created.cleanup()


def model_name(registry: RegistryServer, repository: str, tag: str) -> str:
    return cluster_model_name(RegistryImage(registry.host, repository, tag))


def holds_for(seconds: float, probe: Callable[[], bool], what: str) -> None:
    """A negative observed over time: `probe` stays true for `seconds` (polled)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert probe(), what
        time.sleep(0.2)


def catalog_requests(registry: RegistryServer, mark: int) -> list[str]:
    return [e.path for e in registry.requests_since(mark) if "/_catalog" in e.path or e.path.endswith("/tags/list")]


def test_wildcard_filter_creates_exactly_the_matching_models_owned_by_the_source(
    sources: Sources, oci_registry: RegistryServer, org: str
) -> None:
    filters = [{"image": f"{org}/aim-*", "exclude": [f"{org}/aim-old"]}]
    name = sources.create(oci_registry.host, filters, versions=[">=0.8.5"])

    source = sources.wait_status(name, "Ready")
    status = source["status"]
    expected = {
        model_name(oci_registry, f"{org}/aim-llama", "0.9.0"): (f"{org}/aim-llama", "0.9.0"),
        model_name(oci_registry, f"{org}/aim-llama", "1.0.0-rc1"): (f"{org}/aim-llama", "1.0.0-rc1"),
        model_name(oci_registry, f"{org}/aim-qwen", "0.9.1"): (f"{org}/aim-qwen", "0.9.1"),
    }
    models = sources.models(name)
    assert set(models) == set(expected)
    for model_id, (repository, tag) in expected.items():
        model = models[model_id]
        assert model["spec"]["image"] == f"{oci_registry.host}/{repository}:{tag}"
        assert "imagePullSecrets" not in model["spec"]
        labels = model["metadata"]["labels"]
        assert (labels[SOURCE_LABEL], labels["aim.eai.amd.com/origin"]) == (name, "auto-generated")
        annotations = model["metadata"]["annotations"]
        assert annotations["aim.eai.amd.com/source-registry"] == oci_registry.host
        assert annotations["aim.eai.amd.com/source-repository"] == repository
        assert annotations["aim.eai.amd.com/source-tag"] == tag
        [owner] = model["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"], owner["uid"]) == (
            "AIMClusterModelSource",
            name,
            source["metadata"]["uid"],
        )
        assert owner["controller"] is True

    assert status["discoveredModels"] == 3
    assert status["modelsLimitReached"] is False
    assert status["lastSyncTime"]
    assert condition(status, "RegistryReachable")["status"] == "True"
    assert condition(status, "AuthValid")["reason"] == "AnonymousAccess"
    assert condition(status, "MaxModelsLimitReached")["status"] == "False"
    assert condition(status, "Ready")["status"] == "True"
    reasons = {e["reason"] for e in wait_until(lambda: sources.events(name) or None, 30, "events")}
    assert {"ModelsCreated", "Synced"} <= reasons

    # The status write, the models' own changes and their status updates are events of their own;
    # none of them is a reason to list the registry again before syncInterval (1h) has passed.
    mark = oci_registry.access_log_mark()
    sources.kubectl("annotate", "aimclustermodelsource", name, "touched=yes")
    holds_for(3, lambda: catalog_requests(oci_registry, mark) == [], "no registry listing after the first sync")
    assert sources.get(name)["status"]["lastSyncTime"] == status["lastSyncTime"]

    # Models leave with their source (garbage collection through the owner reference).
    sources.kubectl("delete", "aimclustermodelsource", name, "--wait=true")
    wait_until(lambda: not sources.models(name), 60, "the models to be collected with their source")


def test_max_models_caps_the_newest_first_and_a_spec_change_lifts_it(
    sources: Sources, oci_registry: RegistryServer, org: str
) -> None:
    name = sources.create(oci_registry.host, [{"image": f"{org}/aim-*"}], versions=[">=0.9"], maxModels=2)

    status = sources.wait_status(name, "Ready")["status"]
    assert set(sources.models(name)) == {
        model_name(oci_registry, f"{org}/aim-llama", "1.0.0-rc1"),
        model_name(oci_registry, f"{org}/aim-llama", "0.9.0"),
    }
    assert status["modelsLimitReached"] is True
    assert status["discoveredModels"] == 2
    limit = condition(status, "MaxModelsLimitReached")
    assert (limit["status"], limit["reason"]) == ("True", "LimitReached")
    assert "maxModels 2 reached" in limit["message"]
    assert "MaxModelsLimitReached" in {e["reason"] for e in sources.events(name)}

    sources.patch_spec(name, maxModels=10)
    status = sources.wait_status(name, "Ready", generation=2)["status"]
    assert status["modelsLimitReached"] is False
    assert len(sources.models(name)) == 4  # + aim-qwen 0.9.1 and aim-old 0.9.5
    assert status["discoveredModels"] == 4


def test_private_registry_with_a_pull_secret_in_the_operator_namespace(
    sources: Sources,
    private_oci_registry: RegistryServer,
    private_crane: Crane,
    control_plane: ControlPlane,
    operator_namespace: str,
    controller: ManagedProcess,
) -> None:
    org = f"priv-{uuid.uuid4().hex[:6]}"
    push_images(private_crane, f"{org}/aim-secret", ["1.0.0"], AIM_LABELS)
    operator = Kubectl(control_plane, operator_namespace)
    operator.apply(private_oci_registry.dockerconfigjson_secret("pull-ok"))
    operator.apply(private_oci_registry.dockerconfigjson_secret("pull-bad", password=WRONG_PASSWORD))
    filters = [{"image": f"{org}/aim-*"}]

    good = sources.create(private_oci_registry.host, filters, imagePullSecrets=[{"name": "pull-ok"}])
    status = sources.wait_status(good, "Ready")["status"]
    auth = condition(status, "AuthValid")
    assert (auth["status"], auth["reason"]) == ("True", "CredentialsAccepted")
    assert '"pull-ok"' in auth["message"]
    [model] = sources.models(good).values()
    assert model["spec"]["image"] == f"{private_oci_registry.host}/{org}/aim-secret:1.0.0"
    assert model["spec"]["imagePullSecrets"] == [{"name": "pull-ok"}]

    bad = sources.create(private_oci_registry.host, filters, imagePullSecrets=[{"name": "pull-bad"}])
    status = sources.wait_status(bad, "Failed")["status"]
    auth = condition(status, "AuthValid")
    assert (auth["status"], auth["reason"]) == ("False", "Unauthorized")
    assert f"refused the credentials of user '{PRIVATE_REGISTRY_USER}'" in auth["message"]
    assert condition(status, "Ready")["reason"] == "Unauthorized"
    assert sources.models(bad) == {}
    events = wait_until(lambda: [e for e in sources.events(bad) if e["reason"] == "Unauthorized"] or None, 30, "event")
    assert events[0]["type"] == "Warning"

    missing = sources.create(private_oci_registry.host, filters, imagePullSecrets=[{"name": "nowhere"}])
    status = sources.wait_status(missing, "Failed")["status"]
    assert 'pull Secret "nowhere" not found' in condition(status, "AuthValid")["message"]
    assert "anonymous access" in condition(status, "AuthValid")["message"]

    # The controller carries on; no password reaches the status, an event or its log.
    assert controller.running()
    written = json.dumps([sources.get(n) for n in (good, bad, missing)]) + json.dumps(sources.events(bad))
    log = controller.log_path.read_text(errors="replace")
    for secret in (PRIVATE_REGISTRY_PASSWORD, WRONG_PASSWORD):
        assert secret not in written
        assert secret not in log

    # A corrected Secret is used on the next sync (here at once, through a spec change).
    operator.apply(private_oci_registry.dockerconfigjson_secret("pull-bad"))
    sources.patch_spec(bad, maxModels=50)
    status = sources.wait_status(bad, "Ready", generation=2)["status"]
    assert condition(status, "AuthValid")["status"] == "True"


def test_an_unreachable_registry_is_degraded_and_named(sources: Sources) -> None:
    host = f"127.0.0.1:{free_port()}"  # nothing listens there
    name = sources.create(host, [{"image": "org/aim-*"}])
    status = sources.wait_status(name, "Degraded")["status"]
    reachable = condition(status, "RegistryReachable")
    assert (reachable["status"], reachable["reason"]) == ("False", "RegistryUnreachable")
    assert host in reachable["message"]
    assert status["lastSyncTime"]


def test_a_new_tag_is_found_by_the_periodic_sync_or_at_once_after_a_spec_change(
    sources: Sources, oci_registry: RegistryServer, crane: Crane
) -> None:
    org = f"fresh-{uuid.uuid4().hex[:6]}"
    push_images(crane, f"{org}/aim-mistral", ["0.9.0"], AIM_LABELS)
    push_images(crane, f"{org}/aim-phi", ["0.9.0"], AIM_LABELS)
    hourly = sources.create(oci_registry.host, [{"image": f"{org}/aim-mistral"}], syncInterval="1h")
    often = sources.create(oci_registry.host, [{"image": f"{org}/aim-phi"}], syncInterval="10s")
    for name in (hourly, often):
        sources.wait_status(name, "Ready")
        assert len(sources.models(name)) == 1

    push_images(crane, f"{org}/aim-mistral", ["1.0.0"], AIM_LABELS)
    push_images(crane, f"{org}/aim-phi", ["1.0.0"], AIM_LABELS)
    new_mistral = model_name(oci_registry, f"{org}/aim-mistral", "1.0.0")
    new_phi = model_name(oci_registry, f"{org}/aim-phi", "1.0.0")

    wait_until(lambda: new_phi in sources.models(often), 40, "the 10s sync to create the new model")
    assert new_mistral not in sources.models(hourly), "the hourly source synced again before its time"

    sources.patch_spec(hourly, versions=[">=0.9"])
    sources.wait_status(hourly, "Ready", generation=2)
    assert set(sources.models(hourly)) == {model_name(oci_registry, f"{org}/aim-mistral", "0.9.0"), new_mistral}


# What the reconciler asks of the API server, as (verb, resource, namespace or "" for all).
MODEL_SOURCE_ACCESS = [
    ("list", "aimclustermodelsources.aim.eai.amd.com", ""),
    ("watch", "aimclustermodelsources.aim.eai.amd.com", ""),
    ("get", "aimclustermodelsources.aim.eai.amd.com", ""),
    ("patch", "aimclustermodelsources.aim.eai.amd.com/status", ""),
    ("list", "aimclustermodels.aim.eai.amd.com", ""),
    ("watch", "aimclustermodels.aim.eai.amd.com", ""),
    ("create", "aimclustermodels.aim.eai.amd.com", ""),
    ("patch", "aimclustermodels.aim.eai.amd.com", ""),
    ("create", "events", "default"),
    ("get", "secrets", "<operator>"),
]


def test_the_chart_grants_the_model_source_reconciler_what_it_uses(
    control_plane: ControlPlane, operator_namespace: str
) -> None:
    """The chart's RBAC objects, applied to the real API server (RBAC authorizer) for a release in
    the operator namespace, allow exactly what the reconciler does, and Secrets only there."""
    documents = [
        d
        for d in render("-n", operator_namespace)
        if d["kind"] in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
    ]
    for document in documents:
        if document["kind"] in ("Role", "RoleBinding"):
            document["metadata"]["namespace"] = operator_namespace
    kubectl = Kubectl(control_plane)
    kubectl.apply("\n".join(json.dumps(d) for d in documents))
    controller_account = f"system:serviceaccount:{operator_namespace}:aim-aim-engine-controller"
    try:

        def allowed(verb: str, resource: str, namespace: str) -> bool:
            scope = ["-n", namespace] if namespace else ["--all-namespaces"]
            resource, _, subresource = resource.partition("/")
            scope += [f"--subresource={subresource}"] if subresource else []
            result = kubectl("auth", "can-i", verb, resource, *scope, "--as", controller_account, check=False)
            return result.stdout.strip() == "yes"

        for verb, resource, namespace in MODEL_SOURCE_ACCESS:
            where = operator_namespace if namespace == "<operator>" else namespace
            assert wait_until(lambda v=verb, r=resource, w=where: allowed(v, r, w), 10, f"{verb} {resource}")  # type: ignore[misc]
        # A namespaced model's pull Secret is read by name in the model's namespace; Secrets are
        # never listed or watched anywhere.
        assert allowed("get", "secrets", "default")
        assert not allowed("list", "secrets", operator_namespace)
        assert not allowed("list", "secrets", "default")
        assert not allowed("watch", "secrets", "")
    finally:
        for document in documents:
            scope = ["-n", operator_namespace] if document["kind"] in ("Role", "RoleBinding") else []
            kubectl("delete", document["kind"].lower(), document["metadata"]["name"], *scope, "--ignore-not-found")

    [deployment] = [d for d in render() if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-controller")]
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["AIM_SYSTEM_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}

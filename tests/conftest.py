"""Shared fixtures. Tests under tests/integration run against the real local control plane,
started once per session (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok)."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from devcluster.binaries import registry_binaries, third_party_crds
from devcluster.controlplane import ControlPlane, ControlPlaneOptions
from devcluster.logrouter import log_file_for, write_log_file
from devcluster.nodes import FakeNode
from tests.registry import Crane, RegistryServer, run_registry

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.path).replace("\\", "/")
        if "tests/integration/" in path:
            item.add_marker(pytest.mark.cluster)
        if "tests/realnode/" in path:
            item.add_marker(pytest.mark.cluster)
            item.add_marker(pytest.mark.realnode)


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    workdir = tmp_path_factory.mktemp("controlplane")
    plane = ControlPlane(
        ControlPlaneOptions(workdir=workdir, crd_paths=sorted((REPO_ROOT / "crds").glob("*.yaml")) + third_party_crds())
    )
    with plane:
        yield plane


class Kubectl:
    """The real kubectl, pointed at the session's control plane."""

    def __init__(self, plane: ControlPlane, namespace: str | None = None):
        self.plane = plane
        self.namespace = namespace

    def __call__(
        self, *args: str, input_text: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        ns = ["-n", self.namespace] if self.namespace else []
        return self.plane.kubectl(*ns, *args, input_text=input_text, check=check, timeout=timeout)

    def apply(
        self, manifest: dict[str, Any] | str, *extra: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        # JSON, not YAML: PyYAML and kubectl disagree on scalars such as 1e100 or "n".
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        return self("apply", *extra, "-f", "-", input_text=text, check=check)

    def get_json(self, *args: str) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self("get", *args, "-o", "json").stdout)
        return result


@pytest.fixture
def kubectl(control_plane: ControlPlane, namespace: str) -> Kubectl:
    return Kubectl(control_plane, namespace)


@pytest.fixture
def namespace(control_plane: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    # Short enough to leave KServe room for {service}-predictor-{namespace} (63 characters).
    name = f"t-{request.node.name[:20].lower().replace('_', '-').strip('-')}-{uuid.uuid4().hex[:5]}"
    name = "".join(c for c in name if c.isalnum() or c == "-")
    control_plane.kubectl("create", "namespace", name)
    yield name
    control_plane.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)


class FakeNodes:
    """Add, relabel and remove simulated nodes during a test; the test's nodes go away after it."""

    def __init__(self, plane: ControlPlane):
        self.plane = plane
        self.added: list[str] = []

    def add(self, node: FakeNode) -> FakeNode:
        self.plane.add_nodes([node])
        self.added.append(node.name)
        return node

    def label(self, name: str, labels: dict[str, str | None]) -> None:
        args = [f"{k}-" if v is None else f"{k}={v}" for k, v in labels.items()]
        self.plane.kubectl("label", "node", name, "--overwrite", *args)

    def remove(self, name: str) -> None:
        self.plane.kubectl("delete", "node", name, "--ignore-not-found")
        self.plane.nodes = [n for n in self.plane.nodes if n.name != name]
        if name in self.added:
            self.added.remove(name)

    def cleanup(self) -> None:
        for name in list(self.added):
            self.remove(name)


@pytest.fixture
def fake_nodes(control_plane: ControlPlane) -> Iterator[FakeNodes]:
    nodes = FakeNodes(control_plane)
    yield nodes
    nodes.cleanup()


@pytest.fixture
def pod_logs(control_plane: ControlPlane) -> Callable[[str, str, str], Path]:
    """Prepare what `kubectl logs` returns for the pods of a Job (or a bare pod) by name."""

    def prepare(namespace: str, job_or_pod: str, text: str) -> Path:
        path = log_file_for(control_plane.pod_logs_root, namespace, job_or_pod, {})
        write_log_file(path, text)
        return path

    return prepare


@pytest.fixture(scope="module")
def controller(control_plane: ControlPlane) -> Iterator[None]:
    """The AIM Engine controller, per test module (a module may also run its own instead)."""
    process = control_plane.start_controller()
    yield
    process.stop()


@contextmanager
def controller_running(
    control_plane: ControlPlane, name: str, job_pod_annotations: dict[str, str], **settings: str
) -> Iterator[None]:
    """A module's own controller: the simulated outcome of its Jobs' pods is chosen by annotation
    (devcluster/kwok.py), other settings as AIM_CONTROLLER_<NAME> variables."""
    env = {"AIM_CONTROLLER_JOB_POD_ANNOTATIONS": json.dumps(job_pod_annotations)}
    env |= {f"AIM_CONTROLLER_{key.upper()}": value for key, value in settings.items()}
    process = control_plane.start_controller(name, env)
    try:
        yield
    finally:
        process.stop()


# --- OCI registry (tests/registry.py): a real distribution registry on 127.0.0.1, crane to push ---

PRIVATE_REGISTRY_USER = "aim-puller"
PRIVATE_REGISTRY_PASSWORD = "s3cret-Pa55-for-tests"


@pytest.fixture(scope="session")
def oci_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """An anonymous registry (push and pull without credentials), one per test session."""
    with run_registry(registry_binaries(), tmp_path_factory.mktemp("oci-registry")) as server:
        yield server


@pytest.fixture(scope="session")
def private_oci_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A registry behind htpasswd basic auth (PRIVATE_REGISTRY_USER / PRIVATE_REGISTRY_PASSWORD)."""
    workdir = tmp_path_factory.mktemp("private-oci-registry")
    with run_registry(registry_binaries(), workdir, (PRIVATE_REGISTRY_USER, PRIVATE_REGISTRY_PASSWORD)) as server:
        yield server


@pytest.fixture(scope="session")
def crane(oci_registry: RegistryServer, tmp_path_factory: pytest.TempPathFactory) -> Crane:
    """Pushes images to `oci_registry`."""
    return Crane(registry_binaries().crane, oci_registry, tmp_path_factory.mktemp("crane"))


@pytest.fixture(scope="session")
def private_crane(private_oci_registry: RegistryServer, tmp_path_factory: pytest.TempPathFactory) -> Crane:
    """Pushes images to `private_oci_registry` (logged in)."""
    return Crane(registry_binaries().crane, private_oci_registry, tmp_path_factory.mktemp("private-crane"))


@pytest.fixture(scope="session")
def token_oci_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A registry that wants bearer tokens from its own token service (`.tokens`), which issues them
    for PRIVATE_REGISTRY_USER / PRIVATE_REGISTRY_PASSWORD: the scheme of Docker Hub, GHCR, Harbor."""
    workdir = tmp_path_factory.mktemp("token-oci-registry")
    credentials = (PRIVATE_REGISTRY_USER, PRIVATE_REGISTRY_PASSWORD)
    with run_registry(registry_binaries(), workdir, credentials, token_auth=True) as server:
        yield server


@pytest.fixture(scope="session")
def token_crane(token_oci_registry: RegistryServer, tmp_path_factory: pytest.TempPathFactory) -> Crane:
    """Pushes images to `token_oci_registry` (logged in)."""
    return Crane(registry_binaries().crane, token_oci_registry, tmp_path_factory.mktemp("token-crane"))

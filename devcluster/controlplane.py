"""Start and stop the local control plane.

Order: PKI → etcd → kube-apiserver (wait /readyz) → kubeconfig → kube-controller-manager,
kube-scheduler, kwok (simulated nodes) → CRDs. Everything listens on 127.0.0.1 on free ports.
Stop is the reverse, each child by its own process group.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from kubernetes import client, config

from certs import new_certificate_authority, new_signing_key_pem, public_key_pem
from devcluster import binaries, hostnet, images, keda, kserve, kwok, registration
from devcluster.logrouter import LogRouter
from devcluster.nodes import FakeNode, load_node_set
from devcluster.processes import ManagedProcess
from devcluster.realnode import NODE_NAME as REAL_NODE_NAME
from devcluster.realnode import REGISTRY as REAL_NODE_REGISTRY
from devcluster.realnode import RealNode, RealNodeOptions
from devcluster.volumes import VolumeProvisioner
from devcluster.waiting import StopWaitingError, wait_until

LOOPBACK = "127.0.0.1"
FRONT_PROXY_CLIENT = "front-proxy-client"
SERVICE_CIDR = "10.0.0.0/24"
POD_CIDR = "10.244.0.0/16"


def free_ports(count: int) -> list[int]:
    """Distinct free ports: all sockets stay bound until every port is chosen, so the kernel
    cannot hand the same port out twice (two `bind(0)` calls in a row can)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind((LOOPBACK, 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port() -> int:
    return free_ports(1)[0]


@dataclass
class ControlPlaneOptions:
    workdir: Path
    simulate_nodes: bool = True
    nodes: list[FakeNode] | None = None
    crd_paths: list[Path] = field(default_factory=list)
    start_webhooks: bool = True
    start_controller: bool = False
    """Run `python -m controller` too (needs the CRDs in crd_paths)."""
    start_kserve: bool = False
    """Run KServe's controller (raw-deployment mode; needs the simulated cluster's controllers)."""
    apiserver_args: list[str] = field(default_factory=list)
    """Extra kube-apiserver flags (e.g. `--watch-cache=false` for a benchmark's worst case)."""
    start_timeout: float = 120.0
    real_node: RealNodeOptions | None = None
    """Add a real node (containerd, kubelet, kube-proxy, CoreDNS; needs root). The API server then
    listens on the node's address instead of 127.0.0.1, so that pods reach it through the
    `kubernetes` Service, and Services take their addresses from 198.19.0.0/24."""


@dataclass
class Pki:
    directory: Path

    def path(self, name: str) -> str:
        return str(self.directory / name)

    def create(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        ca = new_certificate_authority("aim-devcluster-ca")
        self.ca = ca
        ca.certificate.write(self.directory / "ca.crt", self.directory / "ca.key")
        # Every name and address a client may use: host processes, and pods through the
        # `kubernetes` Service (by name or ClusterIP) when a real node runs.
        names = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"]
        names.append("kubernetes.default.svc.cluster.local")
        addresses = [LOOPBACK, "10.0.0.1", hostnet.NODE_IP, hostnet.KUBERNETES_SERVICE_IP]
        ca.issue_server("kube-apiserver", names, addresses).write(
            self.directory / "apiserver.crt", self.directory / "apiserver.key"
        )
        # kwok serves the kubelet API; the apiserver verifies it with the same CA.
        ca.issue_server("kwok-kubelet", ["localhost"], [LOOPBACK]).write(
            self.directory / "kubelet.crt", self.directory / "kubelet.key"
        )
        ca.issue_server("aim-webhooks", ["localhost"], [LOOPBACK]).write(
            self.directory / "webhook.crt", self.directory / "webhook.key"
        )
        ca.issue_client("admin", ["system:masters"]).write(self.directory / "admin.crt", self.directory / "admin.key")
        # The aggregation layer's client certificate towards extension API servers (KEDA's adapter).
        ca.issue_client(FRONT_PROXY_CLIENT, []).write(
            self.directory / "front-proxy-client.crt", self.directory / "front-proxy-client.key"
        )
        ca.issue_client("kube-apiserver-kubelet-client", ["system:masters"]).write(
            self.directory / "apiserver-kubelet-client.crt", self.directory / "apiserver-kubelet-client.key"
        )
        sa_key = new_signing_key_pem()
        (self.directory / "sa.key").write_bytes(sa_key)
        (self.directory / "sa.key").chmod(0o600)
        (self.directory / "sa.pub").write_bytes(public_key_pem(sa_key))


def write_kubeconfig(path: Path, server: str, pki: Pki) -> None:
    import base64

    def b64(name: str) -> str:
        return base64.b64encode((pki.directory / name).read_bytes()).decode()

    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "aim-local", "cluster": {"server": server, "certificate-authority-data": b64("ca.crt")}}],
        "users": [
            {
                "name": "aim-admin",
                "user": {"client-certificate-data": b64("admin.crt"), "client-key-data": b64("admin.key")},
            }
        ],
        "contexts": [{"name": "aim-local", "context": {"cluster": "aim-local", "user": "aim-admin"}}],
        "current-context": "aim-local",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(yaml.safe_dump(kubeconfig, sort_keys=False))


class ControlPlane:
    def __init__(self, options: ControlPlaneOptions):
        self.options = options
        self.workdir = options.workdir
        self.pki = Pki(self.workdir / "pki")
        self.kubeconfig = self.workdir / "kubeconfig"
        self.logs_dir = self.workdir / "logs"
        self.pod_logs_root = self.workdir / "pod-logs"
        self.bin_dir = binaries.ensure_binaries(binaries.CLUSTER if options.simulate_nodes else binaries.CORE)
        self.processes: list[ManagedProcess] = []
        self.api_port = 0
        self.server = ""
        self.nodes: list[FakeNode] = []
        self.webhook_url = ""
        self._log_router: LogRouter | None = None
        self._volumes: VolumeProvisioner | None = None
        self._api_client: client.ApiClient | None = None
        self.real_node: RealNode | None = None
        # With a real node, pods must reach the API server: it listens on the node's address.
        self.host = hostnet.NODE_IP if options.real_node else LOOPBACK
        self.service_cidr = hostnet.SERVICE_CIDR if options.real_node else SERVICE_CIDR

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.pki.create()
        try:
            if self.options.real_node:
                self.real_node = RealNode(
                    self.workdir / "real-node", self.pki.ca, "", self.kubectl, self.env(), self.options.real_node
                )
                self.real_node.prepare_host()
            self._start_etcd()
            self._start_apiserver()
            write_kubeconfig(self.kubeconfig, self.server, self.pki)
            if self.options.simulate_nodes:
                self._start_cluster_components()
            if self.real_node is not None:
                self.real_node.server = self.server
                self.real_node.env = self.env()
                self.real_node.start()
                self.processes += self.real_node.processes
            if self.options.crd_paths:
                self.apply_manifests(self.options.crd_paths, server_side=True)
                self.wait_crds_established()
            if self.options.start_webhooks:
                self._start_webhooks()
            if self.options.start_kserve:
                self.start_kserve()
            if self.options.start_controller:
                self.start_controller()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.real_node is not None:  # its pods and processes go while the API server still answers
            self.real_node.stop()
            self.real_node = None
        if self._log_router is not None:
            self._log_router.stop()
            self._log_router = None
        if self._volumes is not None:
            self._volumes.stop()
            self._volumes = None
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- helpers for callers -----------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """Environment for clients of this control plane (kubectl, controller, tests)."""
        env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy")}
        env["KUBECONFIG"] = str(self.kubeconfig)
        env["NO_PROXY"] = f"127.0.0.1,localhost,{hostnet.NODE_IP},{hostnet.TEST_RANGE}"
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        return env

    def kubectl(
        self, *args: str, input_text: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin_dir / "kubectl"), *args],
            input=input_text,
            capture_output=True,
            text=True,
            env=self.env(),
            check=check,
            timeout=timeout,
        )

    def api_client(self) -> client.ApiClient:
        if self._api_client is None:
            self._api_client = config.new_client_from_config(str(self.kubeconfig))
        return self._api_client

    def apply_manifests(self, paths: list[Path], server_side: bool = False) -> None:
        args = ["apply"] + (["--server-side", "--force-conflicts"] if server_side else [])
        for path in paths:
            args += ["-f", str(path)]
        self.kubectl(*args)

    def wait_crds_established(self, timeout: float = 60) -> None:
        """Until every CRD reports Established. Polled rather than `kubectl wait --all`, which
        gives up at the first error (a CRD still being written, a discovery refresh) and then
        says nothing about which CRD was not ready."""

        def pending() -> list[str]:
            crds = json.loads(self.kubectl("get", "crd", "-o", "json").stdout)["items"]
            return [
                crd["metadata"]["name"]
                for crd in crds
                if not any(
                    c.get("type") == "Established" and c.get("status") == "True"
                    for c in (crd.get("status") or {}).get("conditions") or []
                )
            ]

        last: list[str] = []

        def established() -> bool:
            last[:] = pending()
            return not last

        try:
            wait_until(established, timeout, "every CRD to be Established", interval=0.2)
        except TimeoutError as error:
            raise TimeoutError(f"{error}; not Established: {', '.join(last)}") from error

    def readyz(self) -> bool:
        context = ssl.create_default_context(cafile=self.pki.path("ca.crt"))
        with urllib.request.urlopen(f"{self.server}/readyz", context=context, timeout=5) as response:  # noqa: S310
            return bool(response.status == 200 and response.read().strip() == b"ok")

    def add_nodes(self, nodes: list[FakeNode]) -> None:
        docs = "---\n".join(yaml.safe_dump(n.manifest()) for n in nodes)
        self.kubectl("apply", "-f", "-", input_text=docs)
        self.nodes += nodes
        for node in nodes:
            self._wait_node_ready(node.name)

    @staticmethod
    def restart(process: ManagedProcess) -> None:
        """Start an exited process again with the same command, environment and log."""
        process.start()

    def describe(self) -> dict[str, object]:
        return {
            "server": self.server,
            "kubeconfig": str(self.kubeconfig),
            "processes": {p.name: p.pid for p in self.processes if p.running()},
            "nodes": [n.name for n in self.nodes],
            **({"realNode": self.real_node.describe()} if self.real_node else {}),
        }

    # -- components --------------------------------------------------------------------------

    def _spawn(
        self,
        name: str,
        argv: list[str],
        ready: object,
        timeout: float | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> ManagedProcess:
        process = ManagedProcess(name, argv, self.logs_dir / f"{name}.log", env=self.env() | (extra_env or {}))
        process.start()
        self.processes.append(process)

        def probe() -> bool:
            if not process.running():
                raise StopWaitingError(f"{name} exited with {process.exit_code()}:\n{process.log_tail()}")
            return bool(ready())  # type: ignore[operator]

        try:
            wait_until(probe, timeout or self.options.start_timeout, f"{name} to become ready")
        except TimeoutError as error:
            raise TimeoutError(f"{error}\n--- {name} log tail ---\n{process.log_tail()}") from error
        return process

    def _start_etcd(self) -> None:
        client_port, peer_port = free_ports(2)
        self.etcd_url = f"http://{LOOPBACK}:{client_port}"
        peer = f"http://{LOOPBACK}:{peer_port}"
        argv = [
            str(self.bin_dir / "etcd"),
            "--name=local",
            f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls={self.etcd_url}",
            f"--advertise-client-urls={self.etcd_url}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=local={peer}",
            "--unsafe-no-fsync=true",
            "--log-level=warn",
            "--quota-backend-bytes=2147483648",
        ]

        def healthy() -> bool:
            with urllib.request.urlopen(f"{self.etcd_url}/health", timeout=2) as response:  # noqa: S310
                return bool(json.loads(response.read()).get("health") == "true")

        self._spawn("etcd", argv, healthy, timeout=30)

    def _start_apiserver(self) -> None:
        self.api_port = free_port()
        self.server = f"https://{self.host}:{self.api_port}"
        p = self.pki.path
        argv = [
            str(self.bin_dir / "kube-apiserver"),
            f"--etcd-servers={self.etcd_url}",
            f"--bind-address={self.host}",
            f"--advertise-address={self.host}",
            f"--secure-port={self.api_port}",
            f"--tls-cert-file={p('apiserver.crt')}",
            f"--tls-private-key-file={p('apiserver.key')}",
            f"--client-ca-file={p('ca.crt')}",
            f"--service-account-issuer=https://{LOOPBACK}:{self.api_port}",
            f"--service-account-key-file={p('sa.pub')}",
            f"--service-account-signing-key-file={p('sa.key')}",
            "--authorization-mode=Node,RBAC",
            f"--service-cluster-ip-range={self.service_cidr}",
            "--allow-privileged=true",
            # kubelet API (kwok) on 127.0.0.1, verified against our CA.
            "--kubelet-preferred-address-types=InternalIP",
            f"--kubelet-certificate-authority={p('ca.crt')}",
            f"--kubelet-client-certificate={p('apiserver-kubelet-client.crt')}",
            f"--kubelet-client-key={p('apiserver-kubelet-client.key')}",
            "--profiling=false",
            "--v=1",
            # The aggregation layer, for extension API servers such as KEDA's metrics adapter: they
            # trust requests signed by this client certificate and read the user from its headers.
            f"--requestheader-client-ca-file={p('ca.crt')}",
            f"--requestheader-allowed-names={FRONT_PROXY_CLIENT}",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={p('front-proxy-client.crt')}",
            f"--proxy-client-key-file={p('front-proxy-client.key')}",
        ]
        if not self.options.real_node:
            # Loopback addresses are not valid Endpoints; with a real node the `kubernetes`
            # Service must point at the API server's real address for pods to reach it.
            argv.append("--endpoint-reconciler-type=none")
        if not self.options.simulate_nodes:
            # No controller manager creates the default ServiceAccount, so pods could never be admitted.
            argv.append("--disable-admission-plugins=ServiceAccount")
        argv += self.options.apiserver_args
        self._spawn("kube-apiserver", argv, self.readyz)

    def _start_cluster_components(self) -> None:
        kubeconfig = str(self.kubeconfig)
        auth = [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--leader-elect=false",
            f"--bind-address={LOOPBACK}",
        ]
        kcm_port = free_port()
        self._spawn(
            "kube-controller-manager",
            [
                str(self.bin_dir / "kube-controller-manager"),
                *auth,
                f"--secure-port={kcm_port}",
                f"--service-account-private-key-file={self.pki.path('sa.key')}",
                f"--root-ca-file={self.pki.path('ca.crt')}",
                "--use-service-account-credentials=false",
                # kwok keeps node leases fresh; node IPAM is unused (kwok assigns pod IPs).
                "--controllers=*,-node-ipam-controller,-cloud-node-lifecycle-controller",
                f"--cluster-cidr={POD_CIDR}",
                f"--service-cluster-ip-range={self.service_cidr}",
                "--concurrent-gc-syncs=5",
                # The HPA controller (KEDA's HPAs) decides every 5 s instead of 15: a local
                # cluster's autoscaling shows within seconds.
                "--horizontal-pod-autoscaler-sync-period=5s",
                "--v=1",
            ],
            self._health_probe(kcm_port),
        )
        sched_port = free_port()
        self._spawn(
            "kube-scheduler",
            [
                str(self.bin_dir / "kube-scheduler"),
                *auth,
                f"--secure-port={sched_port}",
                "--v=1",
            ],
            self._health_probe(sched_port),
        )

        kwok_dir = binaries.go_module_dir(f"sigs.k8s.io/kwok@{kwok.KWOK_VERSION}")
        self.apply_manifests(kwok.crd_files(kwok_dir), server_side=True)
        self.wait_crds_established()
        stages = self.workdir / "kwok-stages.yaml"
        stages.write_text(kwok.stage_config(kwok_dir))
        kwok_port = free_port()
        self._spawn(
            "kwok",
            [
                str(self.bin_dir / "kwok"),
                f"--kubeconfig={kubeconfig}",
                f"--config={stages}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                f"--node-ip={LOOPBACK}",
                f"--node-port={kwok_port}",
                f"--cidr={POD_CIDR}",
                f"--server-address={LOOPBACK}:{kwok_port}",
                f"--tls-cert-file={self.pki.path('kubelet.crt')}",
                f"--tls-private-key-file={self.pki.path('kubelet.key')}",
                "--enable-crds=Logs",
                "--node-lease-duration-seconds=40",
                "--v=WARN",
            ],
            self._tcp_probe(kwok_port),
        )

        real_nodes = frozenset([REAL_NODE_NAME]) if self.options.real_node else frozenset()
        self._log_router = LogRouter(self.api_client(), self.pod_logs_root, real_nodes)
        self._log_router.start()
        self._volumes = VolumeProvisioner(self.api_client(), self.workdir / "volumes")
        self._volumes.start()
        self._wait_default_service_account()
        self.add_nodes(self.options.nodes if self.options.nodes is not None else load_node_set())

    def start_controller(self, name: str = "controller", env: dict[str, str] | None = None) -> ManagedProcess:
        """The AIM Engine controller against this control plane; ready once kopf answers /healthz."""
        port = free_port()

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/healthz", timeout=2) as response:
                    return bool(response.status == 200)
            except OSError:
                return False

        return self._spawn(
            name,
            [sys.executable, "-m", "controller"],
            healthy,
            extra_env={
                "AIM_CONTROLLER_HEALTH_PORT": str(port),
                "AIM_CONTROLLER_HEALTH_HOST": LOOPBACK,
                "AIM_CONTROLLER_METRICS_PORT": str(free_port()),
            }
            | (env or {}),
        )

    def service_account_kubeconfig(self, name: str) -> Path:
        """A kubeconfig that authenticates as a controller in a cluster does, with a ServiceAccount's
        token (`kube-system/<name>`, bound to cluster-admin), instead of the admin client
        certificate, which the API server verifies anew on every request: 9 % of its CPU in a
        1,000-service rollout (docs/performance.md). For benchmarks of a controller's load."""
        self.kubectl("create", "serviceaccount", name, "-n", "kube-system")
        self.kubectl(
            "create", "clusterrolebinding", name, "--clusterrole=cluster-admin", f"--serviceaccount=kube-system:{name}"
        )
        token = self.kubectl("create", "token", name, "-n", "kube-system", "--duration=2h").stdout.strip()
        path = self.workdir / f"{name}.kubeconfig"
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "local", "cluster": {"server": self.server, "certificate-authority": self.pki.path("ca.crt")}}
            ],
            "users": [{"name": name, "user": {"token": token}}],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": name}}],
            "current-context": "local",
        }
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        path.chmod(0o600)
        return path

    def start_process(
        self, name: str, argv: list[str], ready: object, extra_env: dict[str, str] | None = None
    ) -> ManagedProcess:
        """Another process supervised with the control plane's own: its log beside theirs, stopped
        with them (e.g. the upstream operator in bench.upstream); ready once `ready()` is true."""
        return self._spawn(name, argv, ready, extra_env=extra_env)

    def start_kserve(self) -> ManagedProcess:
        """KServe's controller in raw-deployment mode (devcluster/kserve.py): its CRDs and
        ConfigMap, then the manager; ready once its webhook server answers /healthz."""
        module_dir = binaries.go_module_dir(kserve.MODULE)
        self.apply_manifests(kserve.crd_files(module_dir), server_side=True)
        self.wait_crds_established()
        self.kubectl("create", "namespace", kserve.NAMESPACE, check=False)
        self.kubectl(
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            "-",
            input_text=json.dumps(kserve.config_map(module_dir)),
        )
        tmpdir = self.workdir / "kserve-tmp"
        kserve.serving_cert_dir(tmpdir, Path(self.pki.path("webhook.crt")), Path(self.pki.path("webhook.key")))
        metrics_port, probe_port, webhook_port = free_ports(3)

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://{LOOPBACK}:{probe_port}/healthz", timeout=2) as response:
                    return bool(response.status == 200)
            except OSError:
                return False

        return self._spawn(
            "kserve",
            [str(binaries.kserve_binary()), *kserve.manager_args(metrics_port, probe_port, webhook_port)],
            healthy,
            extra_env={"POD_NAMESPACE": kserve.NAMESPACE, "TMPDIR": str(tmpdir)},
        )

    def start_keda(self, timeout: float = 180) -> None:
        """KEDA's operator and metrics adapter as pods on the real node (devcluster/keda.py): the
        CRDs, the image pushed to the node's registry, the manifests; ready once both Deployments
        are available and the API server reports external.metrics.k8s.io Available."""
        if self.real_node is None:
            raise RuntimeError("KEDA runs as pods: start the control plane with a real node")
        module_dir = binaries.go_module_dir(keda.MODULE)
        self.apply_manifests(keda.crd_files(module_dir), server_side=True)
        self.wait_crds_established()
        image = images.built_image(images.KEDA)
        reference = f"{REAL_NODE_REGISTRY}/aim-engine/{images.KEDA}:{image.tag}"
        images.push(image, reference)
        certificate = self.pki.ca.issue_server("keda", keda.certificate_names(), [], also_client=True)
        objects = keda.manifests(
            reference,
            self.pki.ca.cert_pem,
            certificate.cert_pem,
            certificate.key_pem,
            {"kubernetes.io/hostname": REAL_NODE_NAME},
        )
        self.kubectl(
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            "-",
            input_text=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}),
        )
        for name in (keda.OPERATOR, keda.ADAPTER):
            self.kubectl(
                "-n",
                keda.NAMESPACE,
                "rollout",
                "status",
                f"deployment/{name}",
                f"--timeout={int(timeout)}s",
                timeout=timeout + 10,
            )
        self.kubectl(
            "wait",
            "--for=condition=Available",
            f"apiservice/{keda.EXTERNAL_METRICS_API_SERVICE}",
            f"--timeout={int(timeout)}s",
            timeout=timeout + 10,
        )

    def _start_webhooks(self) -> None:
        port = free_port()
        self.webhook_url = f"https://{LOOPBACK}:{port}"
        context = ssl.create_default_context(cafile=self.pki.path("ca.crt"))

        def healthy() -> bool:
            with urllib.request.urlopen(f"{self.webhook_url}/healthz", context=context, timeout=2) as response:  # noqa: S310
                return bool(response.status == 200)

        self._spawn(
            "webhooks",
            [
                sys.executable,
                "-m",
                "webhooks",
                f"--host={LOOPBACK}",
                f"--port={port}",
                f"--cert-file={self.pki.path('webhook.crt')}",
                f"--key-file={self.pki.path('webhook.key')}",
                # The webhook renews its own certificate from the local CA before it expires.
                f"--ca-cert-file={self.pki.path('ca.crt')}",
                f"--ca-key-file={self.pki.path('ca.key')}",
            ],
            healthy,
        )
        ca_pem = (self.pki.directory / "ca.crt").read_bytes()
        crds = registration.multi_version_crds(self.options.crd_paths)
        if crds:
            registration.register_conversion(self.kubectl, crds, self.webhook_url, ca_pem)
            self._wait_conversion_live()
        if self.options.crd_paths:
            configurations = registration.admission_configurations(self.webhook_url, ca_pem, self.options.crd_paths)
            self.kubectl("apply", "-f", "-", input_text="\n---\n".join(json.dumps(c) for c in configurations))
            self._wait_admission_live()

    def _wait_admission_live(self) -> None:
        """Configurations are picked up asynchronously: dry-run an object only the webhook refuses."""
        probe = json.dumps(registration.ADMISSION_PROBE)

        def live() -> bool:
            result = self.kubectl("create", "--dry-run=server", "-f", "-", input_text=probe, check=False)
            return result.returncode != 0 and "must match ^[A-Z0-9_]+$" in result.stderr

        wait_until(live, 60, "the admission webhooks to be in use")

    def _wait_conversion_live(self) -> None:
        """The API server picks up a CRD's new conversion config asynchronously: write an object
        through v1alpha1 until a v1alpha1-only field survives storage in v1alpha2."""
        probe = registration.CONVERSION_PROBE

        def live() -> bool:
            self.kubectl("apply", "-f", "-", input_text=json.dumps(probe))
            stored = json.loads(
                self.kubectl(
                    "get",
                    "aimservices.v1alpha1.aim.eai.amd.com",
                    "-n",
                    "default",
                    probe["metadata"]["name"],
                    "-o",
                    "json",
                ).stdout
            )
            if stored["spec"].get("routing", {}).get("routeTemplate") == "/probe":
                return True
            self.kubectl(
                "delete",
                "aimservices.v1alpha1.aim.eai.amd.com",
                "-n",
                "default",
                probe["metadata"]["name"],
                "--wait=false",
            )
            return False

        wait_until(live, 60, "the conversion webhook to be in use")
        self.kubectl("delete", "aimservices.v1alpha2.aim.eai.amd.com", "-n", "default", probe["metadata"]["name"])

    def _health_probe(self, port: int) -> object:
        def probe() -> bool:
            context = ssl._create_unverified_context()  # noqa: S323 - self-signed component cert
            url = f"https://{LOOPBACK}:{port}/healthz"
            with urllib.request.urlopen(url, context=context, timeout=2) as response:
                return bool(response.status == 200)

        return probe

    @staticmethod
    def _tcp_probe(port: int) -> object:
        def probe() -> bool:
            with socket.create_connection((LOOPBACK, port), timeout=1):
                return True

        return probe

    def _wait_default_service_account(self) -> None:
        core = client.CoreV1Api(self.api_client())
        wait_until(
            lambda: core.read_namespaced_service_account("default", "default"),
            60,
            "the default ServiceAccount (service-account controller)",
        )

    def _wait_node_ready(self, name: str) -> None:
        core = client.CoreV1Api(self.api_client())

        def ready() -> bool:
            node = core.read_node(name)
            return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])

        wait_until(ready, 60, f"simulated node {name} to be Ready")

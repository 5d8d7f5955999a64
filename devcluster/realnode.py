"""A real node in the local control plane: containerd + runc + kubelet + kube-proxy, CoreDNS, and a
loopback registry that containerd pulls from. Containers really run here, unlike on kwok's nodes.

The node is labelled as an AMD GPU node and advertises `amd.com/gpu` as an extended resource, so
the operator's pods schedule onto it as onto a GPU server; nothing on it uses a GPU. It needs root
and the packages of `hack/install-node-packages.sh`; `unavailable_reason()` says what is missing.
Fixed ports below the ephemeral range (32768-60999), so nothing races the tests' `bind(0)` picks.
Only one real node runs on a machine at a time (a lock file says so).
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from certs import CertificateAuthority
from devcluster import binaries, hostnet, images
from devcluster.hostnet import CLUSTER_DNS_IP, NODE_IP, POD_CIDR, POD_GATEWAY, HostNetwork
from devcluster.nodes import GPU_MODELS
from devcluster.processes import ManagedProcess
from devcluster.waiting import StopWaitingError, wait_until

NODE_NAME = "real-node-0"
REGISTRY = "127.0.0.1:25000"
"""The loopback registry (CNCF distribution) the kubelet pulls the project's images from."""
KUBELET_PORT = 10250
KUBELET_HEALTHZ_PORT = 20248
PROXY_HEALTHZ_PORT = 20256
PROXY_METRICS_PORT = 20249
CRI_STREAM_PORT = 20010
LOCK_FILE = Path("/run/aim-engine-real-node.lock")
TOOLS = ("containerd", "containerd-shim-runc-v2", "runc", "ctr", "iptables", "conntrack", "skopeo", "buildah")
CNI_DIR = Path("/usr/lib/cni")
CNI_PLUGINS = ("bridge", "host-local", "loopback")
HOST_PATHS = (Path("/var/log/containers"), Path("/var/log/pods"), Path("/run/containerd"), Path("/var/lib/cni"))
"""Directories the kubelet, containerd or CNI create outside the work directory whatever they are told."""


def unavailable_reason() -> str | None:
    """Why a real node cannot run on this machine, or None when it can."""
    if os.geteuid() != 0:
        return "the real node needs root (containerd, the kubelet and iptables); run as root"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    missing += [f"CNI plugin {p}" for p in CNI_PLUGINS if not (CNI_DIR / p).exists()]
    if missing:
        return f"missing {', '.join(missing)}: run hack/install-node-packages.sh as root"
    if not hostnet.CGROUP_MOUNT.is_dir():
        return "no cgroup file system at /sys/fs/cgroup"
    return None


@dataclass
class RealNodeOptions:
    gpu_model: str = "MI210"
    """The AMD GPU the node is labelled with. MI210 ranks below the simulated nodes' models, so
    auto-selected templates keep preferring those; name it in a template to land on this node."""
    gpu_count: int = 8
    push_images: tuple[str, ...] = (images.PROJECT, images.MODEL_SERVER, images.REDIS)
    """Images pushed to the registry at start-up (built first if their inputs changed)."""


@dataclass
class NodeCredentials:
    """What the node's agents present to the API server, and what the kubelet serves with."""

    ca: CertificateAuthority
    directory: Path

    def write(self, server: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ca.issue_server(f"system:node:{NODE_NAME}", [NODE_NAME], [NODE_IP, "127.0.0.1"]).write(
            self.directory / "kubelet-serving.crt", self.directory / "kubelet-serving.key"
        )
        for name, user, groups in (
            ("kubelet", f"system:node:{NODE_NAME}", ["system:nodes"]),
            ("kube-proxy", "system:kube-proxy", []),
        ):
            self.ca.issue_client(user, groups).write(self.directory / f"{name}.crt", self.directory / f"{name}.key")
            self.kubeconfig(name).write_text(yaml.safe_dump(client_kubeconfig(server, self.directory, name)))
            self.kubeconfig(name).chmod(0o600)

    def kubeconfig(self, name: str) -> Path:
        return self.directory / f"{name}.kubeconfig"


def client_kubeconfig(server: str, directory: Path, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "local", "cluster": {"server": server, "certificate-authority": str(directory / "ca.crt")}}
        ],
        "users": [
            {
                "name": name,
                "user": {
                    "client-certificate": str(directory / f"{name}.crt"),
                    "client-key": str(directory / f"{name}.key"),
                },
            }
        ],
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": name}}],
        "current-context": "local",
    }


def containerd_config(state: Path, sandbox_image: str) -> str:
    """containerd 1.6 (Debian bookworm) for the kubelet, everything below `state`."""
    return f"""version = 2
root = "{state}/root"
state = "{state}/state"
# No CAP_SYS_RESOURCE in these VMs: oom_score_adj can be raised, never lowered below 0.
oom_score = 0

[grpc]
  address = "{state}/containerd.sock"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{sandbox_image}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "{CRI_STREAM_PORT}"
  enable_unprivileged_ports = true
  enable_unprivileged_icmp = true
  # Pods' oom_score_adj (pause -998, Guaranteed -997) clamped to containerd's own: see oom_score.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_DIR}"
    conf_dir = "{state}/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{state}/certs.d"
"""


def cni_config(ipam_dir: Path) -> dict[str, Any]:
    return {
        "cniVersion": "0.4.0",
        "name": "aim-real-node",
        "plugins": [
            {
                "type": "bridge",
                "bridge": hostnet.BRIDGE,
                "isGateway": True,
                "ipMasq": False,  # nothing leaves this machine: no address translation to eth0
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": POD_CIDR, "gateway": POD_GATEWAY}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(ipam_dir),
                },
            }
        ],
    }


def kubelet_config(state: Path, credentials: Path, containerd_socket: Path) -> dict[str, Any]:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": NODE_IP,
        "port": KUBELET_PORT,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": KUBELET_HEALTHZ_PORT,
        "tlsCertFile": str(credentials / "kubelet-serving.crt"),
        "tlsPrivateKeyFile": str(credentials / "kubelet-serving.key"),
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(credentials / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{containerd_socket}",
        "imageServiceEndpoint": f"unix://{containerd_socket}",
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": f"/{hostnet.CGROUP_ROOT}",
        "failCgroupV1": False,  # 1.35 refuses cgroup v1 by default; these VMs have it
        "oomScoreAdj": 0,  # no CAP_SYS_RESOURCE to lower it to -999
        "failSwapOn": False,
        "podLogsDir": str(state / "pod-logs"),
        "volumePluginDir": str(state / "volume-plugins"),
        "resolvConf": str(state / "resolv.conf"),
        "clusterDomain": "cluster.local",
        "clusterDNS": [CLUSTER_DNS_IP],
        # Images come from the archives and the loopback registry: never garbage-collect them.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "2%", "imagefs.available": "2%"},
        "serializeImagePulls": False,
        # Pods are synced every 10 s (default 1 min), so an updated Secret reaches the volumes that
        # mount it within seconds: certificate rotation tests wait less, nothing else changes.
        "syncFrequency": "10s",
        # 1.35's KubeletEnsureSecretPulledImages: an image the kubelet pulled once would otherwise be
        # refused under an imported tag with pullPolicy Never.
        "imagePullCredentialsVerificationPolicy": "NeverVerify",
        "maxPods": 60,
        "registerNode": True,
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "shutdownGracePeriod": "0s",
    }


def kube_proxy_config(kubeconfig: Path) -> dict[str, Any]:
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "hostnameOverride": NODE_NAME,
        "bindAddress": NODE_IP,
        "clusterCIDR": POD_CIDR,
        "healthzBindAddress": f"127.0.0.1:{PROXY_HEALTHZ_PORT}",
        "metricsBindAddress": f"127.0.0.1:{PROXY_METRICS_PORT}",
        "nodePortAddresses": [f"{NODE_IP}/32"],  # never on eth0
        # Leave the host's conntrack settings alone.
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
        "iptables": {"masqueradeAll": False, "syncPeriod": "10s", "minSyncPeriod": "0s"},
    }


def node_labels(gpu_model: str) -> dict[str, str]:
    """The labels AIM Engine reads on a GPU node, as the AMD GPU operator's labeller writes them."""
    device_id, vram = GPU_MODELS[gpu_model]
    return {
        "amd.com/gpu.device-id": device_id,
        "amd.com/gpu.vram": vram,
        f"feature.node.kubernetes.io/aim-accelerator.{gpu_model}": "true",
        "aim.eai.amd.com/real-node": "true",
    }


def coredns_manifests(image: str) -> list[dict[str, Any]]:
    """Cluster DNS: the kubernetes plugin only. No `forward`: names outside cluster.local fail, so
    pods never reach this machine's resolver or anything beyond it."""
    corefile = """.:53 {
    errors
    health :8080
    ready :8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loop
}
"""
    labels = {"k8s-app": "kube-dns"}
    meta = {"namespace": "kube-system"}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "coredns", **meta}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "devcluster:coredns"},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["endpoints", "services", "pods", "namespaces"],
                    "verbs": ["list", "watch"],
                },
                {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]},
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "devcluster:coredns"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "devcluster:coredns"},
            "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}],
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "coredns", **meta},
            "data": {"Corefile": corefile},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "coredns", "labels": labels, **meta},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": "coredns",
                        "dnsPolicy": "Default",
                        "nodeSelector": {"kubernetes.io/hostname": NODE_NAME},
                        "containers": [
                            {
                                "name": "coredns",
                                "image": image,
                                "imagePullPolicy": "Never",
                                "args": ["-conf", "/etc/coredns/Corefile"],
                                "ports": [
                                    {"containerPort": 53, "name": "dns", "protocol": "UDP"},
                                    {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                                ],
                                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181}, "periodSeconds": 2},
                                "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}},
                                "resources": {
                                    "requests": {"cpu": "50m", "memory": "70Mi"},
                                    "limits": {"memory": "170Mi"},
                                },
                                "securityContext": {
                                    "runAsUser": 65532,
                                    "allowPrivilegeEscalation": False,
                                    "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]},
                                },
                                "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns", "readOnly": True}],
                            }
                        ],
                        "volumes": [{"name": "config", "configMap": {"name": "coredns"}}],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kube-dns", "labels": labels, **meta},
            "spec": {
                "clusterIP": CLUSTER_DNS_IP,
                "selector": labels,
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP"},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                ],
            },
        },
    ]


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return bool(response.status == 200)
    except OSError:
        return False


@dataclass
class RealNode:
    """Started by the ControlPlane after its API server; stopped before it (pods go first)."""

    workdir: Path
    ca: CertificateAuthority
    server: str
    kubectl: Callable[..., subprocess.CompletedProcess[str]]
    env: dict[str, str]
    options: RealNodeOptions = field(default_factory=RealNodeOptions)
    processes: list[ManagedProcess] = field(default_factory=list)
    pushed: dict[str, str] = field(default_factory=dict)
    """Image name (images.PROJECT, ...) → the reference the kubelet pulls it by."""
    timings: dict[str, float] = field(default_factory=dict)
    network: HostNetwork | None = None
    """Set up by prepare_host: only then does stop touch the host."""
    kube_proxy: Path | None = None
    kube_proxy_config: Path | None = None
    _lock: IO[str] | None = None
    _created_host_paths: list[Path] = field(default_factory=list)
    _chains_before: set[tuple[str, str]] = field(default_factory=set)
    """iptables chains (table, name) that existed before the node: never removed by it."""

    @property
    def containerd_socket(self) -> Path:
        return self.workdir / "containerd" / "containerd.sock"

    def prepare_host(self) -> None:
        """Before the API server starts: it listens on the node's address, set up here."""
        self._take_lock()
        self._created_host_paths = [path for path in HOST_PATHS if not path.exists()]
        self._chains_before = set(kube_chains())
        self.network = HostNetwork(self.workdir / "host")
        self.network.setup()

    def start(self) -> None:
        started = time.monotonic()
        credentials = NodeCredentials(self.ca, self.workdir / "credentials")
        credentials.write(self.server)
        (credentials.directory / "ca.crt").write_bytes(self.ca.cert_pem)
        node_binaries = self._node_binaries()
        pause = images.built_image(images.PAUSE)
        coredns = images.built_image(images.COREDNS)
        self._start_containerd(pause.reference)
        for image in (pause, coredns):
            self.ctr("images", "import", str(image.archive))
        self._start_registry()
        self.timings["runtime"] = time.monotonic() - started
        self._start_kubelet(node_binaries["kubelet"], credentials)
        self._start_kube_proxy(node_binaries["kube-proxy"], credentials)
        self._advertise_gpus()
        self.timings["node Ready"] = time.monotonic() - started
        self.kubectl(
            "apply",
            "-f",
            "-",
            input_text=json.dumps({"apiVersion": "v1", "kind": "List", "items": coredns_manifests(coredns.reference)}),
        )
        for name in self.options.push_images:
            image = images.built_image(name)
            reference = f"{REGISTRY}/aim-engine/{name}:{image.tag}"
            images.push(image, reference)
            self.pushed[name] = reference
        self.kubectl("-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=120s", timeout=130)
        self.timings["ready"] = time.monotonic() - started

    def _take_lock(self) -> None:
        lock = LOCK_FILE.open("w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            lock.close()
            raise RuntimeError(f"another real node runs on this machine (lock {LOCK_FILE})") from error
        self._lock = lock

    @staticmethod
    def _node_binaries() -> dict[str, Path]:
        paths = binaries.node_binaries()
        return {"kubelet": paths[0], "kube-proxy": paths[1], "coredns": paths[2]}

    def _spawn(self, name: str, argv: list[str], ready: Callable[[], bool], timeout: float = 60) -> None:
        process = ManagedProcess(name, argv, self.workdir / "logs" / f"{name}.log", env=self.env)
        process.start()
        self.processes.append(process)

        def probe() -> bool:
            if not process.running():
                raise StopWaitingError(f"{name} exited with {process.exit_code()}:\n{process.log_tail()}")
            return ready()

        wait_until(probe, timeout, f"{name} to become ready")

    def ctr(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ctr", "--address", str(self.containerd_socket), "-n", "k8s.io", *args],
            check=check,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def _start_containerd(self, sandbox_image: str) -> None:
        state = self.workdir / "containerd"
        (state / "cni").mkdir(parents=True, exist_ok=True)
        (state / "cni" / "10-aim-bridge.conflist").write_text(json.dumps(cni_config(state / "ipam"), indent=2))
        hosts = state / "certs.d" / REGISTRY
        hosts.mkdir(parents=True, exist_ok=True)
        (hosts / "hosts.toml").write_text(
            f'server = "http://{REGISTRY}"\n[host."http://{REGISTRY}"]\n  capabilities = ["pull", "resolve"]\n'
        )
        config = state / "config.toml"
        config.write_text(containerd_config(state, sandbox_image))

        self._spawn("containerd", ["containerd", "--config", str(config)], self._containerd_answers)

    def _containerd_answers(self) -> bool:
        command = ["ctr", "--address", str(self.containerd_socket), "version"]
        return subprocess.run(command, capture_output=True, timeout=5).returncode == 0

    def _start_registry(self) -> None:
        config = self.workdir / "registry.yml"
        config.write_text(
            yaml.safe_dump(
                {
                    "version": 0.1,
                    "log": {"level": "warn"},
                    "storage": {
                        "filesystem": {"rootdirectory": str(self.workdir / "registry")},
                        "delete": {"enabled": True},
                    },
                    "http": {"addr": REGISTRY},
                }
            )
        )
        registry = binaries.registry_binaries().registry
        self._spawn("registry", [str(registry), "serve", str(config)], lambda: http_ok(f"http://{REGISTRY}/v2/"))

    def _start_kubelet(self, kubelet: Path, credentials: NodeCredentials) -> None:
        state = self.workdir / "kubelet"
        for sub in ("root", "pod-logs", "volume-plugins"):
            (state / sub).mkdir(parents=True, exist_ok=True)
        (state / "resolv.conf").write_text("nameserver 127.0.0.1\n")  # dnsPolicy: Default never sees the host's
        config = state / "config.yaml"
        config.write_text(yaml.safe_dump(kubelet_config(state, credentials.directory, self.containerd_socket)))
        self._spawn(
            "kubelet",
            [
                str(kubelet),
                f"--config={config}",
                f"--kubeconfig={credentials.kubeconfig('kubelet')}",
                f"--root-dir={state / 'root'}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={NODE_IP}",
                "--v=1",
            ],
            lambda: http_ok(f"http://127.0.0.1:{KUBELET_HEALTHZ_PORT}/healthz"),
        )

        def ready() -> bool:
            node = json.loads(self.kubectl("get", "node", NODE_NAME, "-o", "json").stdout)
            return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"].get("conditions", []))

        wait_until(ready, 60, f"node {NODE_NAME} to be Ready")

    def _start_kube_proxy(self, kube_proxy: Path, credentials: NodeCredentials) -> None:
        config = self.workdir / "kube-proxy.yaml"
        config.write_text(yaml.safe_dump(kube_proxy_config(credentials.kubeconfig("kube-proxy"))))
        self.kube_proxy, self.kube_proxy_config = kube_proxy, config
        self._spawn(
            "kube-proxy",
            [str(kube_proxy), f"--config={config}", "--v=1"],
            lambda: http_ok(f"http://127.0.0.1:{PROXY_HEALTHZ_PORT}/healthz"),
        )

    def _advertise_gpus(self) -> None:
        """Labels as the GPU operator's labeller sets them, and `amd.com/gpu` as an extended
        resource (the kubelet keeps capacity that the API sets and no device plugin manages)."""
        labels = [f"{k}={v}" for k, v in node_labels(self.options.gpu_model).items()]
        self.kubectl("label", "node", NODE_NAME, "--overwrite", *labels)
        self.advertise_gpu_capacity()

    def advertise_gpu_capacity(self) -> None:
        count = str(self.options.gpu_count)
        patch = {"status": {"capacity": {"amd.com/gpu": count}}}
        self.kubectl("patch", "node", NODE_NAME, "--subresource=status", "--type=merge", "-p", json.dumps(patch))

        def allocatable() -> bool:
            node = json.loads(self.kubectl("get", "node", NODE_NAME, "-o", "json").stdout)
            return bool(node["status"].get("allocatable", {}).get("amd.com/gpu") == count)

        wait_until(allocatable, 30, f"{NODE_NAME} to advertise amd.com/gpu")

    def restart(self, name: str) -> None:
        """Stop and start one of the node's processes (containerd or kubelet), as an outage would,
        and wait until it answers again. The same ManagedProcess is started again, so every list
        that holds it stays right. A kubelet started while containerd's CRI is still initialising
        exits ("server is not initialized yet"); it is started again, as systemd's Restart=always
        does on a real node (without that, a restart of both left the node without a kubelet)."""
        process = next(p for p in self.processes if p.name == name)
        process.stop(grace=10)
        process.start()
        checks: dict[str, Callable[[], bool]] = {
            "containerd": self._containerd_answers,
            "kubelet": lambda: http_ok(f"http://127.0.0.1:{KUBELET_HEALTHZ_PORT}/healthz"),
        }
        answers = checks.get(name, lambda: True)

        def running_and_answering() -> bool:
            if not process.running():
                process.start()
                return False
            return answers()

        wait_until(running_and_answering, 90, f"{name} to answer again", interval=0.5)

    def stop(self) -> None:
        if self._lock is None:
            return  # prepare_host never ran or failed (another node runs): the host is not ours
        by_name = {p.name: p for p in self.processes}
        if "kubelet" in by_name:
            by_name["kubelet"].stop()
        if "kube-proxy" in by_name and self.kube_proxy and self.kube_proxy_config:
            by_name["kube-proxy"].stop()
            subprocess.run(
                [str(self.kube_proxy), "--cleanup", f"--config={self.kube_proxy_config}"],
                capture_output=True,
                check=False,
                timeout=60,
            )
        if "containerd" in by_name and by_name["containerd"].running():
            self._kill_containers()
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        hostnet.unmount_all_under(self.workdir)
        remove_chains(set(kube_chains()) - self._chains_before)
        if self.network is not None:
            self.network.teardown()
        for path in self._created_host_paths:  # only what was not there before
            shutil.rmtree(path, ignore_errors=True)
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _kill_containers(self) -> None:
        """Every container and sandbox of the node: the shims outlive containerd otherwise."""
        tasks = self.ctr("tasks", "ls", "-q", check=False).stdout.split()
        for task in tasks:
            self.ctr("tasks", "kill", "-s", "SIGKILL", task, check=False)
        for task in tasks:
            self.ctr("tasks", "delete", "-f", task, check=False)

    def describe(self) -> dict[str, Any]:
        return {"node": NODE_NAME, "registry": REGISTRY, "images": dict(self.pushed), "timings": dict(self.timings)}


def kube_chains() -> list[tuple[str, str]]:
    """(table, chain) of every KUBE-* chain on the host: the kubelet's and kube-proxy's."""
    found = []
    for table in ("mangle", "nat", "filter"):
        for rule in hostnet.run("iptables", "-t", table, "-S", check=False).stdout.splitlines():
            words = shlex.split(rule)
            if words[:1] == ["-N"] and words[1].startswith("KUBE-"):
                found.append((table, words[1]))
    return found


def remove_chains(chains: set[tuple[str, str]]) -> None:
    """The rules that jump to these chains, then the chains (kube-proxy --cleanup removes most of
    its own; the kubelet leaves its canary and firewall chains behind)."""
    for table in sorted({table for table, _ in chains}):
        names = {name for t, name in chains if t == table}
        for rule in hostnet.run("iptables", "-t", table, "-S", check=False).stdout.splitlines():
            words = shlex.split(rule)
            if words[:1] == ["-A"] and "-j" in words and words[words.index("-j") + 1] in names:
                hostnet.run("iptables", "-t", table, "-D", *words[1:], check=False)
        for name in sorted(names):
            hostnet.run("iptables", "-t", table, "-F", name, check=False)
        for name in sorted(names):
            hostnet.run("iptables", "-t", table, "-X", name, check=False)

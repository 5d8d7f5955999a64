"""The host side of the real node: its address, the pod bridge's fence, and its cgroup root.

Pods and Services use 198.18.0.0/15, a range reserved for testing. The CNI bridge plugin turns IP
forwarding on, so a fence in the mangle table (which kube-proxy and the kubelet never touch) drops
every packet of that range that would cross any interface but loopback, the pod bridge and the
pods' veths: pods reach this machine and each other, never a network outside it.

Everything here is undone by `teardown`, which is safe to call on a half set-up host.
"""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

NODE_IP = "198.19.255.1"
"""The node's address: a /32 on lo (the VMs this runs on have no dummy interface support). The API
server and the kubelet listen here; pods reach it through the bridge gateway by local delivery."""
TEST_RANGE = "198.18.0.0/15"
POD_CIDR = "198.18.0.0/24"
POD_GATEWAY = "198.18.0.1"
SERVICE_CIDR = "198.19.0.0/24"
KUBERNETES_SERVICE_IP = "198.19.0.1"
CLUSTER_DNS_IP = "198.19.0.10"
BRIDGE = "aimbr0"
CGROUP_ROOT = "aim-real-node"
CGROUP_MOUNT = Path("/sys/fs/cgroup")
IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), check=check, capture_output=True, text=True)


FENCE_CHAINS = {"AIM-REALNODE-OUT": "-o", "AIM-REALNODE-IN": "-i"}
"""The fence's chains: the interface a packet of the test range leaves by (or comes in on) must be
loopback, the pod bridge or a pod's veth."""


def fence_rules() -> list[tuple[str, list[str]]]:
    """(chain, rule) pairs of the fence in the mangle table, chains first, then the hooks into them.

    POSTROUTING, not OUTPUT: a packet to a Service address is routed by the default route until
    kube-proxy's DNAT (nat OUTPUT, after mangle OUTPUT) gives it a pod or the API server as its
    destination; only POSTROUTING sees the interface it really leaves by. Every packet of the
    range, from the host, a pod or forwarded, leaves through POSTROUTING and arrives through
    PREROUTING."""
    rules = []
    for chain, direction in FENCE_CHAINS.items():
        rules += [(chain, [direction, interface, "-j", "RETURN"]) for interface in ("lo", BRIDGE, "veth+")]
        rules.append((chain, ["-j", "DROP"]))
    out, into = FENCE_CHAINS
    hooks = [
        ("POSTROUTING", ["-s", TEST_RANGE, "-j", out]),
        ("POSTROUTING", ["-d", TEST_RANGE, "-j", out]),
        ("PREROUTING", ["-s", TEST_RANGE, "-j", into]),
        ("PREROUTING", ["-d", TEST_RANGE, "-j", into]),
    ]
    return rules + hooks


def cgroup_hierarchies(mount: Path = CGROUP_MOUNT) -> list[Path]:
    """Where the node's cgroup root must exist: every v1 hierarchy (and the v2 unified one), or the
    v2 mount itself on a pure cgroup v2 host."""
    if (mount / "cgroup.controllers").exists():
        return [mount]
    return sorted(p for p in mount.iterdir() if p.is_dir() and not p.is_symlink())


@dataclass
class HostNetwork:
    state_dir: Path
    """Remembers what the host had before (ip_forward), for teardown."""

    def setup(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        saved = self.state_dir / "ip_forward.orig"
        if not saved.exists():
            saved.write_text(IP_FORWARD.read_text())
        run("ip", "addr", "replace", f"{NODE_IP}/32", "dev", "lo")
        self._install_fence()
        for hierarchy in cgroup_hierarchies():
            (hierarchy / CGROUP_ROOT).mkdir(exist_ok=True)
        cpuset = CGROUP_MOUNT / "cpuset"
        if (cpuset / "cpuset.cpus").exists():  # v1: a new cpuset starts empty and takes no tasks
            for name in ("cpuset.cpus", "cpuset.mems"):
                (cpuset / CGROUP_ROOT / name).write_text((cpuset / name).read_text())

    def _install_fence(self) -> None:
        for chain in FENCE_CHAINS:
            if run("iptables", "-t", "mangle", "-N", chain, check=False).returncode != 0:
                run("iptables", "-t", "mangle", "-F", chain)
        for chain, rule in fence_rules():
            if chain in FENCE_CHAINS:
                run("iptables", "-t", "mangle", "-A", chain, *rule)
            elif run("iptables", "-t", "mangle", "-C", chain, *rule, check=False).returncode != 0:
                run("iptables", "-t", "mangle", "-I", chain, *rule)

    def fenced(self) -> bool:
        return all(
            run("iptables", "-t", "mangle", "-C", chain, *rule, check=False).returncode == 0
            for chain, rule in fence_rules()
        )

    def teardown(self) -> None:
        for chain, rule in fence_rules():
            if chain not in FENCE_CHAINS:
                while run("iptables", "-t", "mangle", "-D", chain, *rule, check=False).returncode == 0:
                    pass
        for chain in FENCE_CHAINS:
            run("iptables", "-t", "mangle", "-F", chain, check=False)
            run("iptables", "-t", "mangle", "-X", chain, check=False)
        links = run("ip", "-o", "link", "show", "master", BRIDGE, check=False).stdout.splitlines()
        for line in links:
            run("ip", "link", "del", line.split(": ")[1].split("@")[0], check=False)
        run("ip", "link", "del", BRIDGE, check=False)
        run("ip", "addr", "del", f"{NODE_IP}/32", "dev", "lo", check=False)
        saved = self.state_dir / "ip_forward.orig"
        if saved.exists():
            IP_FORWARD.write_text(saved.read_text())
            saved.unlink()
        for hierarchy in cgroup_hierarchies():
            remove_cgroup_tree(hierarchy / CGROUP_ROOT)


def remove_cgroup_tree(root: Path) -> None:
    """Children first: a cgroup directory can only be removed once it has no children and no tasks."""
    if not root.is_dir():
        return
    for directory in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            directory.rmdir()
    with contextlib.suppress(OSError):
        root.rmdir()


def mounts_under(root: Path) -> list[str]:
    """Mount points below `root`, deepest first (the order to unmount them in)."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == str(root) or point.startswith(f"{root}/"):
            points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def unmount_all_under(root: Path) -> None:
    for point in mounts_under(root):
        if run("umount", point, check=False).returncode != 0:
            run("umount", "-l", point, check=False)

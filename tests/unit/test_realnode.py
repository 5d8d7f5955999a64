"""The real node's configuration, as data: the fence that keeps its pods on this machine, the
kubelet's settings for these VMs, the labels that make it a GPU node, and cluster DNS."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from devcluster import hostnet, realnode
from devcluster.nodes import GPU_MODELS


def test_fence_drops_the_test_range_on_every_interface_but_the_nodes_own() -> None:
    rules = hostnet.fence_rules()
    for chain, direction in hostnet.FENCE_CHAINS.items():
        own = [rule for c, rule in rules if c == chain]
        allowed = [rule[1] for rule in own if rule[-1] == "RETURN"]
        assert all(rule[0] == direction for rule in own[:-1])
        assert allowed == ["lo", hostnet.BRIDGE, "veth+"]
        assert own[-1] == ["-j", "DROP"]  # everything else, eth0 included, is dropped
    hooks = [(c, rule) for c, rule in rules if c not in hostnet.FENCE_CHAINS]
    out, into = hostnet.FENCE_CHAINS
    # Both directions, from and to the range, on the way out and on the way in.
    assert hooks == [
        ("POSTROUTING", ["-s", hostnet.TEST_RANGE, "-j", out]),
        ("POSTROUTING", ["-d", hostnet.TEST_RANGE, "-j", out]),
        ("PREROUTING", ["-s", hostnet.TEST_RANGE, "-j", into]),
        ("PREROUTING", ["-d", hostnet.TEST_RANGE, "-j", into]),
    ]


@pytest.mark.parametrize(
    "address",
    [hostnet.NODE_IP, hostnet.POD_GATEWAY, hostnet.KUBERNETES_SERVICE_IP, hostnet.CLUSTER_DNS_IP],
    ids=["node", "pod-gateway", "kubernetes-service", "cluster-dns"],
)
def test_every_address_of_the_node_is_inside_the_fenced_test_range(address: str) -> None:
    assert ipaddress.ip_address(address) in ipaddress.ip_network(hostnet.TEST_RANGE)


def test_pod_and_service_ranges_do_not_overlap() -> None:
    pods = ipaddress.ip_network(hostnet.POD_CIDR)
    services = ipaddress.ip_network(hostnet.SERVICE_CIDR)
    assert not pods.overlaps(services)
    assert ipaddress.ip_address(hostnet.POD_GATEWAY) in pods
    assert ipaddress.ip_address(hostnet.KUBERNETES_SERVICE_IP) == next(services.hosts())


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        (["cgroup.controllers", "cpu/", "memory/"], ["."]),
        (["cpu/", "cpuset/", "memory/", "unified/"], ["cpu", "cpuset", "memory", "unified"]),
    ],
    ids=["cgroup-v2", "cgroup-v1-hybrid"],
)
def test_cgroup_root_goes_into_every_hierarchy(tmp_path: Path, layout: list[str], expected: list[str]) -> None:
    for entry in layout:
        path = tmp_path / entry.rstrip("/")
        if entry.endswith("/"):
            path.mkdir()
        else:
            path.write_text("")
    assert [str(p.relative_to(tmp_path)) for p in hostnet.cgroup_hierarchies(tmp_path)] == expected


def test_removing_a_cgroup_tree_goes_children_first(tmp_path: Path) -> None:
    (tmp_path / "root" / "a" / "b").mkdir(parents=True)
    (tmp_path / "root" / "c").mkdir()
    hostnet.remove_cgroup_tree(tmp_path / "root")
    assert not (tmp_path / "root").exists()


def test_kubelet_is_set_up_for_vms_without_cap_sys_resource_and_with_cgroup_v1(tmp_path: Path) -> None:
    config = realnode.kubelet_config(tmp_path, tmp_path / "credentials", tmp_path / "containerd.sock")
    assert config["oomScoreAdj"] == 0
    assert config["failCgroupV1"] is False
    assert config["address"] == hostnet.NODE_IP
    assert config["healthzBindAddress"] == "127.0.0.1"
    assert config["clusterDNS"] == [hostnet.CLUSTER_DNS_IP]
    assert config["imagePullCredentialsVerificationPolicy"] == "NeverVerify"
    assert config["authentication"]["anonymous"]["enabled"] is False
    ports = [config["port"], config["healthzPort"], realnode.PROXY_HEALTHZ_PORT, realnode.CRI_STREAM_PORT]
    assert all(port < 32768 for port in ports)  # below the ephemeral range: no race with bind(0)


def test_containerd_clamps_oom_scores_and_pulls_from_the_loopback_registry(tmp_path: Path) -> None:
    text = realnode.containerd_config(tmp_path, "localhost/aim-engine/pause:abc")
    assert "oom_score = 0" in text
    assert "restrict_oom_score_adj = true" in text
    assert 'sandbox_image = "localhost/aim-engine/pause:abc"' in text
    assert f'config_path = "{tmp_path}/certs.d"' in text


def test_pod_network_never_translates_addresses_to_the_outside(tmp_path: Path) -> None:
    [bridge] = realnode.cni_config(tmp_path)["plugins"]
    assert bridge["bridge"] == hostnet.BRIDGE
    assert bridge["ipMasq"] is False
    assert bridge["ipam"]["ranges"] == [[{"subnet": hostnet.POD_CIDR, "gateway": hostnet.POD_GATEWAY}]]


def test_kube_proxy_opens_node_ports_on_the_node_address_only(tmp_path: Path) -> None:
    config = realnode.kube_proxy_config(tmp_path / "kube-proxy.kubeconfig")
    assert config["nodePortAddresses"] == [f"{hostnet.NODE_IP}/32"]
    assert config["hostnameOverride"] == realnode.NODE_NAME


@pytest.mark.parametrize("model", sorted(GPU_MODELS), ids=sorted(GPU_MODELS))
def test_node_labels_are_those_the_gpu_operator_writes(model: str) -> None:
    labels = realnode.node_labels(model)
    device_id, vram = GPU_MODELS[model]
    assert labels["amd.com/gpu.device-id"] == device_id
    assert labels["amd.com/gpu.vram"] == vram
    assert labels[f"feature.node.kubernetes.io/aim-accelerator.{model}"] == "true"


def test_cluster_dns_answers_cluster_names_only() -> None:
    manifests = realnode.coredns_manifests("localhost/aim-engine/coredns:abc")
    corefile = next(m for m in manifests if m["kind"] == "ConfigMap")["data"]["Corefile"]
    assert "kubernetes cluster.local" in corefile
    assert "forward" not in corefile  # nothing resolves beyond the cluster
    service = next(m for m in manifests if m["kind"] == "Service")
    assert service["spec"]["clusterIP"] == hostnet.CLUSTER_DNS_IP
    deployment = next(m for m in manifests if m["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"kubernetes.io/hostname": realnode.NODE_NAME}
    assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True


def test_unavailable_reason_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert "needs root" in (realnode.unavailable_reason() or "")
    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setattr("shutil.which", lambda tool: None if tool == "runc" else f"/usr/bin/{tool}")
    assert "runc" in (realnode.unavailable_reason() or "")
    assert "hack/install-node-packages.sh" in (realnode.unavailable_reason() or "")

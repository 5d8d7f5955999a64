"""The local control plane is a real kube-apiserver on etcd, driven by the real kubectl."""

from __future__ import annotations

import json

import yaml

from tests.conftest import FIXTURES, Kubectl


def test_readyz_answers_ok(kubectl: Kubectl) -> None:
    assert kubectl("get", "--raw", "/readyz").stdout.strip() == "ok"


def test_server_is_the_pinned_kubernetes_version(kubectl: Kubectl) -> None:
    version = json.loads(kubectl("get", "--raw", "/version").stdout)
    assert version["gitVersion"] == "v1.35.8"


def test_applies_a_crd_and_reads_a_custom_object_back(kubectl: Kubectl) -> None:
    kubectl.plane.kubectl("apply", "-f", str(FIXTURES / "widget-crd.yaml"))
    kubectl.plane.kubectl(
        "wait", "--for=condition=Established", "crd/widgets.harness.test.aim.eai.amd.com", "--timeout=30s"
    )
    kubectl.apply(
        {
            "apiVersion": "harness.test.aim.eai.amd.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w1"},
            "spec": {"size": 3, "colour": "red"},
        }
    )
    widget = kubectl.get_json("wdg", "w1")
    assert widget["spec"] == {"size": 3, "colour": "red"}
    assert widget["metadata"]["uid"]


def test_schema_invalid_object_is_rejected_with_the_field_named(kubectl: Kubectl) -> None:
    kubectl.plane.kubectl("apply", "-f", str(FIXTURES / "widget-crd.yaml"))
    kubectl.plane.kubectl(
        "wait", "--for=condition=Established", "crd/widgets.harness.test.aim.eai.amd.com", "--timeout=30s"
    )
    result = kubectl.apply(
        {
            "apiVersion": "harness.test.aim.eai.amd.com/v1",
            "kind": "Widget",
            "metadata": {"name": "bad"},
            "spec": {"size": 42, "colour": "blue"},
        },
        check=False,
    )
    assert result.returncode != 0
    assert "spec.size: Invalid value: 42: spec.size in body should be less than or equal to 10" in result.stderr
    assert 'spec.colour: Unsupported value: "blue": supported values: "red", "green"' in result.stderr


def test_a_service_account_kubeconfig_authenticates_with_its_token(kubectl: Kubectl) -> None:
    """The benchmarks' controllers authenticate as a controller in a cluster does: a token."""
    path = kubectl.plane.service_account_kubeconfig("sa-kubeconfig-probe")
    config = yaml.safe_load(path.read_text())
    assert set(config["users"][0]["user"]) == {"token"}, "a token, no client certificate"
    who = json.loads(kubectl.plane.kubectl("--kubeconfig", str(path), "auth", "whoami", "-o", "json").stdout)
    assert who["status"]["userInfo"]["username"] == "system:serviceaccount:kube-system:sa-kubeconfig-probe"
    assert (
        kubectl.plane.kubectl("--kubeconfig", str(path), "auth", "can-i", "create", "pods", "-A").stdout.strip()
        == "yes"
    )

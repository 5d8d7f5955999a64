"""The local control plane is a real kube-apiserver on etcd, driven by the real kubectl."""

from __future__ import annotations

import json

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

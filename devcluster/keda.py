"""KEDA in the local control plane, on the real node: its operator and its metrics adapter as pods.

Both are built from KEDA's Go module (`hack/build-binaries.sh keda`) into one image of the two
static binaries (`hack/build-images.sh keda`); the CRDs are read from the same module at run time
(never copied into this repository). They run as pods, as a user installs KEDA, because the
operator reads scalers by their cluster DNS names (e.g. a predictor Service), which only pods
resolve, and the adapter is reached by the API server's aggregation layer through a Service.

What differs from KEDA's own install: one certificate from the local CA stands in for the one the
operator would generate and rotate (`--enable-cert-rotation=false`); it serves the operator's gRPC
metrics service and the adapter, and is the adapter's client certificate towards the operator. The
operator and the adapter are bound to `cluster-admin` (KEDA's chart lists narrower rules; this is
a test cluster, and nothing here is shipped by the chart).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

KEDA_VERSION = "v2.21.0"
MODULE = f"github.com/kedacore/keda/v2@{KEDA_VERSION}"
NAMESPACE = "keda"
OPERATOR = "keda-operator"
ADAPTER = "keda-metrics-apiserver"
CERT_SECRET = "kedaorg-certs"  # noqa: S105 - the Secret's name (KEDA's default)
METRICS_SERVICE_PORT = 9666
ADAPTER_PORT = 6443
EXTERNAL_METRICS_API_SERVICE = "v1beta1.external.metrics.k8s.io"


def crd_files(module_dir: Path) -> list[Path]:
    """KEDA's CRDs: the operator watches every one of them (the eventing ones too)."""
    return sorted((module_dir / "config" / "crd" / "bases").glob("*.yaml"))


def certificate_names() -> list[str]:
    """The names the operator's gRPC service and the adapter are reached by."""
    names = []
    for service in (OPERATOR, ADAPTER):
        names += [
            service,
            f"{service}.{NAMESPACE}",
            f"{service}.{NAMESPACE}.svc",
            f"{service}.{NAMESPACE}.svc.cluster.local",
        ]
    return names


def manifests(
    image: str, ca_pem: bytes, cert_pem: bytes, key_pem: bytes, node_selector: dict[str, str]
) -> list[dict[str, Any]]:
    """Everything but the CRDs, in the order to apply it; the pods run where `node_selector` says
    (the real node: on a simulated one nothing would run)."""
    labels = {"app.kubernetes.io/part-of": "keda"}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": CERT_SECRET, "namespace": NAMESPACE, "labels": labels},
        "type": "Opaque",
        "data": {
            "ca.crt": base64.b64encode(ca_pem).decode(),
            "tls.crt": base64.b64encode(cert_pem).decode(),
            "tls.key": base64.b64encode(key_pem).decode(),
        },
    }
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "keda", "namespace": NAMESPACE, "labels": labels},
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "keda-cluster-admin", "labels": labels},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "keda", "namespace": NAMESPACE}],
    }
    # The HPA controller reads external metrics through the aggregation layer as itself.
    reader: dict[str, Any] = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "keda-external-metrics-reader", "labels": labels},
        "rules": [{"apiGroups": ["external.metrics.k8s.io"], "resources": ["*"], "verbs": ["get", "list", "watch"]}],
    }
    reader_binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "keda-hpa-external-metrics", "labels": labels},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": reader["metadata"]["name"]},
        "subjects": [{"kind": "ServiceAccount", "name": "horizontal-pod-autoscaler", "namespace": "kube-system"}],
    }
    env: list[dict[str, Any]] = [
        {"name": "WATCH_NAMESPACE", "value": ""},
        {"name": "KEDA_CLUSTER_OBJECT_NAMESPACE", "value": NAMESPACE},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    ]
    operator_args = [
        "--leader-elect=false",
        "--zap-log-level=info",
        "--zap-encoder=console",
        "--metrics-bind-address=:8080",
        "--health-probe-bind-address=:8081",
        f"--metrics-service-bind-address=:{METRICS_SERVICE_PORT}",
        "--cert-dir=/certs",
        "--enable-cert-rotation=false",
        "--enable-webhook-patching=false",
        "--enable-apiservice-patching=false",
    ]
    adapter_args = [
        f"--secure-port={ADAPTER_PORT}",
        "--port=8080",
        "--cert-dir=/certs",
        "--tls-cert-file=/certs/tls.crt",
        "--tls-private-key-file=/certs/tls.key",
        "--client-ca-file=/certs/ca.crt",
        f"--metrics-service-address={OPERATOR}.{NAMESPACE}.svc.cluster.local:{METRICS_SERVICE_PORT}",
        "--zap-encoder=console",
    ]
    operator_probe = {"httpGet": {"path": "/readyz", "port": 8081}, "periodSeconds": 2}
    adapter_probe = {"httpGet": {"path": "/readyz", "port": ADAPTER_PORT, "scheme": "HTTPS"}, "periodSeconds": 2}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE, "labels": labels}},
        secret,
        account,
        binding,
        reader,
        reader_binding,
        _deployment(OPERATOR, image, "/keda", operator_args, env, operator_probe, labels, node_selector),
        _service(
            OPERATOR,
            [{"name": "metricsservice", "port": METRICS_SERVICE_PORT, "targetPort": METRICS_SERVICE_PORT}],
            labels,
        ),
        _deployment(ADAPTER, image, "/keda-adapter", adapter_args, env, adapter_probe, labels, node_selector),
        _service(ADAPTER, [{"name": "https", "port": 443, "targetPort": ADAPTER_PORT}], labels),
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": EXTERNAL_METRICS_API_SERVICE, "labels": labels},
            "spec": {
                "group": "external.metrics.k8s.io",
                "version": "v1beta1",
                "service": {"name": ADAPTER, "namespace": NAMESPACE, "port": 443},
                "caBundle": base64.b64encode(ca_pem).decode(),
                "groupPriorityMinimum": 100,
                "versionPriority": 100,
            },
        },
    ]


def _deployment(
    name: str,
    image: str,
    command: str,
    args: list[str],
    env: list[dict[str, Any]],
    probe: dict[str, Any],
    labels: dict[str, str],
    node_selector: dict[str, str],
) -> dict[str, Any]:
    selector = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels | selector},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": labels | selector},
                "spec": {
                    "serviceAccountName": "keda",
                    "nodeSelector": node_selector,
                    "containers": [
                        {
                            "name": name,
                            "image": image,
                            "imagePullPolicy": "IfNotPresent",
                            "command": [command],
                            "args": args,
                            "env": env,
                            "readinessProbe": probe,
                            "volumeMounts": [{"name": "certificates", "mountPath": "/certs", "readOnly": True}],
                            "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
                        }
                    ],
                    "volumes": [{"name": "certificates", "secret": {"secretName": CERT_SECRET}}],
                },
            },
        },
    }


def _service(name: str, ports: list[dict[str, Any]], labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
        "spec": {"selector": {"app": name}, "ports": ports},
    }

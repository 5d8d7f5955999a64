"""KServe's controller in the local control plane, in raw-deployment mode (no Knative, no Istio).

The controller is built from KServe's Go module (`hack/build-binaries.sh kserve`); its CRDs and its
`inferenceservice-config` ConfigMap are read from the same module at run time (never copied into
this repository). Two settings differ from KServe's shipped ConfigMap: the default deployment mode
is RawDeployment (a Deployment, a Service and, per the InferenceService's autoscaler class, an HPA
or nothing), and no Ingress or VirtualService is created (routes are the AIM controller's
HTTPRoutes). On simulated nodes kwok makes the predictor pods Running and Ready, so the
Deployment becomes available and KServe reports the InferenceService Ready, as it would on a GPU
node with a model server that answers its readiness probe.

KServe's webhooks (defaulting, validation, the storage-initializer pod mutator) are not
registered: the AIM controller writes complete InferenceServices and mounts its caches itself.
Its webhook server still starts, so it gets the local CA's serving certificate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

KSERVE_VERSION = "v0.16.0"
MODULE = f"github.com/kserve/kserve@{KSERVE_VERSION}"
NAMESPACE = "kserve"
CONFIG_MAP = "inferenceservice-config"


def crd_files(module_dir: Path) -> list[Path]:
    """Every serving.kserve.io CRD: the controller watches InferenceGraphs and TrainedModels too."""
    return sorted((module_dir / "config" / "crd" / "full").glob("serving.kserve.io_*.yaml"))


def config_map(module_dir: Path) -> dict[str, Any]:
    """KServe's shipped ConfigMap, in raw-deployment mode and without ingress objects."""
    shipped = yaml.safe_load((module_dir / "config" / "configmap" / "inferenceservice.yaml").read_text())
    data = {key: value for key, value in shipped["data"].items() if not key.startswith("_")}
    data["deploy"] = json.dumps({"defaultDeploymentMode": "RawDeployment"})
    ingress = json.loads(data["ingress"])
    ingress |= {"disableIngressCreation": True, "disableIstioVirtualHost": True, "enableGatewayApi": False}
    data["ingress"] = json.dumps(ingress)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CONFIG_MAP, "namespace": NAMESPACE},
        "data": data,
    }


def manager_args(metrics_port: int, probe_port: int, webhook_port: int) -> list[str]:
    return [
        f"--metrics-addr=127.0.0.1:{metrics_port}",
        f"--health-probe-addr=127.0.0.1:{probe_port}",
        f"--webhook-port={webhook_port}",
        "--leader-elect=false",
        "--zap-log-level=info",
    ]


def serving_cert_dir(tmpdir: Path, cert: Path, key: Path) -> Path:
    """controller-runtime's webhook server reads `$TMPDIR/k8s-webhook-server/serving-certs`."""
    directory = tmpdir / "k8s-webhook-server" / "serving-certs"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tls.crt").write_bytes(cert.read_bytes())
    (directory / "tls.key").write_bytes(key.read_bytes())
    (directory / "tls.key").chmod(0o600)
    return directory

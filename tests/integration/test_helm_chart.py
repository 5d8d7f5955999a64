"""The Helm chart against the real API server and the real helm: lint, server-side dry run of the
whole render, the values schema, least-privilege RBAC, and an install into a control plane of its
own whose webhook client configs point at the locally running webhook on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devcluster.binaries import REPO_ROOT, bin_dir
from devcluster.controlplane import ControlPlane, ControlPlaneOptions
from devcluster.waiting import wait_until

CHART = REPO_ROOT / "helm" / "aim-engine"
NAMESPACE = "aim-system"


def helm(*args: str, plane: ControlPlane | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    binary = bin_dir() / "helm"
    if not binary.exists():
        subprocess.run(["bash", str(REPO_ROOT / "hack" / "build-binaries.sh"), "helm"], check=True)
    env = plane.env() if plane else None
    return subprocess.run([str(binary), *args], capture_output=True, text=True, check=check, env=env, timeout=120)


IMAGE = ("--set", "image.repository=registry.example/aim-engine", "--set", "image.tag=0.1.0")
"""No image is published: every install names one."""


def render(*extra: str) -> list[dict[str, Any]]:
    out = helm("template", "aim", str(CHART), "-n", NAMESPACE, *IMAGE, *extra).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def test_helm_lint() -> None:
    result = helm("lint", str(CHART), "--strict")
    assert "0 chart(s) failed" in result.stdout


def test_render_is_accepted_by_the_api_server(bare_plane: ControlPlane) -> None:
    """On a control plane without the CRDs yet (a dry run over the test session's CRDs would
    merge with the url client config registered there)."""
    control_plane = bare_plane
    control_plane.kubectl("create", "namespace", NAMESPACE, check=False)
    manifest = "\n---\n".join(json.dumps(d) for d in render())
    result = control_plane.kubectl(
        "apply",
        "--server-side",
        "--force-conflicts",
        "--dry-run=server",
        "--field-manager=helm-test",
        "-f",
        "-",
        input_text=manifest,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("serverside-applied (server dry run)") == len(render())


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("webhook.failurePolicy=Sometimes", "failurePolicy"),
        ("controller.replicas=0", "replicas"),
        ("webhook.url=http://127.0.0.1:9443", "url"),
        ("webhook.timeoutSeconds=60", "timeoutSeconds"),
        ("image.pullPolicy=Sometimes", "pullPolicy"),
        ("controler.replicas=2", "controler"),
        ("acceleratorDetector.intervalSeconds=0", "intervalSeconds"),
        ("controller.extraEnv[0].value=x", "missing property 'name'"),
    ],
    ids=[
        "policy-enum",
        "replicas-minimum",
        "url-must-be-https",
        "timeout-maximum",
        "pull-policy",
        "unknown-key",
        "detector-interval-minimum",
        "extra-env-needs-a-name",
    ],
)
def test_bad_values_are_refused_by_the_schema(setting: str, message: str) -> None:
    result = helm("template", "aim", str(CHART), *IMAGE, "--set", setting, check=False)
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr
    assert message in result.stderr


def test_extra_env_reaches_the_controller() -> None:
    setting = 'controller.extraEnv=[{"name": "AIM_REGISTRY_GITHUB_API_URL", "value": "https://ghe.example/api/v3"}]'
    result = helm("template", "aim", str(CHART), *IMAGE, "--set-json", setting)
    controller = next(
        d
        for d in yaml.safe_load_all(result.stdout)
        if d and d["kind"] == "Deployment" and "controller" in d["metadata"]["name"]
    )
    env = controller["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[-1] == {"name": "AIM_REGISTRY_GITHUB_API_URL", "value": "https://ghe.example/api/v3"}


def test_without_an_image_the_chart_says_how_to_build_one() -> None:
    result = helm("template", "aim", str(CHART), check=False)
    assert result.returncode != 0
    assert "image.repository is not set" in result.stderr
    assert "make image IMAGE=" in result.stderr


def test_controller_may_watch_crds_that_arrive_after_it() -> None:
    """kopf lists and watches CRDs: KServe or Gateway API installed later are served without a restart."""
    role = next(d for d in render() if d["kind"] == "ClusterRole" and d["metadata"]["name"].endswith("-controller"))
    crd_rules = [r for r in role["rules"] if "customresourcedefinitions" in r["resources"]]
    assert {"get", "list", "watch"} <= {verb for rule in crd_rules for verb in rule["verbs"]}


def test_rbac_names_every_verb_and_resource() -> None:
    roles = [d for d in render() if d["kind"] in ("ClusterRole", "Role")]
    assert roles
    for role in roles:
        for rule in role["rules"]:
            for key in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule.get(key, []), (role["metadata"]["name"], rule)
    assert all(
        d["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] for d in render() if d["kind"] == "Deployment"
    )


def test_webhook_configurations_follow_the_rules() -> None:
    documents = render()  # one render: each render makes a new CA
    configurations = [d for d in documents if d["kind"].endswith("WebhookConfiguration")]
    assert len(configurations) == 2
    for configuration in configurations:
        [webhook] = configuration["webhooks"]
        assert webhook["failurePolicy"] == "Fail"
        assert webhook["sideEffects"] == "None"
        assert webhook["timeoutSeconds"] <= 5
        assert webhook["namespaceSelector"]["matchExpressions"][0]["values"] == [NAMESPACE]
        assert webhook["clientConfig"]["service"]["namespace"] == NAMESPACE
    secret = next(d for d in documents if d["kind"] == "Secret")
    bundles = {c["webhooks"][0]["clientConfig"]["caBundle"] for c in configurations}
    bundles |= {
        d["spec"]["conversion"]["webhook"]["clientConfig"]["caBundle"]
        for d in documents
        if d["kind"] == "CustomResourceDefinition" and "conversion" in d["spec"]
    }
    assert bundles == {secret["data"]["ca.crt"]}  # one CA everywhere in a render


@pytest.fixture(scope="module")
def bare_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A control plane with the webhook process running but nothing registered: the chart does it."""
    options = ControlPlaneOptions(workdir=tmp_path_factory.mktemp("helm-plane"), simulate_nodes=False)
    with ControlPlane(options) as plane:
        yield plane


def test_install_into_the_local_control_plane(bare_plane: ControlPlane, tmp_path: Path) -> None:
    ca = base64.b64encode((bare_plane.pki.directory / "ca.crt").read_bytes()).decode()
    values = {
        "webhook": {"url": bare_plane.webhook_url, "caBundle": ca},
        "image": {"repository": "registry.example/aim-engine", "tag": "0.1.0"},
    }
    (tmp_path / "local.yaml").write_text(json.dumps(values))
    result = helm(
        "install",
        "aim",
        str(CHART),
        "-n",
        NAMESPACE,
        "--create-namespace",
        "-f",
        str(tmp_path / "local.yaml"),
        plane=bare_plane,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Apply in this order" in result.stdout  # NOTES.txt
    rendered = render("-f", str(tmp_path / "local.yaml"))
    for obj in rendered:
        if (obj.get("metadata", {}).get("annotations") or {}).get("helm.sh/hook"):
            continue
        scope = ["-n", NAMESPACE] if obj["kind"] not in CLUSTER_KINDS else []
        bare_plane.kubectl("get", obj["kind"].lower(), obj["metadata"]["name"], *scope)
    crd = json.loads(bare_plane.kubectl("get", "crd", "aimservices.aim.eai.amd.com", "-o", "json").stdout)
    assert crd["spec"]["conversion"]["webhook"]["clientConfig"]["url"] == f"{bare_plane.webhook_url}/convert"

    # The chart's registrations are live: conversion and validation answer through 127.0.0.1.
    bare_plane.kubectl("create", "namespace", "team")
    service: dict[str, Any] = {
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "kind": "AIMService",
        "metadata": {"name": "chat", "namespace": "team"},
        "spec": {"model": {"name": "m"}, "routing": {"enabled": True, "routeTemplate": "/{.metadata.namespace"}},
    }
    denied = bare_plane.kubectl("apply", "-f", "-", input_text=json.dumps(service), check=False)
    assert denied.returncode != 0
    assert "spec.routing.routeTemplate" in denied.stderr
    service["spec"]["routing"]["routeTemplate"] = "/{.metadata.namespace}/chat"

    def applied() -> bool:
        return bare_plane.kubectl("apply", "-f", "-", input_text=json.dumps(service), check=False).returncode == 0

    wait_until(applied, 30, "the service to be admitted")
    stored = json.loads(
        bare_plane.kubectl("get", "aimservices.v1alpha2.aim.eai.amd.com", "chat", "-n", "team", "-o", "json").stdout
    )
    assert stored["spec"]["routing"]["pathTemplate"] == "/{.metadata.namespace}/chat"

    helm("uninstall", "aim", "-n", NAMESPACE, plane=bare_plane)
    bare_plane.kubectl("get", "crd", "aimservices.aim.eai.amd.com")  # kept: objects survive uninstall
    bare_plane.kubectl("get", "aimservice", "chat", "-n", "team")


CLUSTER_KINDS = {
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
}


def test_webhooks_skip_metadata_only_changes_as_the_api_says() -> None:
    """One rule, two renderings: the chart's matchConditions are api.admission's."""
    from api.admission import match_conditions

    configurations = [d for d in render() if d["kind"].endswith("WebhookConfiguration")]
    for configuration in configurations:
        [webhook] = configuration["webhooks"]
        assert webhook["matchConditions"] == match_conditions()


def test_the_mutating_webhook_is_called_only_for_kinds_it_defaults() -> None:
    from api.admission import MUTATED_RESOURCES
    from api.registry import CRDS

    by_kind = {
        d["kind"]: d["webhooks"][0]["rules"][0]["resources"]
        for d in render()
        if d["kind"].endswith("WebhookConfiguration")
    }
    assert by_kind["MutatingWebhookConfiguration"] == list(MUTATED_RESOURCES)
    assert sorted(by_kind["ValidatingWebhookConfiguration"]) == sorted(crd.names.plural for crd in CRDS)


def test_cert_manager_mode_injects_the_ca_everywhere() -> None:
    documents = render("--set", "certManager.enabled=true")
    kinds = [d["kind"] for d in documents]
    assert "Certificate" in kinds
    assert "Issuer" in kinds
    assert "Secret" not in kinds  # cert-manager writes it
    injected = [
        d
        for d in documents
        if (d["metadata"].get("annotations") or {}).get("cert-manager.io/inject-ca-from")
        == f"{NAMESPACE}/aim-aim-engine-webhook"
    ]
    assert sorted(d["kind"] for d in injected) == [
        "CustomResourceDefinition",
        "CustomResourceDefinition",
        "CustomResourceDefinition",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ]
    assert "caBundle" not in json.dumps(documents)


def test_controller_renews_the_chart_certificate_it_was_given(bare_plane: ControlPlane) -> None:
    """The Secret exactly as the chart renders it (Helm's RSA CA), aged: the keeper renews it."""
    import datetime as dt

    from controller.kube.certificates import CertificateKeeper
    from controller.kube.client import Kube

    secret = next(d for d in render() if d["kind"] == "Secret")
    secret["metadata"]["namespace"] = "renewal"
    bare_plane.kubectl("create", "namespace", "renewal")
    bare_plane.kubectl("apply", "-f", "-", input_text=json.dumps(secret))
    keeper = CertificateKeeper(Kube(bare_plane.api_client(), "test"), "renewal", secret["metadata"]["name"])
    assert not keeper.check_once()  # fresh from helm
    assert keeper.check_once(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=300))  # 365-day cert, day 300
    stored = json.loads(
        bare_plane.kubectl("get", "secret", secret["metadata"]["name"], "-n", "renewal", "-o", "json").stdout
    )
    assert stored["data"]["ca.crt"] == secret["data"]["ca.crt"]
    assert stored["data"]["tls.crt"] != secret["data"]["tls.crt"]


DETECTOR = ("--set", "acceleratorDetector.enabled=true", "--set", "acceleratorDetector.intervalSeconds=30")


def detector_objects(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in documents if "accelerator-detector" in d["metadata"]["name"]]


def test_the_accelerator_detector_is_off_by_default() -> None:
    """Without Node Feature Discovery its file would become no label (docs/accelerator-detection.md)."""
    assert detector_objects(render()) == []


def test_the_accelerator_detector_writes_nfd_features_without_api_access() -> None:
    from detector.__main__ import build_parser

    documents = render(*DETECTOR)
    [account, daemonset] = detector_objects(documents)
    assert (account["kind"], daemonset["kind"]) == ("ServiceAccount", "DaemonSet")
    pod = daemonset["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert account["automountServiceAccountToken"] is False
    assert pod["automountServiceAccountToken"] is False
    bindings = [d for d in documents if d["kind"] in ("RoleBinding", "ClusterRoleBinding")]
    assert not [b for b in bindings for s in b["subjects"] if s["name"] == account["metadata"]["name"]]
    assert not [d for d in documents if d["kind"] in ("Role", "ClusterRole") and "detector" in d["metadata"]["name"]]

    [container] = pod["containers"]
    assert container["image"] == "registry.example/aim-engine:0.1.0"  # the chart's image
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert "privileged" not in security

    host_paths = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}
    mounts = {m["mountPath"]: (host_paths[m["name"]], m.get("readOnly", False)) for m in container["volumeMounts"]}
    assert mounts == {
        "/host/sys": ("/sys", True),
        "/nfd-features": ("/etc/kubernetes/node-feature-discovery/features.d", False),
    }
    assert container["command"][0] == "aim-detect-accelerators"
    args = build_parser().parse_args(container["command"][1:])  # the flags the detector has
    assert (str(args.sys_root), str(args.features_dir), args.interval) == ("/host/sys", "/nfd-features", 30)


def test_the_accelerator_detector_image_can_be_named() -> None:
    documents = render(*DETECTOR, "--set", "acceleratorDetector.image.tag=dev")
    [daemonset] = [d for d in detector_objects(documents) if d["kind"] == "DaemonSet"]
    assert daemonset["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/aim-engine:dev"


def test_the_accelerator_detector_is_accepted_by_the_api_server(bare_plane: ControlPlane) -> None:
    bare_plane.kubectl("create", "namespace", NAMESPACE, check=False)
    manifest = "\n---\n".join(json.dumps(d) for d in detector_objects(render(*DETECTOR)))
    result = bare_plane.kubectl(
        "apply",
        "--server-side",
        "--dry-run=server",
        "--field-manager=helm-test",
        "-n",
        NAMESPACE,
        "-f",
        "-",
        input_text=manifest,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("serverside-applied (server dry run)") == 2

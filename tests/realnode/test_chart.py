"""The real install path: the chart installed with helm, the project's image (built by buildah from
the Dockerfile) running as pods on the real node, the API server calling the pod-served webhooks
through their Service, then upgrade, uninstall and reinstall.

The tests run in file order on one installation, as a platform team's install would go.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from detector.features import feature_lines, render
from detector.node import read_snapshot
from devcluster import images
from devcluster.controlplane import ControlPlane
from devcluster.realnode import NODE_NAME, REGISTRY
from devcluster.waiting import wait_until
from tests.conftest import Kubectl
from tests.realnode.support import (
    CHART,
    RELEASE,
    SYSTEM_NAMESPACE,
    V1,
    ApplyLoop,
    chart_values,
    deploy_model_and_template,
    helm,
    inference_service_of,
    install,
    install_third_party_crds,
    leader_pod,
    pods,
    report_ready,
    service,
    wait_ready,
    wait_service_state,
)

TEAM = "team-real"


@pytest.fixture(scope="module")
def installed(real_plane: ControlPlane, admin: Kubectl) -> ControlPlane:
    started = time.monotonic()
    install(real_plane)
    print(f"helm install --wait took {time.monotonic() - started:.1f}s")
    admin("create", "namespace", TEAM, check=False)
    return real_plane


def test_controller_and_webhooks_run_restricted_on_the_real_node(installed: ControlPlane, admin: Kubectl) -> None:
    """Before the image had a passwd entry and kopf an identity, the controller crash-looped here
    with `getpwuid(): uid not found: 65532`."""
    controllers = wait_ready(admin, "controller", 2)
    webhooks = wait_ready(admin, "webhook", 2)
    for pod in controllers + webhooks:
        assert pod["spec"]["nodeName"] == NODE_NAME
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        [container] = pod["spec"]["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["image"].startswith(f"{REGISTRY}/")
        assert pod["status"]["containerStatuses"][0]["restartCount"] == 0, pod["metadata"]["name"]
    for pod in controllers:
        log = admin("logs", "-n", SYSTEM_NAMESPACE, pod["metadata"]["name"]).stdout
        assert "getpwuid" not in log
        assert "Traceback" not in log
    wait_until(lambda: leader_pod(admin), 60, "one controller replica to lead")


def test_helm_test_reaches_the_webhook_by_its_cluster_dns_name(installed: ControlPlane) -> None:
    """The chart's test pod calls https://<service>.<namespace>.svc: it needs cluster DNS (CoreDNS)."""
    result = helm(installed, "test", RELEASE, "-n", SYSTEM_NAMESPACE, "--timeout=120s")
    assert "Phase:          Succeeded" in result.stdout


def test_invalid_service_is_denied_by_the_pod_served_webhook(installed: ControlPlane, admin: Kubectl) -> None:
    configuration = admin.get_json("validatingwebhookconfiguration", f"{RELEASE}-aim-engine-validating")
    assert "service" in configuration["webhooks"][0]["clientConfig"]  # not a URL on this host
    bad = service("bad", TEAM, model={"name": "m"}, routing={"enabled": True, "pathTemplate": "/{.metadata.namespace"})
    denied = admin.apply(bad, check=False)
    assert denied.returncode != 0
    assert "denied the request" in denied.stderr
    assert "spec.routing.pathTemplate" in denied.stderr


def test_v1alpha1_object_is_read_back_through_v1alpha2_by_the_pod_served_conversion(
    installed: ControlPlane, admin: Kubectl
) -> None:
    routing = {"enabled": True, "routeTemplate": "/{.metadata.namespace}/chat"}
    chat = {"apiVersion": V1, "kind": "AIMService", "metadata": {"name": "chat", "namespace": TEAM}}
    admin.apply(chat | {"spec": {"model": {"name": "qwen"}, "routing": routing}})
    stored = admin.get_json("aimservices.v1alpha2.aim.eai.amd.com", "chat", "-n", TEAM)
    assert stored["spec"]["routing"]["pathTemplate"] == "/{.metadata.namespace}/chat"
    back = admin.get_json("aimservices.v1alpha1.aim.eai.amd.com", "chat", "-n", TEAM)
    assert back["spec"]["routing"]["routeTemplate"] == "/{.metadata.namespace}/chat"


def test_kserve_crds_installed_after_the_controller_are_watched(installed: ControlPlane, admin: Kubectl) -> None:
    """With `get` only on CRDs, kopf never watched kinds whose CRDs came later: an InferenceService
    turning Ready went unnoticed until the next resync (an hour here) or a restart."""
    install_third_party_crds(admin)
    deploy_model_and_template(admin, TEAM)
    admin.apply(service("late", TEAM))
    isvc = wait_until(lambda: inference_service_of(admin, TEAM, "late"), 120, "the InferenceService of service late")
    report_ready(admin, TEAM, isvc)
    wait_service_state(admin, TEAM, "late", "Running")


def test_accelerator_detector_writes_this_nodes_feature_file(
    installed: ControlPlane, admin: Kubectl, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The optional DaemonSet, from the project's image, as uid 0 without capabilities: it reads the
    host's /sys and writes the feature file NFD would turn into labels (into a directory of the
    test's, not the host's real features.d), with the content the detector computes here."""
    features = tmp_path_factory.mktemp("nfd-features")
    detector = {"enabled": True, "intervalSeconds": 1, "featuresDir": str(features)}
    detector["nodeSelector"] = {"kubernetes.io/hostname": NODE_NAME}
    upgrade = ["upgrade", RELEASE, str(CHART), "-n", SYSTEM_NAMESPACE, "--reuse-values"]
    helm(installed, *upgrade, "--set-json", f"acceleratorDetector={json.dumps(detector)}", "--wait", "--timeout=120s")
    [pod] = wait_ready(admin, "accelerator-detector", 1)
    assert pod["spec"]["nodeName"] == NODE_NAME
    written = features / "aim-accelerators"
    wait_until(written.exists, 60, "the feature file")
    expected = render(feature_lines(read_snapshot(Path("/sys"), Path("/proc/cpuinfo"))))
    assert written.read_text() == expected
    helm(installed, *upgrade, "--set", "acceleratorDetector.enabled=false", "--wait", "--timeout=120s")
    wait_until(lambda: not pods(admin, "accelerator-detector"), 60, "the detector to go")


def test_upgrade_to_a_new_image_tag_rolls_out_without_a_failed_apply(installed: ControlPlane, admin: Kubectl) -> None:
    node = installed.real_node
    assert node is not None
    repository, tag = node.pushed["project"].rsplit(":", 1)
    new_tag = f"{tag}-next"
    images.push(images.built_image(images.PROJECT), f"{repository}:{new_tag}")

    def rolled_out() -> bool:
        current = pods(admin, "webhook") + pods(admin, "controller")
        return len(current) == 4 and all(p["spec"]["containers"][0]["image"].endswith(new_tag) for p in current)

    with ApplyLoop(admin, TEAM) as loop:
        loop.wait_for_more(3, "the client to apply")
        upgrade = ["upgrade", RELEASE, str(CHART), "-n", SYSTEM_NAMESPACE, *chart_values(installed, new_tag)]
        helm(installed, *upgrade, "--wait", "--timeout=240s")
        wait_until(rolled_out, 120, "every pod on the new tag")
        loop.wait_for_more(3, "more applies after the rollout")
    assert loop.failures == [], loop.failures[:3]
    wait_ready(admin, "webhook", 2)
    wait_ready(admin, "controller", 2)


def test_uninstall_keeps_crds_and_objects_and_a_reinstall_adopts_them(installed: ControlPlane, admin: Kubectl) -> None:
    helm(installed, "uninstall", RELEASE, "-n", SYSTEM_NAMESPACE, "--wait", "--timeout=120s")
    admin("get", "crd", "aimservices.aim.eai.amd.com")
    admin("get", "aimservice", "chat", "-n", TEAM)
    # As after an upgrade from a release that stored v1alpha1: the new leader migrates by itself.
    old = json.dumps({"status": {"storedVersions": ["v1alpha1", "v1alpha2"]}})
    admin("patch", "crd", "aimservices.aim.eai.amd.com", "--subresource=status", "--type=merge", "-p", old)
    install(installed)
    wait_ready(admin, "webhook", 2)
    wait_ready(admin, "controller", 2)
    stored = admin.get_json("aimservices.v1alpha1.aim.eai.amd.com", "chat", "-n", TEAM)
    assert stored["spec"]["routing"]["routeTemplate"] == "/{.metadata.namespace}/chat"
    assert "STATUS: deployed" in helm(installed, "status", RELEASE, "-n", SYSTEM_NAMESPACE).stdout

    def migrated() -> bool:
        crd = admin.get_json("crd", "aimservices.aim.eai.amd.com")
        return bool(crd["status"]["storedVersions"] == ["v1alpha2"])

    wait_until(migrated, 120, "the leading controller to migrate the stored AIMServices")

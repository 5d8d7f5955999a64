"""`kubectl aim doctor`'s judgements and `kubectl aim explain`'s tree, from objects (no cluster)."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest

from certs.authority import new_certificate_authority
from cli import doctor
from cli.explain import Observed, build, render

NOW = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)


def crd(stored: list[str], established: str = "True") -> dict[str, Any]:
    return {"status": {"conditions": [{"type": "Established", "status": established}], "storedVersions": stored}}


@pytest.mark.parametrize(
    ("found", "result", "words"),
    [
        (None, doctor.FAIL, "not installed"),
        (crd(["v1alpha2"], "False"), doctor.FAIL, "not Established"),
        (crd(["v1alpha1", "v1alpha2"]), doctor.WARN, "stored as v1alpha1, v1alpha2"),
        (crd(["v1alpha2"]), doctor.PASS, "Established"),
    ],
)
def test_crds(found: dict[str, Any] | None, result: str, words: str) -> None:
    check = doctor.judge_crd("aimservices.aim.eai.amd.com", found, "v1alpha2")
    assert (check.result, words in check.detail) == (result, True)
    assert check.result == doctor.PASS or check.fix or "Established" in check.detail


def bundle(days: int) -> str:
    authority = new_certificate_authority("test", validity=dt.timedelta(days=days + 1), now=NOW - dt.timedelta(days=1))
    return base64.b64encode(authority.cert_pem).decode()


@pytest.mark.parametrize(
    ("days", "result"),
    [(400, doctor.PASS), (20, doctor.WARN), (-1, doctor.FAIL)],
)
def test_certificates(days: int, result: str) -> None:
    assert doctor.judge_certificate("ca", bundle(days), NOW).result == result


def test_a_missing_or_broken_bundle_fails() -> None:
    assert doctor.judge_certificate("ca", None, NOW).result == doctor.FAIL
    assert doctor.judge_certificate("ca", base64.b64encode(b"nope").decode(), NOW).result == doctor.FAIL


@pytest.mark.parametrize(
    ("policy", "timeout", "result"),
    [("Fail", 5, doctor.PASS), ("Ignore", 5, doctor.WARN), ("Fail", 30, doctor.WARN)],
)
def test_webhook_settings(policy: str, timeout: int, result: str) -> None:
    hook = {"name": "v", "failurePolicy": policy, "timeoutSeconds": timeout, "clientConfig": {"caBundle": bundle(400)}}
    checks = doctor.judge_webhook({"kind": "ValidatingWebhookConfiguration", "webhooks": [hook]}, NOW)
    assert [c.result for c in checks] == [result, doctor.PASS]


@pytest.mark.parametrize(
    ("error", "result"),
    [
        (None, doctor.PASS),
        ('Internal error occurred: failed calling webhook "v": connection refused', doctor.FAIL),
        ("forbidden", doctor.WARN),
    ],
)
def test_admission(error: str | None, result: str) -> None:
    assert doctor.judge_admission(error).result == result


@pytest.mark.parametrize(
    ("lease", "result"),
    [
        (None, doctor.FAIL),
        ({"spec": {}}, doctor.FAIL),
        ({"spec": {"holderIdentity": "pod-a", "renewTime": "2026-12-06T23:59:50.000000Z"}}, doctor.PASS),
        ({"spec": {"holderIdentity": "pod-a", "renewTime": "2026-12-06T23:50:00.000000Z"}}, doctor.FAIL),
    ],
)
def test_leader(lease: dict[str, Any] | None, result: str) -> None:
    assert doctor.judge_leader(lease, NOW).result == result


def test_permissions_name_what_is_denied() -> None:
    check = doctor.judge_permissions("sa", {("batch", "jobs", "create"): False, ("", "nodes", "list"): True})
    assert check.result == doctor.FAIL
    assert "create jobs.batch" in check.detail
    assert "nodes" not in check.detail


def gpu_node(name: str, device: str = "74a1") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"amd.com/gpu.device-id": device}},
        "status": {"allocatable": {"amd.com/gpu": "8"}},
    }


def test_gpu_nodes() -> None:
    assert doctor.judge_gpu_nodes([{"metadata": {"name": "cpu"}}]).result == doctor.WARN
    check = doctor.judge_gpu_nodes([gpu_node("a"), gpu_node("b")])
    assert check.result == doctor.PASS
    assert "16 x MI300X" in check.detail


def template(name: str, kind: str, gpu: str, status: str = "Ready", metric: str = "latency") -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {"name": name, **({"namespace": "ml"} if kind == "AIMServiceTemplate" else {})},
        "spec": {
            "modelName": "qwen",
            "metric": metric,
            "precision": "fp8",
            "type": "optimized",
            "hardware": {"gpu": {"requests": 1, "models": [gpu]}},
        },
        "status": {"status": status},
    }


def service(status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "kind": "AIMService",
        "metadata": {"name": "chat", "namespace": "ml", "uid": "u1"},
        "spec": {"model": {"name": "qwen"}, **spec},
        "status": status or {},
    }


MODEL = {"kind": "AIMModel", "metadata": {"name": "qwen", "namespace": "ml"}, "status": {"status": "Ready"}}


def test_auto_selection_lists_every_candidate_with_why() -> None:
    observed = Observed(
        service=service(),
        models=[MODEL],
        templates=[
            template("qwen-mi300x", "AIMServiceTemplate", "MI300X"),
            template("qwen-mi355x", "AIMServiceTemplate", "MI355X"),
            template("qwen-pending", "AIMServiceTemplate", "MI300X", status="Pending"),
            template("qwen-cluster", "AIMClusterServiceTemplate", "MI300X", metric="throughput"),
        ],
        nodes=[gpu_node("n1")],
    )
    explanation = build(observed)
    verdicts = {c.template: c.verdict for c in explanation.candidates}
    assert verdicts == {
        "namespace/qwen-mi300x": "selected",
        "namespace/qwen-pending": "TemplatePending",
        "namespace/qwen-mi355x": "RequiredGPUNotInCluster",
        "cluster/qwen-cluster": "NamespaceTemplatePreferred",
    }
    assert explanation.selection.startswith("Resolved")


def test_the_chain_shows_states_and_what_blocks() -> None:
    status = {
        "status": "Pending",
        "resolvedModel": {"name": "qwen"},
        "resolvedTemplate": {"name": "qwen-mi300x"},
        "cache": {"templateCacheRef": {"name": "qwen-cache"}},
        "conditions": [{"type": "CacheReady", "status": "False", "reason": "CacheNotReady", "message": "downloading"}],
    }
    cache = {
        "kind": "AIMTemplateCache",
        "metadata": {"name": "qwen-cache", "namespace": "ml"},
        "status": {"status": "Progressing"},
    }
    artifact = {
        "kind": "AIMArtifact",
        "metadata": {"name": "qwen-art", "namespace": "ml", "ownerReferences": [{"name": "qwen-cache"}]},
        "status": {"status": "Progressing"},
    }
    observed = Observed(
        service=service(status, template={"name": "qwen-mi300x"}),
        models=[MODEL],
        templates=[template("qwen-mi300x", "AIMServiceTemplate", "MI300X")],
        caches=[cache],
        artifacts=[artifact],
    )
    explanation = build(observed)
    roles = [(link.role, link.name, link.state) for link in explanation.chain]
    assert roles == [
        ("service", "chat", "Pending"),
        ("runtime config", "default", "none (defaults apply)"),
        ("model", "qwen", "Ready"),
        ("template", "qwen-mi300x", "Ready"),
        ("cache", "qwen-cache", "Progressing"),
        ("artifact", "qwen-art", "Progressing"),
    ]
    assert explanation.candidates == []  # the template is named: no selection
    assert explanation.blocking[0] == "CacheReady=CacheNotReady: downloading"
    assert any("kubectl describe aimtemplatecache qwen-cache -n ml" in b for b in explanation.blocking)
    text = "\n".join(line for line, _ in render(explanation))
    assert "└─ artifact: AIMArtifact/qwen-art  Progressing" in text


def test_a_missing_model_says_so() -> None:
    explanation = build(Observed(service=service()))
    model = explanation.chain[2]
    assert (model.role, model.state) == ("model", "not found")
    assert any("model AIMModel/qwen is not found" in b for b in explanation.blocking)


def test_a_profile_service_shows_its_shared_profile_cache() -> None:
    from api.naming import profile_cache_name

    cache_name = profile_cache_name("qwen-latency", "ml")
    status = {"status": "Starting", "resolvedProfile": {"name": "qwen-latency"}}
    svc = service(status) | {"spec": {"profile": {"name": "qwen-latency"}}}
    profile = {
        "kind": "AIMProfile",
        "metadata": {"name": "qwen-latency", "namespace": "ml"},
        "status": {"status": "Ready"},
    }
    cache = {
        "kind": "AIMProfileCache",
        "metadata": {"name": cache_name, "namespace": "ml"},
        "status": {"status": "Ready", "artifacts": {"art": {}}},
    }
    artifact = {"kind": "AIMArtifact", "metadata": {"name": "art", "namespace": "ml"}, "status": {"status": "Ready"}}
    explanation = build(Observed(service=svc, profiles=[profile], profile_caches=[cache], artifacts=[artifact]))
    assert [(link.role, link.kind) for link in explanation.chain][2:] == [
        ("profile", "AIMProfile"),
        ("cache", "AIMProfileCache"),
        ("artifact", "AIMArtifact"),
    ]
    assert explanation.candidates == []

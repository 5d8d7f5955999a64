"""`kubectl aim doctor`: is AIM Engine installed and working on this cluster? Read-only checks, each
PASS, WARN or FAIL with what to do about it.

The judgements are pure functions of what was read (`judge_*`), so each is table-tested; `run`
does the reading.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from cryptography import x509

from api import GROUP
from api.registry import CRDS
from cli.cluster import Cluster, ClusterError
from controller.common.gpus import node_gpus

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
CERTIFICATE_WARN_DAYS = 30
LEASE_STALE_SECONDS = 60
THIRD_PARTY_CRDS = {
    "inferenceservices.serving.kserve.io": "KServe (services are deployed as InferenceServices)",
    "httproutes.gateway.networking.k8s.io": "Gateway API (spec.routing makes HTTPRoutes)",
}
CONTROLLER_PERMISSIONS = (
    (GROUP, "aimservices", "watch"),
    (GROUP, "aimservices/status", "patch"),
    (GROUP, "aimtemplatecaches", "create"),
    ("serving.kserve.io", "inferenceservices", "create"),
    ("gateway.networking.k8s.io", "httproutes", "create"),
    ("batch", "jobs", "create"),
    ("", "persistentvolumeclaims", "create"),
    ("", "nodes", "list"),
    ("", "events", "create"),
    ("coordination.k8s.io", "leases", "update"),
)
"""A sample of what the controller does (the chart's ClusterRole grants all of it)."""


@dataclass(frozen=True)
class Check:
    name: str
    result: str
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def judge_crd(name: str, crd: dict[str, Any] | None, storage_version: str) -> Check:
    if crd is None:
        return Check(f"CRD {name}", FAIL, "not installed", "helm install the aim-engine chart (it installs the CRDs)")
    conditions = {c["type"]: c["status"] for c in (crd.get("status") or {}).get("conditions") or []}
    if conditions.get("Established") != "True":
        return Check(f"CRD {name}", FAIL, "not Established", f"kubectl describe crd {name}")
    stored = (crd.get("status") or {}).get("storedVersions") or []
    if stored != [storage_version]:
        return Check(
            f"CRD {name}",
            WARN,
            f"objects stored as {', '.join(stored)}; this release stores {storage_version}",
            "the leading controller migrates them by itself; if it does not run, `python -m controller.migrate`",
        )
    return Check(f"CRD {name}", PASS, f"Established, stored as {storage_version}")


def judge_certificate(what: str, ca_bundle: str | None, now: dt.datetime) -> Check:
    """The CA bundle the API server uses to trust a webhook: present, and how long it lasts."""
    if not ca_bundle:
        return Check(what, FAIL, "no caBundle: the API server cannot trust the webhook", "helm upgrade the chart")
    try:
        certificate = x509.load_pem_x509_certificate(base64.b64decode(ca_bundle))
    except ValueError as error:
        return Check(what, FAIL, f"caBundle is not a PEM certificate: {error}", "helm upgrade the chart")
    days = (certificate.not_valid_after_utc - now).days
    if days < 0:
        return Check(what, FAIL, f"CA expired {-days} days ago", "helm upgrade the chart (it issues a new CA)")
    if days < CERTIFICATE_WARN_DAYS:
        return Check(what, WARN, f"CA expires in {days} days", "helm upgrade the chart before then")
    return Check(what, PASS, f"CA valid for {days} more days")


def judge_webhook(configuration: dict[str, Any], now: dt.datetime) -> list[Check]:
    kind = configuration.get("kind", "WebhookConfiguration")
    checks = []
    for hook in configuration.get("webhooks") or []:
        name = f"{kind} {hook.get('name')}"
        policy, timeout = hook.get("failurePolicy", "Fail"), hook.get("timeoutSeconds", 10)
        if policy != "Fail":
            checks.append(
                Check(
                    name,
                    WARN,
                    f"failurePolicy {policy}: objects are admitted unchecked while the webhook is down",
                    "set webhook.failurePolicy=Fail in the chart's values",
                )
            )
        elif timeout > 10:
            checks.append(Check(name, WARN, f"timeoutSeconds {timeout}: a slow webhook holds every apply that long"))
        else:
            checks.append(Check(name, PASS, f"failurePolicy {policy}, timeout {timeout}s"))
        checks.append(judge_certificate(f"{name} certificate", (hook.get("clientConfig") or {}).get("caBundle"), now))
    return checks


def judge_admission(dry_run_error: str | None) -> Check:
    if dry_run_error is None:
        return Check("admission", PASS, "a server-side dry-run AIMService was admitted through the webhooks")
    if "failed calling webhook" in dry_run_error:
        return Check(
            "admission",
            FAIL,
            f"the API server cannot reach the webhooks: {dry_run_error}",
            "kubectl get pods -l app.kubernetes.io/component=webhook -A; kubectl get endpointslices -A",
        )
    return Check("admission", WARN, f"the dry run was refused: {dry_run_error}")


def judge_leader(lease: dict[str, Any] | None, now: dt.datetime) -> Check:
    if lease is None:
        return Check("controller leader", FAIL, "no controller Lease", "is the controller Deployment running?")
    spec = lease.get("spec") or {}
    holder = spec.get("holderIdentity")
    renewed = spec.get("renewTime")
    if not holder or not renewed:
        return Check("controller leader", FAIL, "no replica holds the Lease", "kubectl logs the controller pods")
    age = (now - dt.datetime.fromisoformat(renewed.replace("Z", "+00:00"))).total_seconds()
    if age > LEASE_STALE_SECONDS:
        return Check("controller leader", FAIL, f"{holder} last renewed {age:.0f}s ago", "kubectl logs the controller")
    return Check("controller leader", PASS, f"{holder}, renewed {age:.0f}s ago")


def judge_permissions(subject: str, allowed: dict[tuple[str, str, str], bool]) -> Check:
    denied = [
        f"{verb} {resource}{'.' + group if group else ''}" for (group, resource, verb), ok in allowed.items() if not ok
    ]
    if denied:
        return Check(
            "controller RBAC",
            FAIL,
            f"{subject} may not: {', '.join(denied)}",
            "helm upgrade the chart (its ClusterRole grants these)",
        )
    return Check("controller RBAC", PASS, f"{subject} may do what the controller does ({len(allowed)} checked)")


def judge_third_party(name: str, purpose: str, crd: dict[str, Any] | None) -> Check:
    if crd is None:
        return Check(name, WARN, f"not installed: {purpose}", "install it before deploying services")
    return Check(name, PASS, "installed")


def judge_gpu_nodes(nodes: Iterable[dict[str, Any]]) -> Check:
    found = [gpus for node in nodes if (gpus := node_gpus(node)) is not None]
    if not found:
        return Check(
            "GPU nodes",
            WARN,
            "no node has AMD GPU labels: services stay Pending",
            "install AMD's GPU operator (node labeller) or label the nodes",
        )
    models: dict[str, int] = {}
    for gpus in found:
        models[gpus.model] = models.get(gpus.model, 0) + gpus.count
    summary = ", ".join(f"{count} x {model}" for model, count in sorted(models.items()))
    return Check("GPU nodes", PASS, f"{len(found)} node(s): {summary}")


# --- reading the cluster ---------------------------------------------------------------------------

CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"


def run(cluster: Cluster, now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> list[Check]:
    checks: list[Check] = []
    for spec in CRDS:
        name = f"{spec.names.plural}.{spec.group}"
        storage = next(v.name for v in spec.versions if v.storage)
        crd = _read(cluster, CRD_PATH + name, checks, f"CRD {name}")
        checks.append(judge_crd(name, crd, storage))
        conversion = ((crd or {}).get("spec") or {}).get("conversion") or {}
        if conversion.get("strategy") == "Webhook":
            bundle = ((conversion.get("webhook") or {}).get("clientConfig") or {}).get("caBundle")
            checks.append(judge_certificate(f"conversion webhook of {name}", bundle, now()))
    for kind in ("validating", "mutating"):
        listed = _read(cluster, f"/apis/admissionregistration.k8s.io/v1/{kind}webhookconfigurations", checks, kind)
        ours = [c for c in (listed or {}).get("items", []) if _guards_aim(c)]
        if not ours:
            checks.append(Check(f"{kind} webhook", FAIL, "not registered", "helm install the aim-engine chart"))
        for configuration in ours:
            configuration.setdefault("kind", f"{kind.capitalize()}WebhookConfiguration")
            checks += judge_webhook(configuration, now())
    checks.append(judge_admission(_dry_run(cluster)))
    deployment = _controller_deployment(cluster)
    if deployment is None:
        checks.append(
            Check("controller", WARN, "no controller Deployment of the chart found (run outside the cluster?)")
        )
    else:
        namespace = deployment["metadata"]["namespace"]
        lease_name = _env(deployment, "AIM_CONTROLLER_LEASE_NAME") or "aim-engine-controller"
        lease = _read(
            cluster, f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{lease_name}", checks, "lease"
        )
        checks.append(judge_leader(lease, now()))
        account = deployment["spec"]["template"]["spec"].get("serviceAccountName") or "default"
        subject = f"system:serviceaccount:{namespace}:{account}"
        checks.append(judge_permissions(subject, {p: _may(cluster, subject, *p) for p in CONTROLLER_PERMISSIONS}))
    for name, purpose in THIRD_PARTY_CRDS.items():
        checks.append(judge_third_party(name, purpose, _read(cluster, CRD_PATH + name, checks, name)))
    nodes = _read(cluster, "/api/v1/nodes", checks, "nodes")
    checks.append(judge_gpu_nodes((nodes or {}).get("items", [])))
    return checks


def _read(cluster: Cluster, path: str, checks: list[Check], what: str) -> dict[str, Any] | None:
    try:
        return cluster.get(path)
    except ClusterError as error:
        checks.append(Check(what, FAIL, f"cannot read: {error}"))
        return None


def _guards_aim(configuration: dict[str, Any]) -> bool:
    return any(
        GROUP in (rule.get("apiGroups") or [])
        for hook in configuration.get("webhooks") or []
        for rule in hook.get("rules") or []
    )


def _dry_run(cluster: Cluster) -> str | None:
    probe = {
        "apiVersion": f"{GROUP}/v1alpha2",
        "kind": "AIMService",
        "metadata": {"generateName": "aim-doctor-", "namespace": "default"},
        "spec": {"model": {"name": "aim-doctor-probe"}},
    }
    try:
        cluster.custom.create_namespaced_custom_object(
            GROUP, "v1alpha2", "default", "aimservices", probe, dry_run="All", _request_timeout=15
        )
    except Exception as error:  # the API server's refusal, or no answer at all
        body = getattr(error, "body", None)
        return str(body or error)
    return None


def _controller_deployment(cluster: Cluster) -> dict[str, Any] | None:
    selector = "app.kubernetes.io/name=aim-engine,app.kubernetes.io/component=controller"
    try:
        listed = cluster.get(f"/apis/apps/v1/deployments?labelSelector={selector}")
    except ClusterError:
        return None
    items = (listed or {}).get("items") or []
    return items[0] if items else None


def _env(deployment: dict[str, Any], name: str) -> str | None:
    for container in deployment["spec"]["template"]["spec"].get("containers") or []:
        for variable in container.get("env") or []:
            if variable.get("name") == name:
                return str(variable.get("value") or "") or None
    return None


def _may(cluster: Cluster, user: str, group: str, resource: str, verb: str) -> bool:
    resource, _, subresource = resource.partition("/")
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": user,
            "groups": [
                "system:serviceaccounts",
                f"system:serviceaccounts:{user.split(':')[2]}",
                "system:authenticated",
            ],
            "resourceAttributes": {"group": group, "resource": resource, "subresource": subresource, "verb": verb},
        },
    }
    try:
        answer = cluster.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", review)
    except ClusterError:
        return False
    return bool((answer.get("status") or {}).get("allowed"))


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.result == FAIL for c in checks) else 0

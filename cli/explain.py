"""`kubectl aim explain service NAME`: the chain an AIMService resolves through (runtime config,
model, template or profile, cache, artifacts, InferenceService, route), each with its state; for
auto-selection every candidate template with why it won or was dropped, computed by the
controller's own selection function (`controller.common.selection.select_template`) on the
cluster's templates and GPU nodes; and what blocks the service now.

`build` is pure (objects in, an `Explanation` out); `observe` reads the cluster.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from api.conditions import ConditionType
from api.naming import profile_cache_name
from cli.cluster import Cluster
from controller.common.gpus import cluster_gpu_models
from controller.common.selection import CLUSTER_KIND, NAMESPACE_KIND, Overrides, describe, select_template

HEALTHY = {"Ready", "Running", "Available", "Bound", "True"}


@dataclass
class Link:
    """One object of the chain."""

    role: str
    kind: str
    name: str
    state: str
    detail: str = ""
    look_closer: str = ""


@dataclass
class Candidate:
    template: str
    verdict: str  # "selected" | the reason it was dropped
    detail: str = ""


@dataclass
class Explanation:
    service: str
    namespace: str
    state: str
    chain: list[Link] = field(default_factory=list)
    selection: str = ""
    candidates: list[Candidate] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Observed:
    """What `build` needs from the cluster: the service (storage version) and what it names."""

    service: dict[str, Any]
    models: list[dict[str, Any]] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)
    """The namespace's AIMServiceTemplates and every AIMClusterServiceTemplate, with `kind` set."""
    runtime_configs: list[dict[str, Any]] = field(default_factory=list)
    profiles: list[dict[str, Any]] = field(default_factory=list)
    caches: list[dict[str, Any]] = field(default_factory=list)
    profile_caches: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    children: list[dict[str, Any]] = field(default_factory=list)
    """InferenceServices and HTTPRoutes the service owns."""
    nodes: list[dict[str, Any]] = field(default_factory=list)


def build(observed: Observed) -> Explanation:
    service = observed.service
    metadata, spec, status = service["metadata"], service.get("spec") or {}, service.get("status") or {}
    namespace = metadata.get("namespace", "")
    explanation = Explanation(metadata["name"], namespace, status.get("status") or "Pending (not reconciled yet)")
    chain = explanation.chain
    chain.append(_link("service", service, namespace))

    config = (status.get("resolvedRuntimeConfig") or {}).get("name") or spec.get("runtimeConfigName") or "default"
    chain.append(
        _named("runtime config", observed.runtime_configs, config, namespace, "AIMRuntimeConfig", optional=True)
    )

    model_name = (status.get("resolvedModel") or {}).get("name") or (spec.get("model") or {}).get("name")
    if model_name:
        chain.append(_named("model", observed.models, model_name, namespace, "AIMModel"))
    elif (spec.get("model") or {}).get("image"):
        chain.append(Link("model", "AIMModel", "(from spec.model.image)", "not created yet"))

    profile_name = (status.get("resolvedProfile") or {}).get("name") or (spec.get("profile") or {}).get("name")
    template_name = (status.get("resolvedTemplate") or {}).get("name") or (spec.get("template") or {}).get("name")
    if profile_name:
        chain.append(_named("profile", observed.profiles, profile_name, namespace, "AIMProfile"))
    elif template_name:
        chain.append(_named("template", observed.templates, template_name, namespace, NAMESPACE_KIND))
    if not profile_name and not (spec.get("template") or {}).get("name") and model_name:
        _explain_selection(explanation, observed, spec, model_name)

    cache_name = ((status.get("cache") or {}).get("templateCacheRef") or {}).get("name")
    if profile_name and not cache_name:
        # A profile's cache is Shared and named by profile and namespace (api.naming), not in status.
        shared = profile_cache_name(profile_name, namespace)
        found = [c for c in observed.profile_caches if c["metadata"]["name"] == shared]
        if found:
            chain.append(_link("cache", found[0], namespace))
            listed = (found[0].get("status") or {}).get("artifacts") or {}
            chain += [_link("artifact", a, namespace) for a in observed.artifacts if a["metadata"]["name"] in listed]
    if cache_name:
        cache = _named("cache", observed.caches, cache_name, namespace, "AIMTemplateCache")
        chain.append(cache)
        listed = next(
            (
                (c.get("status") or {}).get("artifacts") or {}
                for c in observed.caches
                if c["metadata"]["name"] == cache_name
            ),
            {},
        )
        owned = [a for a in observed.artifacts if a["metadata"]["name"] in listed or _owned_by(a, cache_name)]
        chain += [_link("artifact", a, namespace) for a in owned]
    chain += [_link(child.get("kind", "").lower(), child, namespace) for child in observed.children]

    explanation.blocking = _blocking(service, chain)
    return explanation


def _explain_selection(explanation: Explanation, observed: Observed, spec: dict[str, Any], model_name: str) -> None:
    gpus = set(cluster_gpu_models(observed.nodes))
    selection = select_template(
        observed.templates,
        model_name,
        bool((spec.get("template") or {}).get("allowUnoptimized")),
        Overrides.from_service_spec(spec),
        gpus,
    )
    explanation.selection = f"{selection.reason!s}: {selection.message}"
    if selection.template is not None:
        explanation.candidates.append(Candidate(describe(selection.template), "selected"))
    explanation.candidates += [Candidate(r.template, str(r.reason), r.detail) for r in selection.rejected]


def _named(
    role: str, objects: list[dict[str, Any]], name: str, namespace: str, kind: str, optional: bool = False
) -> Link:
    """The namespace's object of that name, else the cluster-scoped one (as the controller resolves)."""
    found = [o for o in objects if o["metadata"]["name"] == name]
    found.sort(key=lambda o: 0 if o["metadata"].get("namespace") else 1)
    if found:
        return _link(role, found[0], namespace)
    if optional:
        return Link(role, kind, name, "none (defaults apply)")
    return Link(role, kind, name, "not found", "the service waits until it exists", f"kubectl get {kind.lower()} -A")


def _link(role: str, obj: dict[str, Any], namespace: str) -> Link:
    kind, name = obj.get("kind", ""), obj["metadata"]["name"]
    status = obj.get("status") or {}
    state = status.get("status") or _ready_condition(status) or "no status yet"
    where = f" -n {obj['metadata']['namespace']}" if obj["metadata"].get("namespace") else ""
    return Link(role, kind, name, str(state), _problem(status), f"kubectl describe {kind.lower()} {name}{where}")


def _ready_condition(status: dict[str, Any]) -> str:
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready":
            return "Ready" if condition.get("status") == "True" else f"not Ready ({condition.get('reason', '')})"
    return ""


def _problem(status: dict[str, Any]) -> str:
    for condition in status.get("conditions") or []:
        if condition.get("status") == "False" and condition.get("type") != ConditionType.READY:
            return f"{condition['type']}: {condition.get('reason', '')}: {condition.get('message', '')}".rstrip(": ")
    return ""


def _owned_by(obj: dict[str, Any], owner: str) -> bool:
    return any(ref.get("name") == owner for ref in obj["metadata"].get("ownerReferences") or [])


def _blocking(service: dict[str, Any], chain: list[Link]) -> list[str]:
    """The service's own False conditions first (the controller's words), then links not healthy."""
    blocking = []
    failing = [c for c in (service.get("status") or {}).get("conditions") or [] if c.get("status") == "False"]
    if len(failing) > 1:  # Ready=False only repeats the others
        failing = [c for c in failing if c.get("type") != ConditionType.READY]
    for condition in failing:
        blocking.append(f"{condition['type']}={condition.get('reason', '')}: {condition.get('message', '')}")
    for link in chain[1:]:
        if link.state not in HEALTHY and not link.state.startswith("none"):
            blocking.append(f"{link.role} {link.kind}/{link.name} is {link.state}; look closer: {link.look_closer}")
    return blocking


def observe(cluster: Cluster, service: dict[str, Any]) -> Observed:
    namespace = service["metadata"]["namespace"]
    uid = service["metadata"].get("uid")

    def both(kind: str, cluster_kind: str) -> list[dict[str, Any]]:
        return [{**o, "kind": kind} for o in cluster.list_aim(kind, namespace)] + [
            {**o, "kind": cluster_kind} for o in cluster.list_aim(cluster_kind)
        ]

    children = []
    for path in (
        f"/apis/serving.kserve.io/v1beta1/namespaces/{namespace}/inferenceservices",
        f"/apis/gateway.networking.k8s.io/v1/namespaces/{namespace}/httproutes",
    ):
        try:
            listed = cluster.get(path) or {}
        except Exception:  # the CRD is not installed: nothing of that kind to show
            listed = {}
        children += [
            o
            for o in listed.get("items") or []
            if any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences") or [])
        ]
    nodes = (cluster.get("/api/v1/nodes") or {}).get("items") or []
    return Observed(
        service=service,
        models=both("AIMModel", "AIMClusterModel"),
        templates=both(NAMESPACE_KIND, CLUSTER_KIND),
        runtime_configs=both("AIMRuntimeConfig", "AIMClusterRuntimeConfig"),
        profiles=both("AIMProfile", "AIMClusterProfile"),
        caches=[{**o, "kind": "AIMTemplateCache"} for o in cluster.list_aim("AIMTemplateCache", namespace)],
        profile_caches=[{**o, "kind": "AIMProfileCache"} for o in cluster.list_aim("AIMProfileCache", namespace)],
        artifacts=[{**o, "kind": "AIMArtifact"} for o in cluster.list_aim("AIMArtifact", namespace)],
        children=children,
        nodes=nodes,
    )


def render(explanation: Explanation) -> list[tuple[str, str]]:
    """(text, style) lines: the tree, the selection, what blocks."""
    lines = [(f"AIMService {explanation.namespace}/{explanation.service}: {explanation.state}", "bold")]
    for index, link in enumerate(explanation.chain[1:], start=1):
        branch = "└─" if index == len(explanation.chain) - 1 else "├─"
        style = "green" if link.state in HEALTHY else ("yellow" if link.state.startswith("none") else "red")
        lines.append((f"{branch} {link.role}: {link.kind}/{link.name}  {link.state}", style))
        if link.detail:
            lines.append((f"{'   ' if branch == '└─' else '│  '}   {link.detail}", "dim"))
    if explanation.selection:
        lines.append(("", ""))
        lines.append((f"template selection: {explanation.selection}", "bold"))
        for candidate in explanation.candidates:
            style = "green" if candidate.verdict == "selected" else "dim"
            detail = f" ({candidate.detail})" if candidate.detail else ""
            lines.append((f"  {candidate.template}: {candidate.verdict}{detail}", style))
    lines.append(("", ""))
    if explanation.blocking:
        lines.append(("blocking:", "bold red"))
        lines += [(f"  {item}", "red") for item in explanation.blocking]
    else:
        lines.append(("nothing blocks this service", "green"))
    return lines

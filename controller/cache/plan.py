"""AIMTemplateCache: a template's model sources in, one AIMArtifact per source out (pure).

Shared caches reuse (and create) unowned artifacts, so a model is downloaded once per namespace
whoever asks; Dedicated caches own theirs. On deletion the cache removes the artifacts it created
that never became Ready (Ready ones stay for reuse) unless the namespace itself is going away.

AIMProfileCache (controller.profilecache.plan) does the same for a profile's model sources; the
functions below that take labels or an owner word serve both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.conditions import Reason
from api.naming import derived_name, rfc1123
from controller.cache.observe import CacheObservation
from controller.common.runtimeconfig import merge_env
from controller.pipeline.components import Component, component_status
from controller.pipeline.plan import SEVERITY, ObjectRef, Plan, owned_by, owner_reference, worst

V1 = "aim.eai.amd.com/v1alpha1"
FINALIZER = "aim.eai.amd.com/artifactcleanup"
CACHE_LABEL = "aim.eai.amd.com/template-cache.name"
_STATE_RANK = {state: i for i, state in enumerate(SEVERITY)}


def artifact_name(source_uri: str, env: list[dict[str, Any]], storage_class: str, dedicated_for: str = "") -> str:
    inputs: list[Any] = [source_uri, env, storage_class]
    if dedicated_for:
        inputs += ["dedicated", dedicated_for]
    return derived_name([source_uri.replace(".", "-")], inputs, hash_length=10)


def _usable(artifact: dict[str, Any], cache: dict[str, Any], source_uri: str) -> bool:
    spec = cache.get("spec") or {}
    a_spec = artifact.get("spec") or {}
    if a_spec.get("sourceUri") != source_uri or not artifact.get("status"):
        return False
    if spec.get("storageClassName") and a_spec.get("storageClassName") != spec["storageClassName"]:
        return False
    owners = artifact["metadata"].get("ownerReferences") or []
    if spec.get("mode") == "Dedicated":
        return owned_by(artifact, cache["metadata"]["uid"])
    return not owners


def best_artifact(artifacts: list[dict[str, Any]], cache: dict[str, Any], source_uri: str) -> dict[str, Any] | None:
    usable = [a for a in artifacts if _usable(a, cache, source_uri)]
    return max(
        usable,
        key=lambda a: (_STATE_RANK.get((a.get("status") or {}).get("status", "Pending"), 0), a["metadata"]["name"]),
        default=None,
    )


def plan_artifact(cache: dict[str, Any], source: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """The AIMArtifact for one model source of a (template or profile) cache; `labels` name where
    it came from, including the cache whose finalizer cleans it up."""
    spec = cache.get("spec") or {}
    dedicated = spec.get("mode") == "Dedicated"
    env = merge_env(list(spec.get("env") or []), list(source.get("env") or []))
    storage_class = spec.get("storageClassName") or ""
    name = artifact_name(source["sourceUri"], env, storage_class, cache["metadata"]["name"] if dedicated else "")
    artifact_spec: dict[str, Any] = {"sourceUri": source["sourceUri"], "modelId": source.get("modelId")}
    if storage_class:
        artifact_spec["storageClassName"] = storage_class
    if source.get("size"):
        artifact_spec["size"] = source["size"]
    if env:
        artifact_spec["env"] = env
    if spec.get("runtimeConfigName"):
        artifact_spec["runtimeConfigName"] = spec["runtimeConfigName"]
    if spec.get("downloadImage"):
        artifact_spec["modelDownloadImage"] = spec["downloadImage"]
    if spec.get("imagePullSecrets"):
        artifact_spec["imagePullSecrets"] = spec["imagePullSecrets"]
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": cache["metadata"]["namespace"],
        "labels": {"app.kubernetes.io/managed-by": "aim-engine"} | labels,
    }
    if dedicated:
        metadata["ownerReferences"] = [owner_reference(cache)]
    return {"apiVersion": V1, "kind": "AIMArtifact", "metadata": metadata, "spec": artifact_spec}


def template_artifact_labels(cache: dict[str, Any], template: dict[str, Any], index: int) -> dict[str, str]:
    return {
        "aim.eai.amd.com/template-created": "true",
        "aim.eai.amd.com/template.name": rfc1123(template["metadata"]["name"]),
        "aim.eai.amd.com/template.scope": (cache.get("spec") or {}).get("templateScope", "Namespace"),
        "aim.eai.amd.com/template.index": str(index),
        CACHE_LABEL: rfc1123(cache["metadata"]["name"]),
    }


ArtifactEntry = tuple[dict[str, Any] | None, str]
"""An artifact serving one model source (None until it exists) and the source's modelId."""


def resolve_artifacts(
    cache: dict[str, Any],
    artifacts: list[dict[str, Any]],
    sources: list[dict[str, Any]],
    labels: Callable[[int], dict[str, str]],
) -> tuple[list[ArtifactEntry], list[dict[str, Any]]]:
    """The best usable artifact per source, and the artifacts to apply for sources that have none."""
    entries: list[ArtifactEntry] = []
    desired: list[dict[str, Any]] = []
    for index, source in enumerate(sources):
        found = best_artifact(artifacts, cache, source["sourceUri"])
        if found is None:
            planned = plan_artifact(cache, source, labels(index))
            desired.append(planned)
            found = next((a for a in artifacts if a["metadata"]["name"] == planned["metadata"]["name"]), None)
        entries.append((found, source.get("modelId", "")))
    return entries, desired


def _template_component(observed: CacheObservation) -> Component:
    spec = observed.cache.get("spec") or {}
    name, scope = spec.get("templateName", ""), spec.get("templateScope", "Namespace")
    template = observed.template
    if template is None:
        return Component("ServiceTemplateReady", "Failed", "ReferenceNotFound", f"{scope} template {name} not found")
    state = (template.get("status") or {}).get("status") or "Pending"
    if state == "Ready":
        return Component("ServiceTemplateReady", "Ready", "TemplateReady", f"{scope} template {name} is Ready")
    if state in ("Failed", "NotAvailable", "Degraded"):
        return Component("ServiceTemplateReady", state, "TemplateNotReady", f"{scope} template {name} is {state}")
    return Component("ServiceTemplateReady", "Pending", "TemplateNotReady", f"Waiting for {scope} template {name}")


def artifacts_component(entries: list[ArtifactEntry], owner: str) -> Component:
    """ArtifactsReady; `owner` ("template", "profile") names what should have had model sources."""
    if not entries:
        return Component("ArtifactsReady", "Failed", Reason.NO_CACHES, f"The {owner} has no model sources")
    if any(artifact is None for artifact, _ in entries):
        return Component("ArtifactsReady", "Progressing", Reason.CREATING_CACHES, "Creating artifacts")
    states = [((a or {}).get("status") or {}).get("status") or "Pending" for a, _ in entries]
    state = worst(states)
    if state == "Ready":
        return Component("ArtifactsReady", "Ready", Reason.ALL_CACHES_READY, f"{len(entries)} artifact(s) ready")
    artifact = next(a for a, _ in entries if ((a or {}).get("status") or {}).get("status", "Pending") == state)
    ready: dict[str, Any] = next(
        (c for c in ((artifact or {}).get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), {}
    )
    state = "Progressing" if state == "Pending" else state
    message = f"One or more caches are not ready: {(artifact or {})['metadata']['name']} {ready.get('message', '')}"
    return Component("ArtifactsReady", state, ready.get("reason") or Reason.CACHES_NOT_READY, message.strip())


def artifacts_status(entries: list[ArtifactEntry]) -> dict[str, Any] | None:
    """status.artifacts: the existing artifacts by name (None when there is none yet)."""
    return {
        a["metadata"]["name"]: {
            "uid": a["metadata"]["uid"],
            "name": a["metadata"]["name"],
            "model": model,
            "status": (a.get("status") or {}).get("status") or "Pending",
            **(
                {"persistentVolumeClaim": a["status"]["persistentVolumeClaim"]}
                if (a.get("status") or {}).get("persistentVolumeClaim")
                else {}
            ),
        }
        for a, model in entries
        if a is not None
    } or None


def plan_template_cache(observed: CacheObservation, now: str) -> Plan:
    cache = observed.cache
    metadata = cache["metadata"]
    finalizers = list(metadata.get("finalizers") or [])
    if metadata.get("deletionTimestamp"):
        return plan_deletion(cache, observed.artifacts, observed.namespace_terminating, CACHE_LABEL)
    plan = Plan()
    if FINALIZER not in finalizers:
        plan.finalizers = [*finalizers, FINALIZER]
    components = [_template_component(observed)]
    template = observed.template
    extra: dict[str, Any] = {}
    if template is not None:
        extra["resolvedTemplateKind"] = template["kind"]
    if components[0].state == "Ready" and template is not None:
        sources = (template.get("status") or {}).get("modelSources") or []
        entries, desired = resolve_artifacts(
            cache, observed.artifacts, sources, lambda index: template_artifact_labels(cache, template, index)
        )
        plan.apply += desired
        components.append(artifacts_component(entries, "template"))
        extra["artifacts"] = artifacts_status(entries)
    plan.status = component_status(cache, components, now, extra)
    return plan


def plan_deletion(
    cache: dict[str, Any], artifacts: list[dict[str, Any]], namespace_terminating: bool, label: str
) -> Plan:
    """Drop the cleanup finalizer, deleting the artifacts labelled `label`=<cache> that are not
    Ready (Ready ones stay for reuse), unless the namespace itself is going away."""
    finalizers = list(cache["metadata"].get("finalizers") or [])
    plan = Plan(finalizers=[f for f in finalizers if f != FINALIZER])
    if namespace_terminating:
        return plan  # everything in the namespace goes anyway; never block its deletion
    value = rfc1123(cache["metadata"]["name"])
    for artifact in artifacts:
        labels = artifact["metadata"].get("labels") or {}
        if labels.get(label) == value and (artifact.get("status") or {}).get("status") != "Ready":
            plan.delete.append(
                ObjectRef(V1, "AIMArtifact", artifact["metadata"]["name"], artifact["metadata"]["namespace"])
            )
    return plan

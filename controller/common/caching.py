"""Caches of model sources, shared by template caches (controller.cache) and profile caches
(controller.profilecache) (pure): one AIMArtifact per source, reused across caches of a namespace
when Shared, owned when Dedicated; their aggregate health and the status map; clean-up of the
artifacts a deleted cache created that never became Ready."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from api import labels, naming
from api.conditions import ConditionType, Reason
from api.naming import rfc1123
from api.objects import AnyObject, as_stored
from api.v1alpha1.aimartifact import ArtifactType
from api.v1alpha1.common import LifecycleStatus
from controller.common.runtimeconfig import merge_env
from controller.pipeline.components import Component
from controller.pipeline.objects import child_labels, managed, manifest, with_present
from controller.pipeline.plan import ObjectRef, Plan, owned_by, severity_rank, worst


@dataclass
class CacheObservation:
    """What a template or profile cache's reconcile observed (filled by its fetch step)."""

    cache: dict[str, Any]
    """An AIMTemplateCache (v1alpha1) or AIMProfileCache (v1alpha2)."""
    source: dict[str, Any] | None
    """The template or profile whose model sources the cache holds (spec.templateName or
    spec.profileName in its scope), when it exists."""
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    """Every AIMArtifact in the cache's namespace."""
    namespace_terminating: bool = False

    def existing(self, kind: str, name: str) -> dict[str, Any] | None:
        if kind != "AIMArtifact":
            return None
        return next((a for a in self.artifacts if a["metadata"]["name"] == name), None)


artifact_name = naming.artifact_name


def _usable(artifact: dict[str, Any], cache: dict[str, Any], source_uri: str) -> bool:
    spec = cache.get("spec") or {}
    a_spec = artifact.get("spec") or {}
    if a_spec.get("sourceUri") != source_uri or not artifact.get("status"):
        return False
    if a_spec.get("type", ArtifactType.MODEL) != ArtifactType.MODEL:
        return False  # an adapter is staged per service, never a model's cache
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
        key=lambda a: (
            severity_rank((a.get("status") or {}).get("status")),
            a["metadata"]["name"],
        ),
        default=None,
    )


def plan_artifact(cache: dict[str, Any], source: dict[str, Any], origin: dict[str, str]) -> dict[str, Any]:
    """The AIMArtifact for one model source of a (template or profile) cache; the `origin` labels
    name where it came from, including the cache whose finalizer cleans it up."""
    spec = cache.get("spec") or {}
    dedicated = spec.get("mode") == "Dedicated"
    env = merge_env(list(spec.get("env") or []), list(source.get("env") or []))
    storage_class = spec.get("storageClassName") or ""
    name = artifact_name(source["sourceUri"], env, storage_class, cache["metadata"]["name"] if dedicated else "")
    artifact_spec = with_present(
        {"sourceUri": source["sourceUri"], "modelId": source.get("modelId")},
        storageClassName=storage_class,
        size=source.get("size"),
        env=env,
        runtimeConfigName=spec.get("runtimeConfigName"),
        modelDownloadImage=spec.get("downloadImage"),
        imagePullSecrets=spec.get("imagePullSecrets"),
    )
    return manifest(
        labels.V1ALPHA1,
        "AIMArtifact",
        name,
        cache["metadata"]["namespace"],
        object_labels=child_labels(cache, managed(origin)),
        owner=cache if dedicated else None,
        spec=artifact_spec,
    )


ArtifactEntry = tuple[dict[str, Any] | None, str]
"""An artifact serving one model source (None until it exists) and the source's modelId."""


def resolve_artifacts(
    cache: dict[str, Any],
    artifacts: list[dict[str, Any]],
    sources: list[dict[str, Any]],
    origin: Callable[[int], dict[str, str]],
) -> tuple[list[ArtifactEntry], list[dict[str, Any]]]:
    """The best usable artifact per source, and the artifacts to apply for sources that have none
    (labelled `origin(index of the source)`)."""
    entries: list[ArtifactEntry] = []
    desired: list[dict[str, Any]] = []
    for index, source in enumerate(sources):
        found = best_artifact(artifacts, cache, source["sourceUri"])
        if found is None:
            planned = plan_artifact(cache, source, origin(index))
            desired.append(planned)
            found = next((a for a in artifacts if a["metadata"]["name"] == planned["metadata"]["name"]), None)
        entries.append((found, source.get("modelId", "")))
    return entries, desired


def artifacts_component(entries: list[ArtifactEntry], owner: str) -> Component:
    """ArtifactsReady; `owner` ("template", "profile") names what should have had model sources."""
    condition = ConditionType.ARTIFACTS_READY
    if not entries:
        return Component(condition, LifecycleStatus.FAILED, Reason.NO_CACHES, f"The {owner} has no model sources")
    if any(artifact is None for artifact, _ in entries):
        return Component(condition, LifecycleStatus.PROGRESSING, Reason.CREATING_CACHES, "Creating artifacts")
    states = [((a or {}).get("status") or {}).get("status") or LifecycleStatus.PENDING for a, _ in entries]
    state = worst(states)
    if state == LifecycleStatus.READY:
        return Component(condition, LifecycleStatus.READY, Reason.ALL_CACHES_READY, f"{len(entries)} artifact(s) ready")
    artifact = next(
        a for a, _ in entries if ((a or {}).get("status") or {}).get("status", LifecycleStatus.PENDING) == state
    )
    ready: dict[str, Any] = next(
        (
            c
            for c in ((artifact or {}).get("status") or {}).get("conditions") or []
            if c.get("type") == ConditionType.READY
        ),
        {},
    )
    state = LifecycleStatus.PROGRESSING if state == LifecycleStatus.PENDING else state
    message = f"One or more caches are not ready: {(artifact or {})['metadata']['name']} {ready.get('message', '')}"
    return Component(condition, state, ready.get("reason") or Reason.CACHES_NOT_READY, message.strip())


def artifacts_status(entries: list[ArtifactEntry]) -> dict[str, Any] | None:
    """status.artifacts: the existing artifacts by name (None when there is none yet)."""
    return {
        a["metadata"]["name"]: {
            "uid": a["metadata"]["uid"],
            "name": a["metadata"]["name"],
            "model": model,
            "status": (a.get("status") or {}).get("status") or LifecycleStatus.PENDING,
            **(
                {"persistentVolumeClaim": a["status"]["persistentVolumeClaim"]}
                if (a.get("status") or {}).get("persistentVolumeClaim")
                else {}
            ),
        }
        for a, model in entries
        if a is not None
    } or None


def plan_deletion(
    cache: dict[str, Any], artifacts: list[dict[str, Any]], namespace_terminating: bool, label: str
) -> Plan:
    """Drop the cleanup finalizer, deleting the artifacts labelled `label`=<cache> that are not
    Ready (Ready ones stay for reuse), unless the namespace itself is going away."""
    finalizers = list(cache["metadata"].get("finalizers") or [])
    plan = Plan(finalizers=[f for f in finalizers if f != labels.CACHE_FINALIZER])
    if namespace_terminating:
        return plan  # everything in the namespace goes anyway; never block its deletion
    value = rfc1123(cache["metadata"]["name"])
    for artifact in artifacts:
        artifact_labels = artifact["metadata"].get("labels") or {}
        if (
            artifact_labels.get(label) == value
            and (artifact.get("status") or {}).get("status") != LifecycleStatus.READY
        ):
            plan.delete.append(
                ObjectRef(
                    labels.V1ALPHA1, "AIMArtifact", artifact["metadata"]["name"], artifact["metadata"]["namespace"]
                )
            )
    return plan


def owned_cache(owner: AnyObject, api_version: str, kind: str, source: str, **spec: Any) -> dict[str, Any]:
    """The Shared cache a caching template or profile (`source`: "template" or "profile") owns:
    its name, its namespace, the fields of `spec` that are set. Its artifacts are Shared, so they
    outlive the owner for reuse."""
    metadata = as_stored(owner)["metadata"]
    cache_spec = {f"{source}Name": metadata["name"], f"{source}Scope": "Namespace", "mode": "Shared"}
    return manifest(
        api_version,
        kind,
        metadata["name"],
        metadata["namespace"],
        object_labels=child_labels(owner, managed()),
        owner=owner,
        spec=with_present(cache_spec, **spec),
    )

"""Admission rules the CRD schema cannot express (pure; used by the admission webhook; the
controller relies on admission having applied them and shares the naming and routing rules they call).

`validate(request)` returns field errors (deny) and warnings (allow, tell the user). It never
raises on user input. References to other objects are returned as data (`references`); the
webhook looks them up, because that is I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from api import GROUP
from api.naming import MAX_NAME, NameTooLongError, inference_service_name
from api.quantity import QuantityError, quantity_bytes
from api.routing import RouteTemplateError, check_template_syntax, render_route_path
from api.v1alpha1.aimruntimeconfig import DEFAULT_CONFIG_NAME
from api.v1alpha2.aimprofileset import unsupported_overrides

ENV_VAR_KEY = re.compile(r"^[A-Z0-9_]+$")
V1 = f"{GROUP}/v1alpha1"
V2 = f"{GROUP}/v1alpha2"


@dataclass(frozen=True)
class FieldError:
    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" + (f" ({self.hint})" if self.hint else "")


@dataclass(frozen=True)
class Reference:
    """An object this one names; `kinds` are tried in order (namespace first, then cluster)."""

    path: str
    name: str
    kinds: tuple[str, ...]
    namespace: str | None


@dataclass
class Verdict:
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class AdmissionInput:
    obj: dict[str, Any]
    old: dict[str, Any] | None
    operation: str
    namespace: str | None


def _dict(value: Any) -> dict[str, Any]:
    """User input may hold anything where an object is expected; the schema reports that."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def validate(request: AdmissionInput) -> Verdict:
    verdict = Verdict()
    kind = request.obj.get("kind")
    spec = request.obj.get("spec")
    if not isinstance(spec, dict):
        return verdict  # the schema reports a missing or malformed spec
    if kind == "AIMService":
        _validate_service(request, spec, verdict)
    elif kind in ("AIMModel", "AIMClusterModel"):
        _validate_model(request, spec, verdict)
    elif kind in ("AIMServiceTemplate", "AIMClusterServiceTemplate"):
        _check_env_var_keys(spec.get("customProfile"), "spec.customProfile", verdict)
        _reference_model(spec.get("modelName"), "spec.modelName", request.namespace, verdict)
        _reference_runtime_config(spec, request.namespace, verdict)
    elif kind == "AIMTemplateCache":
        scope = spec.get("templateScope")
        kinds = ("AIMClusterServiceTemplate",) if scope == "Cluster" else ("AIMServiceTemplate",)
        _reference(verdict, "spec.templateName", spec.get("templateName"), kinds, request.namespace)
    elif kind == "AIMProfileCache":
        scope = spec.get("profileScope")
        kinds = ("AIMClusterProfile",) if scope == "Cluster" else ("AIMProfile",)
        _reference(verdict, "spec.profileName", spec.get("profileName"), kinds, request.namespace)
    elif kind in ("AIMArtifact",):
        _reference_runtime_config(spec, request.namespace, verdict)
    elif kind == "AIMClusterRuntimeConfig":
        _validate_storage_quota(_dict(spec.get("artifactStorageQuota")), verdict)
    elif kind == "AIMKVCache":
        _validate_kv_cache_name(_dict(request.obj.get("metadata")).get("name"), "metadata.name", verdict)
    elif kind in ("AIMProfileSet", "AIMClusterProfileSet"):
        _validate_profile_set(spec, verdict)
    return verdict


def _validate_profile_set(spec: dict[str, Any], verdict: Verdict) -> None:
    for path in unsupported_overrides(spec):
        verdict.errors.append(
            FieldError(path, "AIMProfile has no such field, so no derived profile could carry it", "remove it")
        )
    if _dict(spec.get("sourceRef")):
        verdict.warnings.append(
            "spec.sourceRef: discovery-cache sources are not supported by this AIM Engine; the set will report "
            "DerivationReady=False (SourceLoadFailed) and derive nothing until it is removed"
        )


def _validate_service(request: AdmissionInput, spec: dict[str, Any], verdict: Verdict) -> None:
    name = _dict(request.obj.get("metadata")).get("name") or ""
    if not isinstance(name, str):
        name = ""
    namespace = request.namespace or ""
    if name and namespace:
        try:
            inference_service_name(name, namespace)
        except NameTooLongError as error:
            verdict.errors.append(FieldError("metadata.namespace", str(error)))
    _validate_route_template(request.obj, spec, verdict)
    if request.operation == "UPDATE" and request.old is not None:
        old_spec = _dict(request.old.get("spec"))
        for key in ("model", "template", "caching", "profile"):
            if (key in spec) != (key in old_spec):
                change = "added" if key in spec else "removed"
                verdict.errors.append(
                    FieldError(f"spec.{key}", f"cannot be {change} after creation", "create a new AIMService instead")
                )
        _newly_set_through_deprecated_version(request, spec, old_spec, verdict)
    elif request.operation == "CREATE":
        _newly_set_through_deprecated_version(request, spec, {}, verdict)
    model = _dict(spec.get("model"))
    _reference(verdict, "spec.model.name", model.get("name"), ("AIMModel", "AIMClusterModel"), request.namespace)
    template = _dict(spec.get("template"))
    _reference(
        verdict,
        "spec.template.name",
        template.get("name"),
        ("AIMServiceTemplate", "AIMClusterServiceTemplate"),
        request.namespace,
    )
    profile = _dict(spec.get("profile"))
    _reference(
        verdict, "spec.profile.name", profile.get("name"), ("AIMProfile", "AIMClusterProfile"), request.namespace
    )
    _reference_runtime_config(spec, request.namespace, verdict)
    if "kvCache" in spec:
        _validate_kv_cache_name(_dict(spec.get("kvCache")).get("name"), "spec.kvCache.name", verdict)
    if "downloadFilter" in _dict(spec.get("storage")):
        # The field exists because a service's storage block is the runtime config's; artifacts are
        # shared between services, so one service cannot choose their files (upstream ignores it too).
        verdict.warnings.append(
            "spec.storage.downloadFilter has no effect on an AIMService: set it in the runtime config "
            "(spec.storage.downloadFilter) the service names in spec.runtimeConfigName"
        )
    if request.obj.get("apiVersion") == V1 and (hint := _v1alpha1_hint(spec)):
        # The CRD's own deprecation warning covers every request through v1alpha1; this one adds
        # what to write instead, when the object uses spellings v1alpha2 does not have.
        verdict.warnings.append(hint)


KV_CACHE_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def _validate_kv_cache_name(name: Any, path: str, verdict: Verdict) -> None:
    """A KV cache's Redis Service is named after it, and a Service name must be a DNS label that
    starts with a letter (upstream lets such a cache be created and its Service then fails)."""
    if not isinstance(name, str) or not name:
        return  # unset: kvcache-<namespace>
    if not KV_CACHE_NAME.match(name) or len(name) > MAX_NAME:
        verdict.errors.append(
            FieldError(
                path,
                f"{name!r} cannot name a KV cache: its Redis Service is named after it, so it must be a DNS label "
                f"(lower-case letters, digits and '-', at most {MAX_NAME} characters) starting with a letter",
                "choose a name such as team-kv",
            )
        )


def _validate_storage_quota(quota: dict[str, Any], verdict: Verdict) -> None:
    """A namespace limit above the cluster limit could never be reached: refused with the numbers."""
    try:
        cluster = quantity_bytes(quota.get("clusterLimit"))
        namespace = quantity_bytes(quota.get("defaultNamespaceLimit"))
    except QuantityError:
        return  # the schema's quantity pattern reports it
    if cluster and namespace > cluster:
        verdict.errors.append(
            FieldError(
                "spec.artifactStorageQuota.defaultNamespaceLimit",
                f"{quota['defaultNamespaceLimit']} is more than clusterLimit {quota['clusterLimit']}: "
                "no namespace could ever use it",
                "lower it to at most clusterLimit, or raise clusterLimit",
            )
        )


def _newly_set_through_deprecated_version(
    request: AdmissionInput, spec: dict[str, Any], old_spec: dict[str, Any], verdict: Verdict
) -> None:
    if request.obj.get("apiVersion") != V1:
        return
    for key in ("profile", "profileOverrides"):
        if key in spec and key not in old_spec:
            verdict.errors.append(
                FieldError(
                    f"spec.{key}",
                    "cannot be newly set through aim.eai.amd.com/v1alpha1",
                    "profiles are a v1alpha2 feature: apply this AIMService as aim.eai.amd.com/v1alpha2",
                )
            )


def _v1alpha1_hint(spec: dict[str, Any]) -> str | None:
    hints = []
    routing = _dict(spec.get("routing"))
    if "routeTemplate" in routing:
        hints.append("spec.routing.routeTemplate is spec.routing.pathTemplate")
    if _dict(spec.get("caching")).get("mode") in ("Always", "Auto", "Never"):
        hints.append("caching modes Always/Auto are Shared and Never is Dedicated")
    if "cacheModel" in spec:
        hints.append("spec.cacheModel is ignored and gone")
    if not hints:
        return None
    return f"when moving this AIMService to aim.eai.amd.com/v1alpha2: {'; '.join(hints)}"


def _validate_route_template(obj: dict[str, Any], spec: dict[str, Any], verdict: Verdict) -> None:
    routing = _dict(spec.get("routing"))
    for key in ("pathTemplate", "routeTemplate"):
        template = routing.get(key)
        if not isinstance(template, str) or not template:
            continue
        path = f"spec.routing.{key}"
        try:
            check_template_syntax(template)
        except RouteTemplateError as error:
            verdict.errors.append(FieldError(path, str(error), "use JSONPath such as {.metadata.namespace}"))
            continue
        try:
            render_route_path(template, obj)
        except RouteTemplateError as error:
            if "characters; at most" in str(error):
                verdict.errors.append(FieldError(path, str(error), "shorten the template or the values it uses"))
            else:  # data the object may gain later (a label): the controller degrades until then
                verdict.warnings.append(f"{path}: {error}; the service will not get an HTTPRoute until it renders")


def _validate_model(request: AdmissionInput, spec: dict[str, Any], verdict: Verdict) -> None:
    templates = [
        ("spec.customTemplates", spec.get("customTemplates")),
        ("spec.custom.templates", _dict(spec.get("custom")).get("templates")),
    ]
    for base, entries in templates:
        for index, entry in enumerate(_list(entries)):
            if isinstance(entry, dict):
                _check_env_var_keys(entry.get("customProfile"), f"{base}[{index}].customProfile", verdict)
    _reference_runtime_config(spec, request.namespace, verdict)


def _check_env_var_keys(custom_profile: Any, path: str, verdict: Verdict) -> None:
    if not isinstance(custom_profile, dict):
        return
    for key in sorted(str(k) for k in _dict(custom_profile.get("envVars"))):
        if not ENV_VAR_KEY.match(key):
            verdict.errors.append(
                FieldError(
                    f"{path}.envVars.{key}",
                    "environment variable names must match ^[A-Z0-9_]+$",
                    f"use {re.sub(r'[^A-Z0-9_]', '_', key.upper())}",
                )
            )


def _reference_model(name: Any, path: str, namespace: str | None, verdict: Verdict) -> None:
    _reference(verdict, path, name, ("AIMModel", "AIMClusterModel"), namespace)


def _reference_runtime_config(spec: dict[str, Any], namespace: str | None, verdict: Verdict) -> None:
    name = spec.get("runtimeConfigName")
    if name and name != DEFAULT_CONFIG_NAME:  # a missing `default` config is fine by design
        _reference(verdict, "spec.runtimeConfigName", name, ("AIMRuntimeConfig", "AIMClusterRuntimeConfig"), namespace)


def _reference(verdict: Verdict, path: str, name: Any, kinds: tuple[str, ...], namespace: str | None) -> None:
    if isinstance(name, str) and name:
        scoped = tuple(k for k in kinds if namespace or "Cluster" in k)
        verdict.references.append(Reference(path, name, scoped, namespace))

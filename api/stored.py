"""Stored objects as their API models, one reader per kind (or pair of scopes; the object's kind
says which model): what the controller's fetch steps hand to the planners. Each raises
pydantic.ValidationError naming the field when a stored object does not fit (the reconciler says so
on the object's status); unknown fields are ignored (api.objects.read_stored)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.objects import read_stored
from api.v1alpha1.aimartifact import AIMArtifact
from api.v1alpha1.aimclustermodelsource import AIMClusterModelSource
from api.v1alpha1.aimkvcache import AIMKVCache
from api.v1alpha1.aimruntimeconfig import AIMClusterRuntimeConfig, AIMRuntimeConfig
from api.v1alpha1.aimservicetemplate import AIMClusterServiceTemplate, AIMServiceTemplate, AnyServiceTemplate
from api.v1alpha1.aimtemplatecache import AIMTemplateCache
from api.v1alpha2.aimmodel import AIMClusterModel, AIMModel, AnyModel
from api.v1alpha2.aimprofile import AIMClusterProfile, AIMProfile, AnyProfile
from api.v1alpha2.aimprofilecache import AIMProfileCache
from api.v1alpha2.aimprofileset import AIMClusterProfileSet, AIMProfileSet, AnyProfileSet
from api.v1alpha2.aimservice import AIMService


def read_template(obj: Mapping[str, Any]) -> AnyServiceTemplate:
    """An AIMServiceTemplate or AIMClusterServiceTemplate (v1alpha1)."""
    if obj.get("kind") == "AIMClusterServiceTemplate":
        return read_stored(AIMClusterServiceTemplate, obj)
    return read_stored(AIMServiceTemplate, obj)


def read_model(obj: Mapping[str, Any]) -> AnyModel:
    """An AIMModel or AIMClusterModel as served at v1alpha2."""
    if obj.get("kind") == "AIMClusterModel":
        return read_stored(AIMClusterModel, obj)
    return read_stored(AIMModel, obj)


def read_profile(obj: Mapping[str, Any]) -> AnyProfile:
    """An AIMProfile or AIMClusterProfile (v1alpha2)."""
    if obj.get("kind") == "AIMClusterProfile":
        return read_stored(AIMClusterProfile, obj)
    return read_stored(AIMProfile, obj)


def read_profile_set(obj: Mapping[str, Any]) -> AnyProfileSet:
    """An AIMProfileSet or AIMClusterProfileSet (v1alpha2)."""
    if obj.get("kind") == "AIMClusterProfileSet":
        return read_stored(AIMClusterProfileSet, obj)
    return read_stored(AIMProfileSet, obj)


def read_runtime_config(obj: Mapping[str, Any]) -> AIMRuntimeConfig | AIMClusterRuntimeConfig:
    """An AIMRuntimeConfig or AIMClusterRuntimeConfig (v1alpha1)."""
    if obj.get("kind") == "AIMClusterRuntimeConfig":
        return read_stored(AIMClusterRuntimeConfig, obj)
    return read_stored(AIMRuntimeConfig, obj)


def read_service(obj: Mapping[str, Any]) -> AIMService:
    """An AIMService as served at v1alpha2."""
    return read_stored(AIMService, obj)


def read_artifact(obj: Mapping[str, Any]) -> AIMArtifact:
    return read_stored(AIMArtifact, obj)


def read_template_cache(obj: Mapping[str, Any]) -> AIMTemplateCache:
    return read_stored(AIMTemplateCache, obj)


def read_profile_cache(obj: Mapping[str, Any]) -> AIMProfileCache:
    return read_stored(AIMProfileCache, obj)


def read_kv_cache(obj: Mapping[str, Any]) -> AIMKVCache:
    return read_stored(AIMKVCache, obj)


def read_model_source(obj: Mapping[str, Any]) -> AIMClusterModelSource:
    return read_stored(AIMClusterModelSource, obj)

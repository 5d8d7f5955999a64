"""Stored objects as their API models, one reader per pair of scopes (the kind says which model):
what the controller's fetch steps hand to the planners."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.objects import read_stored
from api.v1alpha1.aimservicetemplate import AIMClusterServiceTemplate, AIMServiceTemplate, AnyServiceTemplate
from api.v1alpha2.aimmodel import AIMClusterModel, AIMModel, AnyModel


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

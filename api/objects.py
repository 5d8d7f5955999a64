"""The envelope every AIM object shares: apiVersion, kind, metadata (owned by the API server), and
how the controller reads a stored object as its API model."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, PrivateAttr, ValidationError

from api.core import Conditions
from api.schema import CRDModel, PreserveUnknownFields


class ObjectRoot(CRDModel):
    api_version: str | None = None
    """Versioned schema of this representation of the object."""
    kind: str | None = None
    """The REST resource this object represents."""
    metadata: Annotated[dict[str, Any], PreserveUnknownFields()] = Field(default_factory=dict)
    """Standard object metadata (name, namespace, labels, annotations, ...)."""

    _stored: dict[str, Any] | None = PrivateAttr(default=None)

    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or "")

    @property
    def namespace(self) -> str:
        """Empty for cluster-scoped objects."""
        return str(self.metadata.get("namespace") or "")

    @property
    def uid(self) -> str:
        return str(self.metadata.get("uid") or "")

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.metadata.get("labels") or {})

    @property
    def annotations(self) -> dict[str, str]:
        return dict(self.metadata.get("annotations") or {})

    @property
    def stored(self) -> dict[str, Any]:
        """The object as the API server sent it, unchanged (a dump when it was built in code):
        what apply diffs, status merges and name hashes compare with."""
        if self._stored is None:
            self._stored = self.model_dump(mode="json", by_alias=True, exclude_unset=True)
        return self._stored


class BasicStatus(CRDModel):
    observed_generation: Annotated[int | None, Field(ge=0)] = None
    """The metadata.generation the controller last acted on."""
    conditions: Conditions | None = None
    """Latest observations of the object's state."""


Root = TypeVar("Root", bound=ObjectRoot)


def read_stored(model: type[Root], obj: Mapping[str, Any]) -> Root:
    """A stored object as its API model. Fields the model does not know are ignored, not refused:
    during an upgrade the API server may already serve fields this controller does not know yet.
    Raises pydantic.ValidationError when a known field of the spec or metadata does not fit (its
    message names the field); a status that does not fit is read as none."""
    try:
        parsed = model.model_validate(obj, extra="ignore")
    except ValidationError as error:
        if not _only_in_status(error):
            raise
        # The status is the controller's own, rewritten by the next plan: one written by another
        # version that no longer fits is read as none, not left to hold the object forever.
        parsed = model.model_validate({k: v for k, v in obj.items() if k != "status"}, extra="ignore")
    parsed._stored = dict(obj)
    return parsed


def _only_in_status(error: ValidationError) -> bool:
    return all(issue["loc"][:1] == ("status",) for issue in error.errors())


def read_optional(model: type[Root], obj: Mapping[str, Any] | None) -> Root | None:
    return None if obj is None else read_stored(model, obj)


def wire(value: Any) -> Any:
    """A part of a typed object in its wire form (camelCase, only the fields that were set), for
    copying into a status or a child object."""
    if isinstance(value, ObjectRoot):
        return value.stored
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [wire(v) for v in value]
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    return value


def as_stored(obj: ObjectRoot | Mapping[str, Any]) -> Mapping[str, Any]:
    """The wire form of an object given either typed or as the API server's dict."""
    return obj.stored if isinstance(obj, ObjectRoot) else obj


AnyObject = ObjectRoot | Mapping[str, Any]
"""An object typed or as the API server's dict: what the shared builders (owner references,
labels, status) accept, so a kind moves to typed objects without their callers changing at once."""

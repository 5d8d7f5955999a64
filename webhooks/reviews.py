"""ConversionReview (apiextensions.k8s.io/v1) and AdmissionReview (admission.k8s.io/v1) envelopes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Envelope(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class Status(_Envelope):
    status: Literal["Success", "Failure"]
    message: str | None = None
    code: int | None = None


class ConversionRequest(_Envelope):
    uid: str = Field(min_length=1)
    desired_api_version: str = Field(alias="desiredAPIVersion", min_length=1)
    objects: list[dict[str, Any]]


class ConversionResponse(_Envelope):
    uid: str
    converted_objects: list[dict[str, Any]] = Field(alias="convertedObjects")
    result: Status


class ConversionReviewIn(_Envelope):
    """What the API server sends. It also sends a zero-valued `response`, which is ignored."""

    api_version: Literal["apiextensions.k8s.io/v1"] = Field(alias="apiVersion")
    kind: Literal["ConversionReview"]
    request: ConversionRequest


class ConversionReview(_Envelope):
    """What we answer."""

    api_version: Literal["apiextensions.k8s.io/v1"] = Field(alias="apiVersion")
    kind: Literal["ConversionReview"]
    response: ConversionResponse


class GroupVersionKind(_Envelope):
    group: str = ""
    version: str
    kind: str


class GroupVersionResource(_Envelope):
    group: str = ""
    version: str
    resource: str


class AdmissionRequest(_Envelope):
    uid: str = Field(min_length=1)
    kind: GroupVersionKind
    resource: GroupVersionResource | None = None
    sub_resource: str | None = Field(None, alias="subResource")
    name: str | None = None
    namespace: str | None = None
    operation: Literal["CREATE", "UPDATE", "DELETE", "CONNECT"]
    object: dict[str, Any] | None = None
    old_object: dict[str, Any] | None = Field(None, alias="oldObject")
    dry_run: bool | None = Field(None, alias="dryRun")


class AdmissionResponse(_Envelope):
    uid: str
    allowed: bool
    status: Status | None = None
    warnings: list[str] | None = None
    patch_type: Literal["JSONPatch"] | None = Field(None, alias="patchType")
    patch: str | None = None


class AdmissionReviewIn(_Envelope):
    """What the API server sends (any `response` in it is ignored)."""

    api_version: Literal["admission.k8s.io/v1"] = Field(alias="apiVersion")
    kind: Literal["AdmissionReview"]
    request: AdmissionRequest


class AdmissionReview(_Envelope):
    """What we answer."""

    api_version: Literal["admission.k8s.io/v1"] = Field(alias="apiVersion")
    kind: Literal["AdmissionReview"]
    response: AdmissionResponse


def dump(review: BaseModel) -> dict[str, Any]:
    return review.model_dump(by_alias=True, exclude_none=True)

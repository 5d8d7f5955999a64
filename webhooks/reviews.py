"""ConversionReview (apiextensions.k8s.io/v1) and AdmissionReview (admission.k8s.io/v1) envelopes."""

from __future__ import annotations

import logging
from typing import Any, Literal, TypeVar

from fastapi import HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from webhooks.metrics import WebhookMetrics

log = logging.getLogger(__name__)


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


def answer(review: BaseModel) -> Response:
    """Serialised by pydantic-core in one pass: FastAPI's generic encoder of a returned dict cost
    more than the rules themselves (see docs/performance.md)."""
    return Response(review.model_dump_json(by_alias=True, exclude_none=True), media_type="application/json")


def parse_review(model: type[ReviewT], body: bytes, endpoint: str, metrics: WebhookMetrics) -> ReviewT:
    """The review in `body`, or HTTP 400 naming the first problem (malformed JSON included)."""
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        metrics.reviews.labels(endpoint, "malformed").inc()
        first = error.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        log.warning("Refused a malformed %s on /%s: %s: %s", model.__name__, endpoint, where, first["msg"])
        raise HTTPException(400, f"malformed {_REVIEW_NAMES[model.__name__]}: {where}: {first['msg']}") from error


ReviewT = TypeVar("ReviewT", AdmissionReviewIn, ConversionReviewIn)
_REVIEW_NAMES = {"AdmissionReviewIn": "AdmissionReview", "ConversionReviewIn": "ConversionReview"}

"""POST /validate and /mutate: AdmissionReview in, decision out. The rules live in `api`."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import jsonpatch
from fastapi import APIRouter, Body, HTTPException, Request
from pydantic import ValidationError

from api.defaulting import apply_defaults
from api.validation import AdmissionInput, validate
from webhooks.reviews import AdmissionResponse, AdmissionReview, AdmissionReviewIn, Status, dump

router = APIRouter()
log = logging.getLogger(__name__)


def _parse(body: Any, endpoint: str, request: Request) -> AdmissionReviewIn:
    try:
        return AdmissionReviewIn.model_validate(body)
    except ValidationError as error:
        request.app.state.metrics.reviews.labels(endpoint, "malformed").inc()
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        log.warning("Refused a malformed AdmissionReview on /%s: %s: %s", endpoint, where, first["msg"])
        raise HTTPException(400, f"malformed AdmissionReview: {where}: {first['msg']}") from error


def _answer(response: AdmissionResponse) -> dict[str, Any]:
    return dump(AdmissionReview(api_version="admission.k8s.io/v1", kind="AdmissionReview", response=response))


@router.post("/validate")
def validate_object(request: Request, body: Any = Body(...)) -> dict[str, Any]:  # noqa: B008 - FastAPI idiom
    started = time.perf_counter()
    review = _parse(body, "validate", request)
    admission = review.request
    obj = admission.object if admission.operation != "DELETE" else None
    if obj is None:
        return _answer(AdmissionResponse(uid=admission.uid, allowed=True))
    try:
        verdict = validate(AdmissionInput(obj, admission.old_object, admission.operation, admission.namespace))
    except Exception:  # a bug must not become a 500 that blocks every write: deny, say so, log it
        log.exception("Validation failed unexpectedly for %s", admission.uid)
        request.app.state.metrics.reviews.labels("validate", "error").inc()
        return _answer(
            AdmissionResponse(
                uid=admission.uid,
                allowed=False,
                status=Status(
                    status="Failure",
                    code=500,
                    message="the AIM Engine webhook could not validate this object (see its log)",
                ),
            )
        )
    warnings = list(verdict.warnings)
    if verdict.allowed and verdict.references and request.app.state.references is not None:
        warnings += request.app.state.references.missing(verdict.references)
    if verdict.allowed:
        response = AdmissionResponse(uid=admission.uid, allowed=True, warnings=warnings or None)
        outcome = "allowed"
    else:
        message = "; ".join(str(e) for e in verdict.errors)
        response = AdmissionResponse(
            uid=admission.uid,
            allowed=False,
            warnings=warnings or None,
            status=Status(status="Failure", message=message, code=422),
        )
        outcome = "denied"
    metrics = request.app.state.metrics
    metrics.reviews.labels("validate", outcome).inc()
    metrics.latency.labels("validate").observe(time.perf_counter() - started)
    return _answer(response)


@router.post("/mutate")
def mutate_object(request: Request, body: Any = Body(...)) -> dict[str, Any]:  # noqa: B008 - FastAPI idiom
    started = time.perf_counter()
    review = _parse(body, "mutate", request)
    admission = review.request
    response = AdmissionResponse(uid=admission.uid, allowed=True)
    if admission.object is not None and admission.operation in ("CREATE", "UPDATE"):
        try:
            patch = jsonpatch.make_patch(admission.object, apply_defaults(admission.object)).patch
        except Exception:  # defaults are a convenience: admit unchanged rather than block the write
            log.exception("Defaulting failed unexpectedly for %s", admission.uid)
            patch = []
        if patch:
            response.patch_type = "JSONPatch"
            response.patch = base64.b64encode(json.dumps(patch).encode()).decode()
    metrics = request.app.state.metrics
    metrics.reviews.labels("mutate", "patched" if response.patch else "unchanged").inc()
    metrics.latency.labels("mutate").observe(time.perf_counter() - started)
    return _answer(response)

"""POST /validate and /mutate: AdmissionReview in, decision out. The rules live in `api`."""

from __future__ import annotations

import base64
import json
import logging
import time

import jsonpatch
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.defaulting import apply_defaults
from api.validation import AdmissionInput, validate
from webhooks.lookups import ReferenceChecker
from webhooks.reviews import AdmissionResponse, AdmissionReview, AdmissionReviewIn, Status, answer, parse_review

router = APIRouter()
log = logging.getLogger(__name__)


def _answer(response: AdmissionResponse) -> Response:
    return answer(AdmissionReview(api_version="admission.k8s.io/v1", kind="AdmissionReview", response=response))


# The handlers are coroutines: the rules take tens of microseconds, less than a hop through the
# thread pool. Only reference lookups that miss their cache (API server reads) go to a thread.
@router.post("/validate")
async def validate_object(request: Request) -> Response:
    started = time.perf_counter()
    review = parse_review(AdmissionReviewIn, await request.body(), "validate", request.app.state.metrics)
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
    references: ReferenceChecker | None = request.app.state.references
    if verdict.allowed and verdict.references and references is not None:
        cached = references.missing_from_cache(verdict.references)
        warnings += cached if cached is not None else await run_in_threadpool(references.missing, verdict.references)
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
async def mutate_object(request: Request) -> Response:
    started = time.perf_counter()
    review = parse_review(AdmissionReviewIn, await request.body(), "mutate", request.app.state.metrics)
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

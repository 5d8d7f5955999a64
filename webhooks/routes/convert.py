"""POST /convert: a ConversionReview in, the same objects converted in the same order out.

A conversion that fails is answered with `result.status: Failure` and a message (the API server
shows it to the client), never with an HTTP 5xx.
"""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Request, Response

from api.conversion import ConversionError, convert
from webhooks.reviews import ConversionResponse, ConversionReview, ConversionReviewIn, Status, answer, parse_review

router = APIRouter()
log = logging.getLogger(__name__)


@router.post("/convert")
async def convert_objects(request: Request) -> Response:
    """A coroutine: conversion is pure CPU work, which a thread would not parallelise (GIL)."""
    metrics = request.app.state.metrics
    started = time.perf_counter()
    review = parse_review(ConversionReviewIn, await request.body(), "convert", metrics)
    target = review.request.desired_api_version
    try:
        converted = [convert(obj, target) for obj in review.request.objects]
        result = Status(status="Success")
        outcome = "success"
    except ConversionError as error:
        converted, result, outcome = [], Status(status="Failure", message=str(error)), "failure"
    except Exception:  # a bug: report it as the API expects, never as an HTTP 500
        log.exception("Conversion failed unexpectedly for %s", review.request.uid)
        message = "the AIM Engine webhook could not convert these objects (see its log)"
        converted, result, outcome = [], Status(status="Failure", message=message), "error"
    metrics.converted_objects.inc(len(converted))
    metrics.reviews.labels("convert", outcome).inc()
    metrics.latency.labels("convert").observe(time.perf_counter() - started)
    response = ConversionResponse(uid=review.request.uid, converted_objects=converted, result=result)
    return answer(ConversionReview(api_version="apiextensions.k8s.io/v1", kind="ConversionReview", response=response))

"""Fuzzing /validate, /mutate and /convert with malformed and random reviews: never a 5xx; a
malformed review gets a 4xx, a well-formed one a well-formed answer."""

from __future__ import annotations

import os
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhooks.app import create_app

client = TestClient(create_app(), raise_server_exceptions=False)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
kinds = st.sampled_from(
    [
        "AIMService",
        "AIMModel",
        "AIMClusterModel",
        "AIMServiceTemplate",
        "AIMArtifact",
        "AIMTemplateCache",
        "AIMProfile",
        "AIMProfileCache",
        "Unknown",
    ]
)
versions = st.sampled_from(["aim.eai.amd.com/v1alpha1", "aim.eai.amd.com/v1alpha2", "v9", ""])
spec_keys = st.sampled_from(
    [
        "model",
        "template",
        "profile",
        "profileOverrides",
        "caching",
        "routing",
        "overrides",
        "customTemplates",
        "custom",
        "modelSources",
        "sourceUri",
        "customProfile",
        "runtimeConfigName",
        "templateName",
        "templateScope",
        "acceleratorModel",
    ]
)
objects = st.fixed_dictionaries(
    {"apiVersion": versions, "kind": kinds},
    optional={
        "metadata": json_values
        | st.fixed_dictionaries({"name": st.text(max_size=70)}, optional={"annotations": json_values}),
        "spec": json_values | st.dictionaries(spec_keys, json_values, max_size=4),
    },
)
admission_reviews = st.fixed_dictionaries(
    {
        "apiVersion": st.sampled_from(["admission.k8s.io/v1", "x"]),
        "kind": st.sampled_from(["AdmissionReview", "x"]),
        "request": st.fixed_dictionaries(
            {
                "uid": st.text(max_size=5),
                "kind": st.fixed_dictionaries({"version": st.text(max_size=3), "kind": st.text(max_size=3)}),
                "operation": st.sampled_from(["CREATE", "UPDATE", "DELETE", "PATCH"]),
            },
            optional={
                "object": objects | json_values,
                "oldObject": objects | json_values,
                "namespace": st.text(max_size=50) | st.none(),
            },
        ),
    },
)
conversion_reviews = st.fixed_dictionaries(
    {
        "apiVersion": st.sampled_from(["apiextensions.k8s.io/v1", "x"]),
        "kind": st.sampled_from(["ConversionReview"]),
        "request": st.fixed_dictionaries(
            {
                "uid": st.text(max_size=5),
                "desiredAPIVersion": versions,
                "objects": st.lists(objects | json_values, max_size=3),
            }
        ),
    },
)
# AIM_FUZZ_EXAMPLES=10000 is the thorough run (docs/development.md); 300 keeps `make test` in budget.
FUZZ = settings(
    max_examples=int(os.environ.get("AIM_FUZZ_EXAMPLES", "300")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def unexpected_errors() -> float:
    """Reviews answered by the routes' last-resort guard: a bug the fuzzer must not find."""
    reviews = client.app.state.metrics.reviews  # type: ignore[attr-defined]
    return float(sum(reviews.labels(endpoint, "error")._value.get() for endpoint in ("validate", "convert")))


def check_answer(path: str, body: Any) -> None:
    response = client.post(path, json=body)
    assert response.status_code < 500, (path, body, response.text)
    if response.status_code == 200:
        review = response.json()
        assert review["response"]["uid"] == body["request"]["uid"]
        if path == "/convert":
            assert review["response"]["result"]["status"] in ("Success", "Failure")
        else:
            assert isinstance(review["response"]["allowed"], bool)
    else:
        assert 400 <= response.status_code < 500


@pytest.mark.parametrize("path", ["/validate", "/mutate"])
def test_admission_endpoints_survive_random_reviews(path: str) -> None:
    @FUZZ
    @given(admission_reviews)
    def fuzz(body: dict[str, Any]) -> None:
        check_answer(path, body)

    fuzz()
    assert unexpected_errors() == 0


def test_conversion_endpoint_survives_random_reviews() -> None:
    @FUZZ
    @given(conversion_reviews)
    def fuzz(body: dict[str, Any]) -> None:
        check_answer("/convert", body)

    fuzz()
    assert unexpected_errors() == 0


@pytest.mark.parametrize("path", ["/validate", "/mutate", "/convert"])
def test_arbitrary_json_gets_a_4xx(path: str) -> None:
    @FUZZ
    @given(json_values)
    def fuzz(body: Any) -> None:
        response = client.post(path, json=body)
        assert 400 <= response.status_code < 500, (body, response.text)

    fuzz()


@pytest.mark.parametrize("path", ["/validate", "/mutate", "/convert"])
@pytest.mark.parametrize(
    "raw", [b"", b"{", b"\xff\xfe", b"null", b"[]"], ids=["empty", "truncated", "binary", "null", "list"]
)
def test_unparseable_bodies_get_a_4xx(path: str, raw: bytes) -> None:
    response = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500

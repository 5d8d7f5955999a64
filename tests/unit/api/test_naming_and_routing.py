"""Derived names always fit; route paths render as documented."""

from __future__ import annotations

import pytest

from api.naming import NameTooLongError, derived_name, http_route_name, inference_service_name, rfc1123
from api.routing import RouteTemplateError, default_route_path, render_route_path

SERVICE = {
    "metadata": {"name": "Chat", "namespace": "ml-team", "labels": {"team": "Research Team", "tier": "a/b"}},
    "spec": {"model": {"name": "qwen-qwen3-32b"}},
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("My_Service", "my-service"), ("--a--", "a"), ("a" * 70, "a" * 63), ("Ünïcode.x", "-n-code-x".strip("-"))],
    ids=["case-and-underscore", "trim-dashes", "truncate", "non-ascii"],
)
def test_rfc1123(value: str, expected: str) -> None:
    assert rfc1123(value) == expected


def test_derived_name_is_stable_and_always_hashed() -> None:
    assert derived_name(["svc"], ["ns"]) == derived_name(["svc"], ["ns"])
    assert derived_name(["svc"], ["ns"]) != derived_name(["svc"], ["other"])
    assert derived_name(["svc"], ["ns"]).startswith("svc-")


@pytest.mark.parametrize("length", [1, 30, 63, 200])
def test_derived_name_fits_and_shortens_the_longest_part(length: int) -> None:
    name = derived_name(["x" * length, "cache"], max_length=40)
    assert len(name) <= 40
    assert "-cache-" in name


@pytest.mark.parametrize(
    ("service", "namespace"),
    [("chat", "ml-team"), ("a" * 63, "ml-team"), ("a" * 63, "n" * 42), ("svc", "n" * 30)],
    ids=["short", "long-service", "longest-namespace", "medium"],
)
def test_inference_service_names_fit_kserve(service: str, namespace: str) -> None:
    name = inference_service_name(service, namespace)
    assert len(f"{name}-predictor-{namespace}") <= 63


def test_namespace_too_long_for_any_service_name_is_explained() -> None:
    with pytest.raises(NameTooLongError, match=r'namespace "n{43}" is too long \(43 characters\).*at most 42'):
        inference_service_name("chat", "n" * 43)


def test_http_route_name_fits() -> None:
    assert len(http_route_name("s" * 100, "ns")) <= 63


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("/{.metadata.namespace}/{.metadata.labels['team']}", "/ml-team/research%20team"),
        ("/{.metadata.namespace}//{.metadata.name}/", "/ml-team/chat"),
        ("/x/{.metadata.labels.tier}", "/x/a/b"),
        ("/{.spec.model.name}", "/qwen-qwen3-32b"),
        ("  /API/v1  ", "/api/v1"),
    ],
    ids=["label-encoded", "duplicate-and-trailing-slash", "value-with-slash", "spec-field", "literal"],
)
def test_render_route_path(template: str, expected: str) -> None:
    assert render_route_path(template, SERVICE) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("/{.metadata.labels['missing']}", "matches nothing"),
        ("/{.metadata[}", "does not parse"),
        ("/{metadata.name}", "is not a JSONPath"),
        ("/{.spec.model}", "is not a single value"),
        ("/{.metadata.name", "unbalanced braces"),
        ("/" + "a" * 201, "at most 200"),
        ("//", "empty path"),
    ],
    ids=["missing-label", "bad-syntax", "no-leading-dot", "object-value", "unbalanced", "too-long", "empty"],
)
def test_render_route_path_errors(template: str, message: str) -> None:
    with pytest.raises(RouteTemplateError, match=message):
        render_route_path(template, SERVICE)


def test_default_route_path() -> None:
    assert default_route_path("ml-team", "1234-ABCD") == "/ml-team/1234-abcd"

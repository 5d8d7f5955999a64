"""Image config labels → status.imageMetadata (upstream B.2)."""

from __future__ import annotations

from typing import Any

import pytest

from api.v1alpha1.aimmodel import ImageMetadata
from controller.catalog.labels import parse_image_labels, parse_recommended_deployments

DEPLOYMENT = {"gpuModel": "MI300X", "gpuCount": 1, "precision": "fp8", "metric": "latency"}


@pytest.mark.parametrize(
    ("labels", "model"),
    [
        ({"com.amd.aim.model.canonicalName": "Qwen/Qwen3-32B"}, {"canonicalName": "Qwen/Qwen3-32B"}),
        ({"org.amd.silogen.model.canonicalName": "meta/llama"}, {"canonicalName": "meta/llama"}),
        (
            {"com.amd.aim.model.canonicalName": "new", "org.amd.silogen.model.canonicalName": "old"},
            {"canonicalName": "new"},
        ),
        (
            {"com.amd.aim.model.canonicalName": "", "org.amd.silogen.model.canonicalName": "old"},
            {"canonicalName": "old"},
        ),
        (
            {"com.amd.aim.model.tags": "chat, instruct,,", "org.amd.silogen.model.versions": "1.0,2.0"},
            {"tags": ["chat", "instruct"], "versions": ["1.0", "2.0"]},
        ),
        ({"com.amd.aim.model.variants": " a "}, {"variants": ["a"]}),
        ({"com.amd.aim.hfToken.required": "true"}, {"hfTokenRequired": True}),
        ({"com.amd.aim.hfToken.required": "F"}, {"hfTokenRequired": False}),
        ({"com.amd.aim.hfToken.required": "yes"}, None),
        (
            {
                "com.amd.aim.title": "Qwen 3",
                "com.amd.aim.description.full": "A model",
                "org.amd.silogen.release.notes": "First",
                "com.amd.aim.model.source": "hf://Qwen/Qwen3",
            },
            {"title": "Qwen 3", "descriptionFull": "A model", "releaseNotes": "First", "source": "hf://Qwen/Qwen3"},
        ),
    ],
    ids=[
        "new-prefix",
        "legacy-prefix",
        "new-prefix-wins",
        "empty-new-falls-back",
        "comma-lists-trimmed",
        "single-item-list",
        "hf-token-true",
        "hf-token-go-style-false",
        "hf-token-not-a-bool-is-unset",
        "text-fields",
    ],
)
def test_model_fields(labels: dict[str, str], model: dict[str, Any] | None) -> None:
    parsed = parse_image_labels(labels)
    assert parsed.error is None
    assert parsed.has_aim_labels
    assert parsed.metadata is not None
    assert parsed.metadata.get("model") == model
    assert parsed.metadata["originalLabels"] == labels


@pytest.mark.parametrize(
    ("raw", "deployments"),
    [
        ('[{"gpuModel": "MI300X", "gpuCount": 1, "precision": "fp8", "metric": "latency"}]', [DEPLOYMENT]),
        ("[{'gpuModel': 'MI300X', 'gpuCount': 1, 'precision': 'fp8', 'metric': 'latency'}]", [DEPLOYMENT]),
        ("{'gpuModel': 'MI300X', 'gpuCount': 1, 'precision': 'fp8', 'metric': 'latency'}", [DEPLOYMENT]),
        (
            '{"gpuModel": "MI300X", "gpuCount": 2}, {"gpuModel": "MI325X", "profileId": "p1"}',
            [{"gpuModel": "MI300X", "gpuCount": 2}, {"gpuModel": "MI325X", "profileId": "p1"}],
        ),
        ('[{"gpuModel": "MI300X", "unknown": 1, "description": null}]', [{"gpuModel": "MI300X"}]),
        ('  [{"gpuCount": "4"}]  ', [{"gpuCount": 4}]),
        ("[]", []),
    ],
    ids=[
        "json-list",
        "single-quotes",
        "bare-object",
        "bare-comma-separated-objects",
        "unknown-keys-and-nulls-dropped",
        "count-as-string",
        "empty-list",
    ],
)
def test_recommended_deployments(raw: str, deployments: list[dict[str, Any]]) -> None:
    assert parse_recommended_deployments(raw) == (deployments, None)
    parsed = parse_image_labels({"com.amd.aim.model.recommendedDeployments": raw})
    assert parsed.recommended_deployments == deployments


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("not json", "not a JSON list of deployments"),
        ('["MI300X"]', "not a JSON list of deployment objects"),
        ('[{"gpuCount": "many"}]', "deployment 0: gpuCount"),
        ("[{'description': 'Qwen's best'}]", "not a JSON list"),
    ],
    ids=["garbage", "list-of-strings", "count-not-a-number", "apostrophe-breaks-as-upstream"],
)
def test_malformed_deployments_fail_extraction(raw: str, problem: str) -> None:
    parsed = parse_image_labels({"org.amd.silogen.model.recommendedDeployments": raw})
    assert parsed.metadata is None
    assert parsed.has_aim_labels
    assert parsed.error is not None
    assert parsed.error.startswith("label org.amd.silogen.model.recommendedDeployments: ")
    assert problem in parsed.error


def test_full_image_shape_validates_against_the_api_model() -> None:
    labels = {
        "com.amd.aim.model.canonicalName": "Qwen/Qwen3-32B",
        "com.amd.aim.model.recommendedDeployments": "[{'gpuModel': 'MI300X', 'gpuCount': 1, 'precision': 'fp8', "
        "'metric': 'latency'}]",
        "org.opencontainers.image.title": "aim-qwen3-32b",
        "org.opencontainers.image.version": "0.8.5",
        "org.opencontainers.image.licenses": "Apache-2.0",
        "org.opencontainers.image.created": "",
        "maintainer": "AMD",
    }
    parsed = parse_image_labels(labels, {"AIM_BASE_IMAGE_REF": "docker.io/amdenterpriseai/aim-base:0.8", "PATH": "/x"})
    assert parsed.metadata == {
        "model": {"canonicalName": "Qwen/Qwen3-32B", "recommendedDeployments": [DEPLOYMENT]},
        "oci": {"title": "aim-qwen3-32b", "version": "0.8.5", "licenses": "Apache-2.0"},
        "originalLabels": labels,
        "baseImageRef": "docker.io/amdenterpriseai/aim-base:0.8",
    }
    ImageMetadata.model_validate(parsed.metadata)


@pytest.mark.parametrize(
    ("labels", "env", "metadata"),
    [
        ({}, {}, {}),
        (
            {"org.opencontainers.image.title": "nginx"},
            {},
            {"oci": {"title": "nginx"}, "originalLabels": {"org.opencontainers.image.title": "nginx"}},
        ),
        ({}, {"AIM_BASE_IMAGE_REF": "aim-base:0.9"}, {"baseImageRef": "aim-base:0.9"}),
        ({"com.amd.aim.title": ""}, {}, {"originalLabels": {"com.amd.aim.title": ""}}),
    ],
    ids=["no-labels", "only-oci-labels", "only-base-image-env", "empty-aim-label-does-not-count"],
)
def test_images_without_aim_labels(labels: dict[str, str], env: dict[str, str], metadata: dict[str, Any]) -> None:
    parsed = parse_image_labels(labels, env)
    assert not parsed.has_aim_labels
    assert parsed.error is None
    assert parsed.metadata == metadata
    assert parsed.recommended_deployments == []

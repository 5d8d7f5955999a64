"""An image's config labels → `status.imageMetadata` (upstream B.2), pure.

AIM images describe the model they serve in OCI config labels: `com.amd.aim.<suffix>`, or the
legacy `org.amd.silogen.<suffix>` on older images (the new prefix wins when both are set and
non-empty). `model.recommendedDeployments` is JSON, sometimes written with Python's single quotes
or as bare comma-separated objects; both are accepted as upstream accepts them. The standard
`org.opencontainers.image.*` labels fill `oci`, every label is kept in `originalLabels`, and the
config env's AIM_BASE_IMAGE_REF becomes `baseImageRef`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from api.v1alpha1.aimmodel import ImageMetadata, RecommendedDeployment

AIM_LABEL_PREFIX = "com.amd.aim."
LEGACY_LABEL_PREFIX = "org.amd.silogen."
OCI_LABEL_PREFIX = "org.opencontainers.image."
BASE_IMAGE_ENV = "AIM_BASE_IMAGE_REF"

# status.imageMetadata.model field → label suffix.
TEXT_LABELS = {
    "canonicalName": "model.canonicalName",
    "source": "model.source",
    "title": "title",
    "descriptionFull": "description.full",
    "releaseNotes": "release.notes",
}
LIST_LABELS = {"tags": "model.tags", "versions": "model.versions", "variants": "model.variants"}
HF_TOKEN_LABEL = "hfToken.required"  # noqa: S105 - a label suffix, not a token
DEPLOYMENTS_LABEL = "model.recommendedDeployments"
OCI_FIELDS = (
    "title",
    "description",
    "licenses",
    "vendor",
    "authors",
    "source",
    "documentation",
    "created",
    "revision",
    "version",
)
# Go's strconv.ParseBool, which upstream uses: anything else leaves hfTokenRequired unset.
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_DEPLOYMENT_FIELDS = frozenset(f.alias or name for name, f in RecommendedDeployment.model_fields.items())


@dataclass(frozen=True)
class ImageLabels:
    """What an image's labels say. `error` set → the AIM labels are malformed (`metadata` is None):
    upstream fails metadata extraction (MetadataExtractionFailed) rather than guess."""

    metadata: dict[str, Any] | None
    """status.imageMetadata, camelCase, validated against the API model."""
    has_aim_labels: bool
    """Whether any com.amd.aim.* / org.amd.silogen.* label is set; False → reason ImageFound."""
    error: str | None = None

    @property
    def recommended_deployments(self) -> list[dict[str, Any]]:
        model = (self.metadata or {}).get("model") or {}
        deployments: list[dict[str, Any]] = model.get("recommendedDeployments") or []
        return deployments


def aim_label(labels: Mapping[str, str], suffix: str) -> str:
    """The value for `suffix`, new prefix first; empty when neither prefix carries a value."""
    return labels.get(AIM_LABEL_PREFIX + suffix) or labels.get(LEGACY_LABEL_PREFIX + suffix) or ""


def has_aim_labels(labels: Mapping[str, str]) -> bool:
    return any(value and key.startswith((AIM_LABEL_PREFIX, LEGACY_LABEL_PREFIX)) for key, value in labels.items())


def parse_image_labels(labels: Mapping[str, str], env: Mapping[str, str] | None = None) -> ImageLabels:
    """Labels (and the config env) → ImageLabels. Never raises on what an image carries."""
    model: dict[str, Any] = {}
    for field, suffix in TEXT_LABELS.items():
        if value := aim_label(labels, suffix):
            model[field] = value
    for field, suffix in LIST_LABELS.items():
        items = [item.strip() for item in aim_label(labels, suffix).split(",") if item.strip()]
        if items:
            model[field] = items
    hf_token = aim_label(labels, HF_TOKEN_LABEL)
    if hf_token in _TRUE or hf_token in _FALSE:
        model["hfTokenRequired"] = hf_token in _TRUE
    aim = has_aim_labels(labels)
    if raw := aim_label(labels, DEPLOYMENTS_LABEL):
        deployments, error = parse_recommended_deployments(raw)
        if error is not None:
            key = AIM_LABEL_PREFIX + DEPLOYMENTS_LABEL
            key = key if labels.get(key) else LEGACY_LABEL_PREFIX + DEPLOYMENTS_LABEL
            return ImageLabels(metadata=None, has_aim_labels=aim, error=f"label {key}: {error}")
        model["recommendedDeployments"] = deployments
    oci = {field: labels[OCI_LABEL_PREFIX + field] for field in OCI_FIELDS if labels.get(OCI_LABEL_PREFIX + field)}
    metadata: dict[str, Any] = {}
    if model:
        metadata["model"] = model
    if oci:
        metadata["oci"] = oci
    if labels:
        metadata["originalLabels"] = dict(labels)
    if base_image := (env or {}).get(BASE_IMAGE_ENV):
        metadata["baseImageRef"] = base_image
    try:
        validated = ImageMetadata.model_validate(metadata).model_dump(exclude_none=True)
    except ValidationError as error:
        return ImageLabels(metadata=None, has_aim_labels=aim, error=_first_problem(error))
    return ImageLabels(metadata=validated, has_aim_labels=aim)


def parse_recommended_deployments(raw: str) -> tuple[list[dict[str, Any]], str | None]:
    """The deployments label → a list of RecommendedDeployment dicts, or an error message.

    Upstream's normalisation, kept for the images built with it: every `'` becomes `"` (so a value
    containing an apostrophe breaks, as it does upstream) and a value not starting with `[` is
    wrapped in `[...]`. Unknown keys are dropped, as Go's JSON decoding drops them.
    """
    text = raw.strip().replace("'", '"')
    if not text.startswith("["):
        text = f"[{text}]"
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError as error:
        return [], f"not a JSON list of deployments ({error.msg} at character {error.pos})"
    if not isinstance(decoded, list) or not all(isinstance(item, dict) for item in decoded):
        return [], "not a JSON list of deployment objects"
    deployments = []
    for index, item in enumerate(decoded):
        known = {key: value for key, value in item.items() if key in _DEPLOYMENT_FIELDS and value is not None}
        try:
            deployment = RecommendedDeployment.model_validate(known)
        except ValidationError as error:
            return [], f"deployment {index}: {_first_problem(error)}"
        deployments.append(deployment.model_dump(exclude_none=True))
    return deployments, None


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"])
    return f"{where}: {problem['msg']}" if where else str(problem["msg"])

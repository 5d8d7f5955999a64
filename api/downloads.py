"""Which files of a model source are downloaded: the download filter an artifact's Jobs use.

One rule for the check-size Job and the download Job, so the volume is sized for exactly the bytes
that are written. Precedence (as upstream): the artifact's `spec.downloadFilter`, else the runtime
config's `spec.storage.downloadFilter`, else, for Hugging Face sources only, files in subdirectories
are skipped (`exclude: ["*/*"]`: repositories keep training checkpoints and alternative formats
there). An explicit `{}` at either level downloads everything. The first filter found wins whole;
levels are not merged.

The lists reach `aim-download` comma-joined in two environment variables (upstream's names), which
is why a pattern may not contain a comma (`api.v1alpha1.common.DOWNLOAD_PATTERN`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

INCLUDE_ENV = "AIM_HF_INCLUDE"
EXCLUDE_ENV = "AIM_HF_EXCLUDE"
HUGGING_FACE_DEFAULT: Mapping[str, list[str]] = {"exclude": ["*/*"]}
"""The filter of a Hugging Face source that no artifact or runtime config filters."""


def effective_filter(
    artifact_filter: Mapping[str, Any] | None, config_filter: Mapping[str, Any] | None, source_uri: str
) -> dict[str, list[str]]:
    """The filter the Jobs apply; `{}` means every file. None arguments are "not set"."""
    for chosen in (artifact_filter, config_filter):
        if chosen is not None:
            return {key: list(chosen[key]) for key in ("include", "exclude") if chosen.get(key)}
    if source_uri.startswith("hf://"):
        return {key: list(value) for key, value in HUGGING_FACE_DEFAULT.items()}
    return {}


def filter_env(download_filter: Mapping[str, list[str]]) -> list[dict[str, str]]:
    """The Job environment carrying a filter; nothing for an empty list."""
    names = {"include": INCLUDE_ENV, "exclude": EXCLUDE_ENV}
    return [
        {"name": names[key], "value": ",".join(download_filter[key])}
        for key in ("include", "exclude")
        if download_filter.get(key)
    ]

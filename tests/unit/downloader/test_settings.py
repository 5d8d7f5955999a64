"""The downloader's settings, read from the environment by exact variable name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from downloader.filters import DownloadFilter
from downloader.settings import DownloaderSettings


@pytest.mark.parametrize(
    ("environment", "field", "expected"),
    [
        pytest.param({}, "target_dir", Path("/cache"), id="default-target"),
        pytest.param({}, "stall_timeout", 120.0, id="default-stall-timeout"),
        pytest.param({}, "protocol_sequence", "XET,HF_TRANSFER", id="default-protocols"),
        pytest.param({"TARGET_DIR": "/mnt/m"}, "target_dir", Path("/mnt/m"), id="target"),
        pytest.param({"EXPECTED_SIZE_BYTES": "42"}, "expected_size_bytes", 42, id="size"),
        pytest.param({"EXPECTED_SIZE_BYTES": " "}, "expected_size_bytes", None, id="empty-is-unset"),
        pytest.param({"expected_size_bytes": "42"}, "expected_size_bytes", None, id="names-are-case-sensitive"),
        pytest.param({"AIM_DOWNLOADER_PROTOCOL": "HTTP"}, "protocol_sequence", "HTTP", id="protocols"),
        pytest.param({"STALL_TIMEOUT": "2.5"}, "stall_timeout", 2.5, id="stall-timeout"),
        pytest.param({"HUGGING_FACE_HUB_TOKEN": "hf_old"}, "hf_token", "hf_old", id="legacy-token-name"),
        pytest.param(
            {"HF_TOKEN": "hf_new", "HUGGING_FACE_HUB_TOKEN": "hf_old"}, "hf_token", "hf_new", id="hf-token-wins"
        ),
        pytest.param({"HF_TOKEN": ""}, "hf_token", None, id="empty-token-is-unset"),
        pytest.param({"AIM_S3_MAX_CONCURRENCY": "4"}, "s3_max_concurrency", 4, id="s3-concurrency"),
        pytest.param({}, "download_filter", DownloadFilter(), id="no-filter"),
        pytest.param(
            {"AIM_HF_INCLUDE": "", "AIM_HF_EXCLUDE": " "}, "download_filter", DownloadFilter(), id="empty-filter"
        ),
        pytest.param({"AIM_HF_EXCLUDE": "*/*"}, "download_filter", DownloadFilter((), ("*/*",)), id="exclude"),
        pytest.param(
            {"AIM_HF_INCLUDE": " *.json, ,config.json,", "AIM_HF_EXCLUDE": "a/*,b/"},
            "download_filter",
            DownloadFilter(("*.json", "config.json"), ("a/*", "b/")),
            id="comma-lists-stripped",
        ),
        pytest.param({"aim_hf_include": "*.json"}, "hf_include", (), id="filter-names-are-case-sensitive"),
    ],
)
def test_reads_the_environment(environment: dict[str, str], field: str, expected: Any) -> None:
    value = getattr(DownloaderSettings.from_environment(environment), field)
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    assert value == expected


@pytest.mark.parametrize(
    ("environment", "variable"),
    [
        pytest.param({"EXPECTED_SIZE_BYTES": "lots"}, "EXPECTED_SIZE_BYTES", id="not-a-number"),
        pytest.param({"EXPECTED_SIZE_BYTES": "-1"}, "EXPECTED_SIZE_BYTES", id="negative-size"),
        pytest.param({"STALL_TIMEOUT": "0"}, "STALL_TIMEOUT", id="zero-stall-timeout"),
        pytest.param({"PROGRESS_INTERVAL": "soon"}, "PROGRESS_INTERVAL", id="interval"),
        pytest.param({"AIM_S3_PART_SIZE_BYTES": "0"}, "AIM_S3_PART_SIZE_BYTES", id="part-size"),
    ],
)
def test_errors_name_the_variable(environment: dict[str, str], variable: str) -> None:
    with pytest.raises(ValidationError) as raised:
        DownloaderSettings.from_environment(environment)
    assert raised.value.errors()[0]["loc"] == (variable,)


def test_secrets_and_status_reporting() -> None:
    settings = DownloaderSettings.from_environment(
        {"HF_TOKEN": "hf_x", "AWS_SECRET_ACCESS_KEY": "k", "ARTIFACT_NAME": "a", "ARTIFACT_NAMESPACE": "ns"}
    )
    assert settings.secrets() == ["hf_x", "k"]
    assert settings.reports_status
    assert not DownloaderSettings.from_environment({"ARTIFACT_NAME": "a"}).reports_status

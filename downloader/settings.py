"""The downloader's configuration, read once per process from the environment (the variables the
controller sets on the download Job; defaults as in upstream's documentation).

A pydantic model validated from the environment mapping by alias, not pydantic-settings: the
names are exact (case-sensitive, no prefix, no nesting), and pydantic-settings' import (asyncio
and its source providers among them) added 60-80 ms to every run of the command.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator

from downloader.filters import DownloadFilter, parse_patterns
from downloader.protocols import DEFAULT_PROTOCOLS


class DownloaderSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    @classmethod
    def from_environment(cls, environment: Mapping[str, str] | None = None) -> DownloaderSettings:
        return cls.model_validate(dict(os.environ if environment is None else environment))

    protocol_sequence: str = Field(DEFAULT_PROTOCOLS, validation_alias="AIM_DOWNLOADER_PROTOCOL")
    mount_path: Path = Field(Path("/cache"), validation_alias="MOUNT_PATH")
    target_dir: Path = Field(Path("/cache"), validation_alias="TARGET_DIR")
    expected_size_bytes: int | None = Field(None, ge=0, validation_alias="EXPECTED_SIZE_BYTES")
    artifact_name: str | None = Field(None, validation_alias="ARTIFACT_NAME")
    artifact_namespace: str | None = Field(None, validation_alias="ARTIFACT_NAMESPACE")
    stall_timeout: float = Field(120.0, gt=0, validation_alias="STALL_TIMEOUT")
    progress_interval: float = Field(5.0, gt=0, validation_alias="PROGRESS_INTERVAL")
    termination_log: Path = Field(Path("/dev/termination-log"), validation_alias="AIM_TERMINATION_LOG")
    hf_include: tuple[str, ...] = Field((), validation_alias="AIM_HF_INCLUDE")
    """Download filter: only files matching one of these globs (every source, not only hf://)."""
    hf_exclude: tuple[str, ...] = Field((), validation_alias="AIM_HF_EXCLUDE")
    """Download filter: no file matching one of these globs (applied after the include list)."""

    # Test hooks (downloader.simulation): on when set to anything but an empty string.
    debug_cause_failure: bool = Field(False, validation_alias="AIM_DEBUG_CAUSE_FAILURE")
    debug_cause_hang: bool = Field(False, validation_alias="AIM_DEBUG_CAUSE_HANG")
    debug_simulate_download: bool = Field(False, validation_alias="AIM_DEBUG_SIMULATE_DOWNLOAD")
    debug_download_duration: float = Field(10.0, ge=0, validation_alias="AIM_DEBUG_DOWNLOAD_DURATION")
    debug_verify_duration: float = Field(10.0, ge=0, validation_alias="AIM_DEBUG_VERIFY_DURATION")
    debug_verify_fail: bool = Field(False, validation_alias="AIM_DEBUG_VERIFY_FAIL")
    debug_simulate_hf_download: bool = Field(False, validation_alias="AIM_DEBUG_SIMULATE_HF_DOWNLOAD")
    debug_simulate_hf_fail_protocols: str = Field("", validation_alias="AIM_DEBUG_SIMULATE_HF_FAIL_PROTOCOLS")
    debug_simulate_hf_duration: float = Field(2.0, ge=0, validation_alias="AIM_DEBUG_SIMULATE_HF_DURATION")

    hf_token: SecretStr | None = Field(None, validation_alias=AliasChoices("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"))
    hf_endpoint: str | None = Field(None, validation_alias="HF_ENDPOINT")

    aws_access_key_id: SecretStr | None = Field(None, validation_alias="AWS_ACCESS_KEY_ID")
    aws_secret_access_key: SecretStr | None = Field(None, validation_alias="AWS_SECRET_ACCESS_KEY")
    aws_session_token: SecretStr | None = Field(None, validation_alias="AWS_SESSION_TOKEN")
    aws_endpoint_url: str | None = Field(None, validation_alias="AWS_ENDPOINT_URL")
    aws_default_region: str | None = Field(None, validation_alias="AWS_DEFAULT_REGION")
    s3_part_size_bytes: int | None = Field(None, gt=0, validation_alias="AIM_S3_PART_SIZE_BYTES")
    """Bytes per ranged GET; boto3's TransferConfig default (8 MiB) when unset."""
    s3_max_concurrency: int | None = Field(None, gt=0, validation_alias="AIM_S3_MAX_CONCURRENCY")
    """Parallel ranged GETs; boto3's TransferConfig default (10) when unset."""

    @field_validator(
        "expected_size_bytes",
        "artifact_name",
        "artifact_namespace",
        "hf_token",
        "hf_endpoint",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_endpoint_url",
        "aws_default_region",
        "s3_part_size_bytes",
        "s3_max_concurrency",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # The Job sets every variable; an empty one means "not given".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("hf_include", "hf_exclude", mode="before")
    @classmethod
    def _pattern_list(cls, value: object) -> object:
        # Upstream's transport: one comma-joined variable per list.
        return parse_patterns(value) if isinstance(value, str) else value

    @field_validator(
        "debug_cause_failure",
        "debug_cause_hang",
        "debug_simulate_download",
        "debug_verify_fail",
        "debug_simulate_hf_download",
        mode="before",
    )
    @classmethod
    def _set_is_on(cls, value: object) -> object:
        # As upstream's scripts test them ([ -n "$VAR" ]): any non-empty value, "false" included.
        return bool(value.strip()) if isinstance(value, str) else value

    def secrets(self) -> list[str]:
        """Values that must never be printed."""
        values = (self.hf_token, self.aws_access_key_id, self.aws_secret_access_key, self.aws_session_token)
        return [v.get_secret_value() for v in values if v is not None]

    @property
    def download_filter(self) -> DownloadFilter:
        return DownloadFilter(self.hf_include, self.hf_exclude)

    @property
    def reports_status(self) -> bool:
        return bool(self.artifact_name and self.artifact_namespace)

"""Hub and S3 clients from the settings. The libraries are imported on first use: a process
that talks to one kind of source does not load the other."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from downloader.protocols import Protocol
from downloader.settings import DownloaderSettings

if TYPE_CHECKING:
    from downloader.hub import HubClient
    from downloader.s3 import S3Settings

USER_AGENT_NAME = "aim-download"
USER_AGENT_VERSION = "0.1.0"


def hub_client(settings: DownloaderSettings, protocol: Protocol) -> HubClient:
    from downloader.hub import HubClient

    token = settings.hf_token.get_secret_value() if settings.hf_token else None
    # The protocol in the user agent lets a Hub (or a test server) tell the attempts apart.
    user_agent = {USER_AGENT_NAME: USER_AGENT_VERSION, "protocol": protocol.value}
    return HubClient(endpoint=settings.hf_endpoint, token=token, user_agent=user_agent)


def s3_settings(settings: DownloaderSettings) -> S3Settings:
    from downloader.s3 import DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE, S3Settings

    def secret(value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value is not None else None

    return S3Settings(
        endpoint_url=settings.aws_endpoint_url,
        region=settings.aws_default_region,
        access_key_id=secret(settings.aws_access_key_id),
        secret_access_key=secret(settings.aws_secret_access_key),
        session_token=secret(settings.aws_session_token),
        part_size=settings.s3_part_size_bytes or DEFAULT_PART_SIZE,
        concurrency=settings.s3_max_concurrency or DEFAULT_CONCURRENCY,
    )


def s3_client(settings: DownloaderSettings) -> Any:
    from downloader.s3 import make_client

    return make_client(s3_settings(settings))

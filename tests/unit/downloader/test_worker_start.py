"""When the supervisor may fork a worker instead of starting a fresh interpreter."""

from __future__ import annotations

import pytest

from downloader.supervisor import fork_is_safe


@pytest.mark.parametrize(
    ("threads", "loaded", "safe"),
    [
        pytest.param(1, {"downloader.supervisor", "pydantic"}, True, id="single-threaded-and-clean"),
        pytest.param(2, {"downloader.supervisor"}, False, id="another-thread-runs"),
        pytest.param(1, {"huggingface_hub"}, False, id="hub-read-the-supervisor-environment"),
        pytest.param(1, {"hf_xet"}, False, id="xet-loaded"),
        pytest.param(1, {"hf_transfer"}, False, id="hf-transfer-loaded"),
        pytest.param(1, {"boto3", "botocore"}, False, id="s3-client-loaded"),
        pytest.param(1, {"huggingface_hub_extra"}, True, id="only-exact-names-count"),
    ],
)
def test_fork_is_safe(threads: int, loaded: set[str], safe: bool) -> None:
    assert fork_is_safe(threads, dict.fromkeys(loaded)) is safe

"""hf_xet's memory limits from the container's."""

from __future__ import annotations

import pytest

from downloader.memory import GiB, MiB, container_memory_limit, parse_memory_limit, xet_budget, xet_environment


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("max\n", None, id="v2-unlimited"),
        pytest.param("4294967296\n", 4 * GiB, id="v2-4GiB"),
        pytest.param("9223372036854771712\n", None, id="v1-unlimited"),
        pytest.param("536870912", 512 * MiB, id="v1-512MiB"),
        pytest.param("", None, id="empty"),
        pytest.param("garbage", None, id="garbage"),
        pytest.param("0", None, id="zero"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_parse_memory_limit(text: str | None, expected: int | None) -> None:
    assert parse_memory_limit(text) == expected


@pytest.mark.parametrize(
    ("v2", "v1", "expected"),
    [
        pytest.param("1073741824", "2147483648", GiB, id="v2-wins"),
        pytest.param(None, "2147483648", 2 * GiB, id="v1-fallback"),
        pytest.param("max", "2147483648", None, id="v2-unlimited-wins"),
        pytest.param(None, None, None, id="neither"),
    ],
)
def test_container_memory_limit(v2: str | None, v1: str | None, expected: int | None) -> None:
    assert container_memory_limit(v2, v1) == expected


@pytest.mark.parametrize(
    ("limit", "budget", "buffer", "per_file", "files"),
    [
        pytest.param(None, 2 * GiB, GiB, 256 * MiB, 8, id="unlimited"),
        pytest.param(256 * MiB, 64 * MiB, 32 * MiB, 16 * MiB, 1, id="256MiB-floor"),
        pytest.param(GiB, 256 * MiB, 128 * MiB, 32 * MiB, 2, id="1GiB"),
        pytest.param(4 * GiB, GiB, 512 * MiB, 128 * MiB, 8, id="4GiB"),
        pytest.param(64 * GiB, 4 * GiB, 2 * GiB, 512 * MiB, 8, id="64GiB-ceiling"),
    ],
)
def test_xet_environment(limit: int | None, budget: int, buffer: int, per_file: int, files: int) -> None:
    env = xet_environment(limit)
    assert xet_budget(limit) == budget
    assert env["HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_LIMIT"] == str(budget)
    assert env["HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_SIZE"] == str(buffer)
    assert env["HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_PERFILE_SIZE"] == str(per_file)
    assert env["HF_XET_DATA_MAX_CONCURRENT_FILE_DOWNLOADS"] == str(files)
    assert env["HF_XET_CHUNK_CACHE_SIZE_BYTES"] == "0"


@pytest.mark.parametrize("limit", [None, 128 * MiB, GiB, 8 * GiB, 1024 * GiB])
def test_buffers_stay_within_a_quarter_of_the_limit(limit: int | None) -> None:
    env = xet_environment(limit)
    ceiling = int(env["HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_LIMIT"])
    assert int(env["HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_SIZE"]) <= ceiling
    if limit is not None and limit >= 256 * MiB:
        assert ceiling <= limit // 4


def test_user_settings_win() -> None:
    env = xet_environment(GiB, frozenset({"HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_LIMIT"}))
    assert "HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_LIMIT" not in env
    assert "HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_SIZE" in env

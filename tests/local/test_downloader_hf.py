"""`aim-download hf://...` as the download Job runs it (the console script, a real process),
against the Hub look-alike in tests/servers/hf.py: each protocol, fallback, stalls, resume after
SIGKILL, size verification, not-found and credential failures, --check-size."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devcluster.waiting import wait_until
from downloader import EXIT_NOT_FOUND, EXIT_SIZE_MISMATCH, EXIT_TRANSIENT, EXIT_UNAUTHORIZED
from tests.servers.fixtures import (
    HF_TOKEN,
    HfServer,
    MiB,
    download_env,
    hub_with_repositories,
    run_download,
    sha256_tree,
    start_download,
)


@pytest.fixture(scope="module")
def hf_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HfServer]:
    with hub_with_repositories(tmp_path_factory.mktemp("hub")) as server:
        yield server


@pytest.fixture
def hub(hf_server: HfServer) -> HfServer:
    hf_server.reset()
    return hf_server


def env_for(hub: HfServer, tmp_path: Path, **extra: str) -> dict[str, str]:
    return download_env(tmp_path, HF_ENDPOINT=hub.url, **extra)


def no_partial_files(target: Path) -> bool:
    return not [p for p in target.rglob("*") if p.name.endswith((".incomplete", ".parts"))]


@pytest.mark.parametrize("protocol", ["XET", "HF_TRANSFER", "HTTP"])
def test_each_protocol_downloads_the_repository(hub: HfServer, tmp_path: Path, protocol: str) -> None:
    env = env_for(hub, tmp_path, AIM_DOWNLOADER_PROTOCOL=protocol)
    result = run_download("hf://acme/tiny", env=env)
    assert result.returncode == 0, result.stderr
    target = tmp_path / "target"
    assert sha256_tree(target) == sha256_tree(hub.root / "acme" / "tiny")
    assert no_partial_files(target)
    file_requests = [r for r in hub.requests() if "/resolve/" in r["path"] and r["method"] == "GET"]
    assert {r["path"].rsplit("/", 1)[-1] for r in file_requests} == {
        "model.safetensors",
        "config.json",
        "tokenizer.json",
    }
    assert all(f"protocol/{protocol}" in r["user_agent"] for r in file_requests)
    # The Hub look-alike offers no Xet storage, so XET's bytes come over huggingface_hub's HTTP path.


def test_failing_and_stalling_protocols_fall_back_and_leave_no_partial_files(hub: HfServer, tmp_path: Path) -> None:
    hub.set_faults(
        {"action": "fail", "user_agent": "protocol/XET", "path": "/resolve/", "status": 503},
        {"action": "stall", "user_agent": "protocol/HF_TRANSFER", "path": "model.safetensors", "after_bytes": MiB},
    )
    env = env_for(hub, tmp_path, AIM_DOWNLOADER_PROTOCOL="XET,HF_TRANSFER,HTTP", STALL_TIMEOUT="3")
    result = run_download("hf://acme/tiny", env=env)
    assert result.returncode == 0, result.stderr
    assert "Attempt failed protocol=XET" in result.stderr
    # The first worker is forked from the still single-threaded supervisor; once threads run
    # (size discovery, output relays), later ones may be fresh interpreters: each gets its own
    # protocol's environment either way (the user agents below).
    assert "start=forked protocol=XET" in result.stderr
    assert "503" in result.stderr
    assert "Killed stalled attempt protocol=HF_TRANSFER" in result.stderr
    assert "Removed partial files" in result.stderr  # the stalled hf_transfer file, before HTTP
    target = tmp_path / "target"
    assert sha256_tree(target) == sha256_tree(hub.root / "acme" / "tiny")
    assert no_partial_files(target)
    served = {(r["user_agent"].rsplit("protocol/", 1)[-1], r["fault"]) for r in hub.requests() if r["method"] == "GET"}
    assert ("XET", "fail") in served
    assert ("HF_TRANSFER", "stall") in served
    assert ("HTTP", None) in served


def test_a_server_that_stops_sending_is_a_stall(hub: HfServer, tmp_path: Path) -> None:
    hub.set_faults({"action": "stall", "path": "weights.bin", "after_bytes": 2 * MiB})
    env = env_for(hub, tmp_path, AIM_DOWNLOADER_PROTOCOL="HTTP", STALL_TIMEOUT="2")
    result = run_download("hf://acme/big", env=env, timeout=60)
    assert result.returncode == EXIT_TRANSIENT, result.stderr
    assert result.termination_message is not None
    assert result.termination_message.startswith("download stalled: no progress for 2 s with HTTP")
    assert result.seconds < 20


def test_http_resumes_a_partial_file_after_sigkill(hub: HfServer, tmp_path: Path) -> None:
    size = 24 * MiB
    hub.set_faults({"action": "throttle", "path": "weights.bin", "bytes_per_second": 6 * MiB})
    env = env_for(hub, tmp_path, AIM_DOWNLOADER_PROTOCOL="HTTP")
    process = start_download("hf://acme/big", env=env)
    download_dir = tmp_path / "target" / ".cache" / "huggingface" / "download"

    def partial_size() -> int | None:
        sizes = [p.stat().st_size for p in download_dir.glob("*.incomplete")] if download_dir.exists() else []
        return sizes[0] if sizes and sizes[0] >= 8 * MiB else None

    wait_until(partial_size, timeout=30, what="8 MiB of the partial file")
    os.killpg(process.pid, signal.SIGKILL)  # the container is killed: supervisor and worker at once
    process.communicate()
    wait_until(lambda: not _worker_running(tmp_path), timeout=10, what="the worker to be gone")
    on_disk = partial_size()
    assert on_disk is not None
    assert on_disk < size
    hub.reset()

    result = run_download("hf://acme/big", env=env)
    assert result.returncode == 0, result.stderr
    assert "Resumed partial file" in result.stderr
    assert sha256_tree(tmp_path / "target") == sha256_tree(hub.root / "acme" / "big")
    gets = [r for r in hub.requests() if r["method"] == "GET" and r["path"].endswith("weights.bin")]
    assert [r["range"] for r in gets] == [f"bytes={on_disk}-"]
    assert gets[0]["bytes_sent"] == size - on_disk


def _worker_running(tmp_path: Path) -> bool:
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            cmdline = status.read_bytes()
        except OSError:
            continue
        if b"downloader.worker" in cmdline and str(tmp_path).encode() in cmdline:
            return True
    return False


def test_wrong_expected_size_fails_verification(hub: HfServer, tmp_path: Path) -> None:
    actual = sum(p.stat().st_size for p in (hub.root / "acme" / "tiny").rglob("*") if p.is_file())
    env = env_for(hub, tmp_path, AIM_DOWNLOADER_PROTOCOL="HTTP", EXPECTED_SIZE_BYTES=str(actual + 1))
    result = run_download("hf://acme/tiny", env=env)
    assert result.returncode == EXIT_SIZE_MISMATCH, result.stderr
    assert result.termination_message == (
        f"size verification failed: downloaded {actual} bytes (3.0 MiB), expected {actual + 1} bytes (3.0 MiB);"
        " difference -1 bytes"
    )


def test_right_expected_size_passes(hub: HfServer, tmp_path: Path) -> None:
    actual = sum(p.stat().st_size for p in (hub.root / "acme" / "tiny").rglob("*") if p.is_file())
    env = env_for(hub, tmp_path, AIM_DOWNLOADER_PROTOCOL="HTTP", EXPECTED_SIZE_BYTES=str(actual))
    assert run_download("hf://acme/tiny", env=env).returncode == 0


@pytest.mark.parametrize(
    ("uri", "token", "code", "reason"),
    [
        pytest.param(
            "hf://acme/missing", None, EXIT_NOT_FOUND, "source not found: 401 Client Error", id="unknown-repo"
        ),
        pytest.param("hf://acme/missing", HF_TOKEN, EXIT_NOT_FOUND, "source not found: 404", id="unknown-repo-auth"),
        pytest.param("hf://acme/tiny@v9", None, EXIT_NOT_FOUND, "Revision Not Found", id="unknown-revision"),
        pytest.param(
            "hf://acme/private", None, EXIT_NOT_FOUND, "a private repository without a valid token", id="private-anon"
        ),
        pytest.param(
            "hf://acme/private", "hf_wrongtoken0123456789abcd", EXIT_UNAUTHORIZED, "access denied: ", id="wrong-token"
        ),
    ],
)
def test_permanent_failures(hub: HfServer, tmp_path: Path, uri: str, token: str | None, code: int, reason: str) -> None:
    extra = {"HF_TOKEN": token} if token else {}
    env = env_for(hub, tmp_path, AIM_DOWNLOADER_PROTOCOL="XET,HF_TRANSFER,HTTP", **extra)
    result = run_download(uri, env=env)
    assert result.returncode == code, result.stderr
    assert result.termination_message is not None
    assert reason in result.termination_message
    assert "\n" not in result.termination_message
    assert "Started attempt protocol=HF_TRANSFER" not in result.stderr  # no other protocol was tried
    if token:
        assert token not in result.output
        assert token[:12] not in result.output


def test_private_repository_with_the_token(hub: HfServer, tmp_path: Path) -> None:
    env = env_for(hub, tmp_path, AIM_DOWNLOADER_PROTOCOL="HF_TRANSFER", HF_TOKEN=HF_TOKEN)
    result = run_download("hf://acme/private", env=env)
    assert result.returncode == 0, result.stderr
    assert sha256_tree(tmp_path / "target") == sha256_tree(hub.root / "acme" / "private")
    assert HF_TOKEN not in result.output


def test_token_refused_mid_download_is_unauthorized_without_trying_other_protocols(
    hub: HfServer, tmp_path: Path
) -> None:
    hub.set_faults({"action": "fail", "path": "/resolve/", "status": 403, "methods": ["HEAD", "GET"]})
    env = env_for(hub, tmp_path, AIM_DOWNLOADER_PROTOCOL="HTTP,XET", HF_TOKEN=HF_TOKEN)
    result = run_download("hf://acme/private", env=env)
    assert result.returncode == EXIT_UNAUTHORIZED, result.stderr
    assert "Started attempt protocol=XET" not in result.stderr
    assert HF_TOKEN not in result.output


def test_check_size(hub: HfServer, tmp_path: Path) -> None:
    expected = sum(p.stat().st_size for p in (hub.root / "acme" / "tiny").rglob("*") if p.is_file())
    result = run_download("--check-size", "hf://acme/tiny", env=env_for(hub, tmp_path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"url": "hf://acme/tiny", "sizeBytes": expected}
    assert not (tmp_path / "target").exists()


def test_check_size_of_an_unknown_repository(hub: HfServer, tmp_path: Path) -> None:
    result = run_download("--check-size", "hf://acme/missing", env=env_for(hub, tmp_path))
    assert result.returncode == EXIT_NOT_FOUND
    assert result.stdout == ""


def test_files_already_downloaded_are_not_fetched_again(hub: HfServer, tmp_path: Path) -> None:
    env = env_for(hub, tmp_path, AIM_DOWNLOADER_PROTOCOL="HTTP")
    assert run_download("hf://acme/tiny", env=env).returncode == 0
    hub.reset()
    started = time.monotonic()
    assert run_download("hf://acme/tiny", env=env).returncode == 0
    assert time.monotonic() - started < 30
    assert not [r for r in hub.requests() if r["method"] == "GET" and "/resolve/" in r["path"]]


def files_on_disk(target: Path) -> dict[str, int]:
    return {
        p.relative_to(target).as_posix(): p.stat().st_size
        for p in target.rglob("*")
        if p.is_file() and p.relative_to(target).parts[0] != ".cache"
    }


@pytest.mark.parametrize(
    ("protocol", "filter_env", "expected"),
    [
        pytest.param(
            "HTTP", {"AIM_HF_EXCLUDE": "*/*"}, {"config.json", "model.safetensors"}, id="exclude-subdirs-http"
        ),
        pytest.param("XET", {"AIM_HF_EXCLUDE": "*/*"}, {"config.json", "model.safetensors"}, id="exclude-subdirs-xet"),
        pytest.param("HTTP", {"AIM_HF_INCLUDE": "*.json"}, {"config.json", "sub/tokenizer.json"}, id="include-json"),
        pytest.param(
            "HTTP",
            {"AIM_HF_INCLUDE": "", "AIM_HF_EXCLUDE": " , "},
            {"config.json", "model.safetensors", "sub/tokenizer.json"},
            id="empty-filter-downloads-everything",
        ),
    ],
)
def test_download_filter_selects_the_same_files_for_size_and_download(
    hub: HfServer, tmp_path: Path, protocol: str, filter_env: dict[str, str], expected: set[str]
) -> None:
    env = env_for(hub, tmp_path, AIM_DOWNLOADER_PROTOCOL=protocol, **filter_env)
    sized = run_download("--check-size", "hf://acme/tiny", env=env)
    assert sized.returncode == 0, sized.stderr
    size = json.loads(sized.stdout.strip().splitlines()[-1])["sizeBytes"]

    result = run_download("hf://acme/tiny", env={**env, "EXPECTED_SIZE_BYTES": str(size)})
    assert result.returncode == 0, result.stderr
    on_disk = files_on_disk(tmp_path / "target")
    assert set(on_disk) == expected
    assert sum(on_disk.values()) == size  # the check-size Job sizes exactly what the download Job writes
    resolved = [r["path"].split("/resolve/", 1)[1] for r in hub.requests() if "/resolve/" in r["path"]]
    assert {path.split("/", 1)[1] for path in resolved} == expected  # <revision>/<file>: nothing else was fetched
    if any(v.strip(" ,") for v in filter_env.values()):
        assert f"selected={len(expected)} of=3" in sized.stderr
        assert f"selected={len(expected)} of=3" in result.stderr
        assert "Applied download filter include=" in result.stderr


def test_download_filter_that_selects_nothing_is_a_permanent_failure(hub: HfServer, tmp_path: Path) -> None:
    env = env_for(hub, tmp_path, AIM_DOWNLOADER_PROTOCOL="XET,HTTP", AIM_HF_INCLUDE="*.gguf", AIM_HF_EXCLUDE="*/*")
    reason = 'No files at hf://acme/tiny match the download filter (include=["*.gguf"], exclude=["*/*"])'
    for args in (["--check-size", "hf://acme/tiny"], ["hf://acme/tiny"]):
        (tmp_path / "termination-log").unlink(missing_ok=True)
        result = run_download(*args, env=env)
        assert result.returncode == EXIT_NOT_FOUND, result.stderr
        assert result.termination_message is not None
        assert reason in result.termination_message
        assert "Started attempt protocol=HTTP" not in result.stderr  # no other protocol tried
    assert not [r for r in hub.requests() if "/resolve/" in r["path"]]

"""`aim-download s3://...` against moto's S3 server checking credentials (tests/servers/s3.py):
objects under a prefix, --check-size, wrong credentials, missing bucket or prefix, a stall, and
resume of a partial object after SIGKILL."""

from __future__ import annotations

import hashlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from devcluster.waiting import wait_until
from downloader import EXIT_NOT_FOUND, EXIT_TRANSIENT, EXIT_UNAUTHORIZED
from downloader.parts import split_parts
from tests.servers.fixtures import MiB, S3Server, download_env, run_download, s3_with_buckets, start_download


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with s3_with_buckets(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture
def s3(s3_server: S3Server) -> S3Server:
    s3_server.reset()
    return s3_server


def object_digests(s3: S3Server, prefix: str) -> dict[str, str]:
    client = s3.client()
    digests = {}
    for item in client.list_objects_v2(Bucket="models", Prefix=prefix)["Contents"]:
        body = client.get_object(Bucket="models", Key=item["Key"])["Body"].read()
        digests[item["Key"].removeprefix(prefix)] = hashlib.sha256(body).hexdigest()
    return digests


def tree_digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] != ".cache"
    }


def test_objects_under_the_prefix_keep_their_paths(s3: S3Server, tmp_path: Path) -> None:
    result = run_download("s3://models/llama", env=download_env(tmp_path, **s3.env()))
    assert result.returncode == 0, result.stderr
    target = tmp_path / "target"
    assert tree_digests(target) == object_digests(s3, "llama/")
    assert set(tree_digests(target)) == {"config.json", "weights/model.safetensors"}  # not llama-2/
    assert not list(target.rglob("*.incomplete"))
    assert s3.credentials["aws_secret_access_key"] not in result.output


def test_check_size(s3: S3Server, tmp_path: Path) -> None:
    client = s3.client()
    expected = sum(o["Size"] for o in client.list_objects_v2(Bucket="models", Prefix="llama/")["Contents"])
    result = run_download("--check-size", "s3://models/llama", env=download_env(tmp_path, **s3.env()))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"url": "s3://models/llama", "sizeBytes": expected}


@pytest.mark.parametrize(
    ("credentials", "code"),
    [
        pytest.param({"AWS_SECRET_ACCESS_KEY": "wrong-secret-0123456789abcdefghijklmnopq"}, "SignatureDoesNotMatch"),
        pytest.param({"AWS_ACCESS_KEY_ID": "AKIAUNKNOWNKEY000000"}, "InvalidAccessKeyId"),
    ],
    ids=["wrong-secret", "unknown-key"],
)
def test_wrong_credentials_are_unauthorized(
    s3: S3Server, tmp_path: Path, credentials: dict[str, str], code: str
) -> None:
    env = download_env(tmp_path, **{**s3.env(), **credentials})
    result = run_download("s3://models/llama", env=env)
    assert result.returncode == EXIT_UNAUTHORIZED, result.stderr
    assert result.termination_message is not None
    assert result.termination_message.startswith(f"access denied: An error occurred ({code})")
    for secret in (env["AWS_SECRET_ACCESS_KEY"], env["AWS_ACCESS_KEY_ID"], s3.credentials["aws_secret_access_key"]):
        assert secret not in result.output


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        pytest.param("s3://no-such-bucket/llama", "(NoSuchBucket)", id="bucket"),
        pytest.param("s3://models/nothing-here", "no objects under s3://models/nothing-here", id="empty-prefix"),
    ],
)
def test_missing_source_is_not_found(s3: S3Server, tmp_path: Path, uri: str, reason: str) -> None:
    for args in ([uri], ["--check-size", uri]):
        result = run_download(*args, env=download_env(tmp_path, **s3.env()))
        assert result.returncode == EXIT_NOT_FOUND, result.stderr
        assert result.termination_message is not None
        assert reason in result.termination_message


def test_a_stalled_transfer_is_killed(s3: S3Server, tmp_path: Path) -> None:
    s3.set_faults({"action": "stall", "path": "/models/big/", "after_bytes": MiB})
    env = download_env(tmp_path, STALL_TIMEOUT="2", **s3.env())
    result = run_download("s3://models/big", env=env, timeout=60)
    assert result.returncode == EXIT_TRANSIENT, result.stderr
    assert result.termination_message is not None
    assert result.termination_message.startswith("download stalled: no progress for 2 s with S3")


def test_a_partial_object_resumes_after_sigkill(s3: S3Server, tmp_path: Path) -> None:
    size, part_size = 16 * MiB, MiB
    parts = split_parts(size, part_size)
    s3.set_faults({"action": "throttle", "path": "/models/big/", "bytes_per_second": 2 * MiB})
    env = download_env(tmp_path, AIM_S3_PART_SIZE_BYTES=str(part_size), AIM_S3_MAX_CONCURRENCY="2", **s3.env())
    journal = tmp_path / "target" / ".cache" / "s3" / "weights.bin.incomplete.parts"

    def finished_parts() -> set[int]:
        lines = journal.read_text().split("\n")[1:-1] if journal.exists() else []
        return {int(line) for line in lines}

    process = start_download("s3://models/big", env=env)
    wait_until(lambda: len(finished_parts()) >= 6, timeout=30, what="6 finished parts")
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    done = finished_parts()
    assert 6 <= len(done) < len(parts)
    s3.reset()

    result = run_download("s3://models/big", env=env)
    assert result.returncode == 0, result.stderr
    assert "Resumed partial object" in result.stderr
    fetched = sorted(
        r["range"] for r in s3.requests() if r["method"] == "GET" and r["path"] == "/models/big/weights.bin"
    )
    assert fetched == sorted(p.range_header for p in parts if p.index not in done)
    assert tree_digests(tmp_path / "target") == object_digests(s3, "big/")


def test_download_filter_selects_the_same_objects_for_size_and_download(s3: S3Server, tmp_path: Path) -> None:
    env = download_env(tmp_path, AIM_HF_EXCLUDE="*/*", **s3.env())
    sized = run_download("--check-size", "s3://models/llama", env=env)
    assert sized.returncode == 0, sized.stderr
    size = json.loads(sized.stdout.strip().splitlines()[-1])["sizeBytes"]
    assert "selected=1 of=2" in sized.stderr

    result = run_download("s3://models/llama", env={**env, "EXPECTED_SIZE_BYTES": str(size)})
    assert result.returncode == 0, result.stderr
    target = tmp_path / "target"
    assert set(tree_digests(target)) == {"config.json"}  # not weights/model.safetensors
    assert size == (target / "config.json").stat().st_size  # the check-size Job sizes exactly what is written
    assert 'Applied download filter include=[] exclude=["*/*"]' in result.stderr
    fetched = {r["path"] for r in s3.requests() if r["method"] == "GET" and r["path"].startswith("/models/llama/")}
    assert fetched == {"/models/llama/config.json"}


def test_download_filter_that_selects_nothing_is_a_permanent_failure(s3: S3Server, tmp_path: Path) -> None:
    env = download_env(tmp_path, AIM_HF_INCLUDE="*.gguf", **s3.env())
    reason = 'No files at s3://models/llama match the download filter (include=["*.gguf"], exclude=[])'
    for args in (["--check-size", "s3://models/llama"], ["s3://models/llama"]):
        (tmp_path / "termination-log").unlink(missing_ok=True)
        result = run_download(*args, env=env)
        assert result.returncode == EXIT_NOT_FOUND, result.stderr
        assert result.termination_message is not None
        assert reason in result.termination_message

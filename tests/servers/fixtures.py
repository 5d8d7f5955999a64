"""Starting and driving the test servers (used by the downloader's integration tests and its
benchmark). Each server is a child process at a free port on 127.0.0.1, or on the real node's host
address (`devcluster.hostnet.NODE_IP`) where pods must reach it."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx

from devcluster.controlplane import free_port
from devcluster.waiting import StopWaitingError, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]


class _Server:
    def __init__(self, argv: list[str], log: Path, health_path: str, host: str = "127.0.0.1"):
        self.port = free_port()
        self.url = f"http://{host}:{self.port}"
        self.log = log
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", *argv, "--host", host, "--port", str(self.port)],
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

        def healthy() -> bool:
            if self.process.poll() is not None:
                raise StopWaitingError(f"{argv[0]} exited: {log.read_text()[-2000:]}")
            try:
                return httpx.get(self.url + health_path, timeout=2).status_code < 500
            except httpx.TransportError:
                return False

        wait_until(healthy, timeout=30, what=argv[0])

    def set_faults(self, *rules: dict[str, Any]) -> None:
        httpx.put(f"{self.url}/_test/faults", json=list(rules), timeout=10).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/_test/requests", timeout=10)
        response.raise_for_status()
        records: list[dict[str, Any]] = response.json()
        return records

    def reset(self) -> None:
        httpx.post(f"{self.url}/_test/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class HfServer(_Server):
    def __init__(
        self,
        root: Path,
        log: Path,
        tokens: list[str] = (),  # type: ignore[assignment]
        private: list[str] = (),  # type: ignore[assignment]
        host: str = "127.0.0.1",
    ):
        argv = ["tests.servers.hf", "--root", str(root)]
        for token in tokens:
            argv += ["--token", token]
        for repo in private:
            argv += ["--private", repo]
        self.root = root
        super().__init__(argv, log, "/_test/health", host)

    def resolve_url(self, repo_id: str, path: str, revision: str = "main") -> str:
        return f"{self.url}/{repo_id}/resolve/{revision}/{path}"


class S3Server(_Server):
    """moto's S3. Until `enforce_auth`, any credentials pass; after it, only `credentials`."""

    REGION = "us-east-1"

    def __init__(self, log: Path, host: str = "127.0.0.1"):
        super().__init__(["tests.servers.s3"], log, "/moto-api/data.json", host)
        self.credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

    def client(self, **credentials: str) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=self.REGION,
            **(credentials or self.credentials),
        )

    def enforce_auth(self) -> dict[str, str]:
        """Create an IAM user allowed everything, then make moto check every request's key and
        signature against IAM. Returns (and from now on uses) the user's credentials."""
        iam = boto3.client("iam", endpoint_url=self.url, region_name=self.REGION, **self.credentials)
        iam.create_user(UserName="downloader")
        iam.put_user_policy(
            UserName="downloader",
            PolicyName="all",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            ),
        )
        key = iam.create_access_key(UserName="downloader")["AccessKey"]
        httpx.post(f"{self.url}/moto-api/reset-auth", content=b"0", timeout=10).raise_for_status()
        self.credentials = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
        return dict(self.credentials)

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_DEFAULT_REGION": self.REGION,
            "AWS_ACCESS_KEY_ID": self.credentials["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": self.credentials["aws_secret_access_key"],
        }


# -- servers with the tests' data ------------------------------------------------------------------

HF_TOKEN = "hf_validtoken0123456789abcdef"
MiB = 1024 * 1024


def _random_file(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))


@contextmanager
def hub_with_repositories(workdir: Path, host: str = "127.0.0.1") -> Iterator[HfServer]:
    """Repositories: acme/tiny (3 files, ~3 MiB), acme/big (one 24 MiB file), acme/private
    (private, readable with HF_TOKEN)."""
    root = workdir / "repos"
    tiny = root / "acme" / "tiny"
    (tiny / "sub").mkdir(parents=True)
    (tiny / "config.json").write_text('{"architectures": ["TinyForCausalLM"]}\n')
    (tiny / "sub" / "tokenizer.json").write_text('{"version": "1.0"}\n')
    _random_file(tiny / "model.safetensors", 3 * MiB)
    _random_file(root / "acme" / "big" / "weights.bin", 24 * MiB)
    _random_file(root / "acme" / "private" / "weights.bin", MiB)
    server = HfServer(root, workdir / "hf-server.log", tokens=[HF_TOKEN], private=["acme/private"], host=host)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def s3_with_buckets(workdir: Path, host: str = "127.0.0.1") -> Iterator[S3Server]:
    """moto checking credentials, with bucket `models`: llama/ (two objects, ~5 MiB), llama-2/
    (a neighbour the llama prefix must not pick up), big/weights.bin (16 MiB)."""
    server = S3Server(workdir / "s3-server.log", host)
    server.enforce_auth()
    client = server.client()
    client.create_bucket(Bucket="models")
    client.put_object(Bucket="models", Key="llama/config.json", Body=b'{"model_type": "llama"}\n')
    client.put_object(Bucket="models", Key="llama/weights/model.safetensors", Body=os.urandom(5 * MiB))
    client.put_object(Bucket="models", Key="llama-2/config.json", Body=b"{}")
    client.put_object(Bucket="models", Key="big/weights.bin", Body=os.urandom(16 * MiB))
    try:
        yield server
    finally:
        server.stop()


# -- running aim-download as the Job does ------------------------------------------------------------

AIM_DOWNLOAD = Path(sys.executable).with_name("aim-download")


@dataclass
class DownloadRun:
    returncode: int
    stdout: str
    stderr: str
    termination_message: str | None
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr + (self.termination_message or "")


def download_env(workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a download Job: nothing inherited that could change the outcome."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HF_", "AIM_", "KUBECONFIG", "ARTIFACT_"))}
    env.update(
        TARGET_DIR=str(workdir / "target"),
        HF_HOME=str(workdir / "hf-home"),
        AIM_TERMINATION_LOG=str(workdir / "termination-log"),
        PROGRESS_INTERVAL="1",
        STALL_TIMEOUT="30",
    )
    env.update(extra)
    return env


def start_download(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """In a session of its own, so that a test can kill the whole process group as the kubelet
    kills a container."""
    return subprocess.Popen(
        [str(AIM_DOWNLOAD), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def run_download(*args: str, env: dict[str, str], timeout: float = 120) -> DownloadRun:
    started = time.monotonic()
    process = start_download(*args, env=env)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        raise AssertionError(f"aim-download {' '.join(args)} ran over {timeout} s:\n{stderr[-3000:]}") from None
    log = Path(env["AIM_TERMINATION_LOG"])
    message = log.read_text() if log.exists() else None
    return DownloadRun(process.returncode, stdout, stderr, message, time.monotonic() - started)


def sha256_tree(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by relative path, without the metadata directory."""
    digests = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and relative.parts[0] != ".cache":
            digests[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests

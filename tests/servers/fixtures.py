"""Starting and driving the test servers (used by the downloader's integration tests and its
benchmark). Each server is a child process on 127.0.0.1 at a free port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import httpx

from devcluster.controlplane import free_port
from devcluster.waiting import StopWaitingError, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]


class _Server:
    def __init__(self, argv: list[str], log: Path, health_path: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", *argv, "--port", str(self.port)],
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
    def __init__(self, root: Path, log: Path, tokens: list[str] = (), private: list[str] = ()):  # type: ignore[assignment]
        argv = ["tests.servers.hf", "--root", str(root)]
        for token in tokens:
            argv += ["--token", token]
        for repo in private:
            argv += ["--private", repo]
        self.root = root
        super().__init__(argv, log, "/_test/health")

    def resolve_url(self, repo_id: str, path: str, revision: str = "main") -> str:
        return f"{self.url}/{repo_id}/resolve/{revision}/{path}"


class S3Server(_Server):
    """moto's S3. Until `enforce_auth`, any credentials pass; after it, only `credentials`."""

    REGION = "us-east-1"

    def __init__(self, log: Path):
        super().__init__(["tests.servers.s3"], log, "/moto-api/data.json")
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

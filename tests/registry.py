"""A real OCI registry for the tests (the CNCF distribution registry on 127.0.0.1) and crane to push
small images to it: no Docker daemon, no network.

`RegistryServer` starts `registry serve` with a generated config (filesystem storage under the
test's tmp directory, plain HTTP; optionally htpasswd basic auth, or bearer tokens from a
`TokenServer`, the scheme Docker Hub, GHCR and Harbor use) and reads its access log, so a test can
count the requests a client made. `Crane` builds images from an empty base plus one tiny
layer and sets labels, env and platform with `crane mutate`; `push_index` combines such images into
a multi-platform OCI index.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import bcrypt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from devcluster.binaries import RegistryBinaries
from devcluster.controlplane import free_port
from devcluster.processes import ManagedProcess
from devcluster.waiting import StopWaitingError, wait_until

# The combined log format line the registry writes for every request it answered.
_ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[0-9.]+" (?P<status>\d{3}) ')


@dataclass(frozen=True)
class AccessLogEntry:
    method: str
    path: str
    status: int


@dataclass
class RegistryServer:
    """One running registry; `host` is what goes into image references (`127.0.0.1:PORT`)."""

    host: str
    process: ManagedProcess
    username: str | None = None
    password: str | None = None
    tokens: TokenServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def dockerconfigjson_secret(
        self, name: str = "registry-credentials", password: str | None = None
    ) -> dict[str, Any]:
        """A kubernetes.io/dockerconfigjson Secret (as the API returns it) for this registry."""
        if self.username is None or self.password is None:
            raise ValueError("an anonymous registry needs no secret")
        auth = base64.b64encode(f"{self.username}:{password or self.password}".encode()).decode()
        config = {"auths": {self.host: {"auth": auth}}}
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()},
        }

    def access_log_mark(self) -> int:
        """A position in the access log; `requests_since(mark)` lists what came after it."""
        return len(self.access_log())

    def requests_since(self, mark: int) -> list[AccessLogEntry]:
        return self.access_log()[mark:]

    def access_log(self) -> list[AccessLogEntry]:
        entries = []
        for line in self.process.log_path.read_text(errors="replace").splitlines():
            match = _ACCESS_LINE.search(line)
            if match:
                entries.append(AccessLogEntry(match["method"], match["path"], int(match["status"])))
        return entries


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenServer:
    """A Docker-style token service on 127.0.0.1: `GET /token?service=…&scope=…` with basic auth
    returns a JWT granting the scopes asked for; without (valid) credentials it returns a token
    that grants nothing, as Docker Hub does for private repositories."""

    username: str
    password: str
    workdir: Path
    service: str = "aim-test-registry"
    issuer: str = "aim-test-issuer"
    key_id: str = "aim-test-key"
    issued: list[tuple[str | None, tuple[str, ...]]] = field(default_factory=list)
    """(user or None, scopes) of every token handed out."""

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self.key.public_key().public_numbers()
        jwk = {
            "kty": "RSA",
            "kid": self.key_id,
            "alg": "RS256",
            "use": "sig",
            "n": _b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": _b64url(numbers.e.to_bytes(3, "big")),
        }
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.jwks = self.workdir / "jwks.json"
        self.jwks.write_text(json.dumps({"keys": [jwk]}))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.realm = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def token(self, user: str | None, scopes: Sequence[str]) -> str:
        access = []
        for scope in scopes if user else ():
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user or "",
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        header = {"alg": "RS256", "typ": "JWT", "kid": self.key_id}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self
        expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                sent = self.headers.get("Authorization")
                if sent is not None and sent != expected:
                    self.send_response(401)
                    self.end_headers()
                    return
                user = server.username if sent else None
                scopes = tuple(query.get("scope", []))
                server.issued.append((user, scopes))
                body = json.dumps({"token": server.token(user, scopes), "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _config(root: Path, port: int, htpasswd: Path | None, tokens: TokenServer | None = None) -> str:
    # JSON is YAML: the registry reads this file with a YAML parser.
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "warn", "formatter": "text", "accesslog": {"disabled": False}},
        "storage": {"filesystem": {"rootdirectory": str(root / "data")}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": "aim-engine-tests"},
    }
    if htpasswd is not None:
        config["auth"] = {"htpasswd": {"realm": "aim-engine-tests", "path": str(htpasswd)}}
    if tokens is not None:
        config["auth"] = {
            "token": {
                "realm": tokens.realm,
                "service": tokens.service,
                "issuer": tokens.issuer,
                "jwks": str(tokens.jwks),
            }
        }
    return json.dumps(config, indent=2)


@contextmanager
def run_registry(
    binaries: RegistryBinaries,
    workdir: Path,
    credentials: tuple[str, str] | None = None,
    token_auth: bool = False,
) -> Iterator[RegistryServer]:
    """Start a registry on a free port of 127.0.0.1. With `credentials` it asks for them: by basic
    auth, or with `token_auth` by bearer tokens from a TokenServer (`server.tokens`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    htpasswd, tokens = None, None
    if credentials is not None and token_auth:
        tokens = TokenServer(credentials[0], credentials[1], workdir / "tokens")
    elif credentials is not None:
        user, password = credentials
        # The registry accepts bcrypt entries only; 4 rounds keeps the test fast.
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
        htpasswd = workdir / "htpasswd"
        htpasswd.write_text(f"{user}:{hashed}\n")
    port = free_port()
    config_path = workdir / "config.yml"
    config_path.write_text(_config(workdir, port, htpasswd, tokens))
    # The registry exports traces over OTLP unless told not to; nothing listens for them here.
    env = {**os.environ, "OTEL_TRACES_EXPORTER": "none"}
    process = ManagedProcess(
        name=f"registry-{port}",
        argv=[str(binaries.registry), "serve", str(config_path)],
        log_path=workdir / "registry.log",
        env=env,
    )
    process.start()
    server = RegistryServer(
        host=f"127.0.0.1:{port}",
        process=process,
        username=credentials[0] if credentials else None,
        password=credentials[1] if credentials else None,
        tokens=tokens,
    )
    try:
        wait_until(lambda: _answers(server), timeout=30, what=f"the registry on {server.host}")
        yield server
    finally:
        process.stop()
        if tokens is not None:
            tokens.close()


def _answers(server: RegistryServer) -> bool:
    if not server.process.running():
        raise StopWaitingError(f"the registry exited:\n{server.process.log_tail()}")
    try:
        with urllib.request.urlopen(f"{server.url}/v2/", timeout=2):  # noqa: S310 - our own 127.0.0.1 URL
            return True
    except urllib.error.HTTPError as error:
        return error.code == 401  # up, and asking for credentials
    except OSError:
        return False


SCRATCH_REPOSITORY = "scratch/build"
"""Where images are assembled before they get their tag (never matches an `org/aim-*` filter)."""


class Crane:
    """crane against one test registry (plain HTTP, so always `--insecure`)."""

    def __init__(self, binary: Path, server: RegistryServer, workdir: Path):
        self.binary = binary
        self.server = server
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        # crane reads credentials from $DOCKER_CONFIG/config.json; each registry gets its own.
        self.env = {**os.environ, "DOCKER_CONFIG": str(workdir / "docker")}
        self.layer = self._tiny_layer()
        if server.username and server.password:
            self.run("auth", "login", server.host, "-u", server.username, "--password-stdin", stdin=server.password)

    def _tiny_layer(self) -> Path:
        path = self.workdir / "layer.tar"
        content = self.workdir / "hello.txt"
        content.write_text("an AIM Engine test image\n")
        with tarfile.open(path, "w") as tar:
            tar.add(content, arcname="hello.txt")
        return path

    def run(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [str(self.binary), *args, "--insecure"],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"crane {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result.stdout.strip()

    def ref(self, repository: str, tag: str) -> str:
        return f"{self.server.host}/{repository}:{tag}"

    def push_image(
        self,
        repository: str,
        tag: str,
        labels: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        platform: str = "linux/amd64",
    ) -> str:
        """Push `repository:tag` (one tiny layer) with these config labels and env; returns the
        pushed manifest's digest."""
        reference = self.ref(repository, tag)
        # Built in a scratch repository and mutated into the real tag, so the tag never names an
        # image without its labels (a controller polling the registry could read it in between),
        # and the repository's tag list holds only real tags.
        scratch = self.ref(SCRATCH_REPOSITORY, "unlabelled")
        self.run("append", "-f", str(self.layer), "-t", scratch)
        mutate = ["mutate", scratch, "-t", reference, "--set-platform", platform]
        for key, value in (labels or {}).items():
            mutate += ["--label", f"{key}={value}"]
        for key, value in (env or {}).items():
            mutate += ["--env", f"{key}={value}"]
        self.run(*mutate)
        return self.digest(reference)

    def push_index(
        self,
        repository: str,
        tag: str,
        platforms: Mapping[str, Mapping[str, str]],
        docker_media_types: bool = False,
    ) -> str:
        """Push a multi-platform image `repository:tag`, one image per platform ("os/arch" → its
        labels), as an OCI index (or a Docker manifest list); returns the index's digest."""
        manifests: list[str] = []
        for index, (platform, labels) in enumerate(platforms.items()):
            part_tag = f"{tag}-part{index}"
            digest = self.push_image(repository, part_tag, labels=labels, platform=platform)
            manifests += ["-m", f"{self.server.host}/{repository}@{digest}"]
        reference = self.ref(repository, tag)
        base = ["--docker-empty-base"] if docker_media_types else []
        self.run("index", "append", *base, *manifests, "-t", reference)
        return self.digest(reference)

    def digest(self, reference: str) -> str:
        return self.run("digest", reference)

    def tag(self, reference: str, *tags: str) -> None:
        for tag in tags:
            self.run("tag", reference, tag)


def push_images(crane: Crane, repository: str, tags: Sequence[str], labels: Mapping[str, str] | None = None) -> None:
    """Many tags of one image: pushed once, tagged again (cheaper than a push per tag)."""
    first, *rest = tags
    crane.push_image(repository, first, labels=labels)
    crane.tag(crane.ref(repository, first), *rest)

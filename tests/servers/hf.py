"""A Hugging Face Hub look-alike serving repositories from a directory (`<root>/<org>/<name>/...`),
implementing what huggingface_hub 2.4's `snapshot_download`, `model_info` and `list_repo_tree`
use through HF_ENDPOINT:

* `GET /api/models/{repo}[/revision/{rev}]`: model info with siblings (sizes with `blobs=true`);
* `GET /api/models/{repo}/tree/{rev}[/{path}]?recursive=true`: the file list with sizes;
* `HEAD|GET /{repo}/resolve/{rev}/{path}`: the file, with X-Repo-Commit, ETag (sha256 of the
  content, as the Hub gives LFS files), Content-Length, Accept-Ranges, and single Range requests.

Errors as the Hub gives them: 401 with `X-Error-Code: RepoNotFound` for unknown or private
repositories asked anonymously, 404 with the same code when authenticated, 401 with
`X-Error-Message: Invalid credentials in Authorization header` for a wrong token, 404 with
`RevisionNotFound`/`EntryNotFound`. No Xet: no `X-Xet-Hash` headers nor `xetHash` fields, which is
what the Hub sends for repositories stored in Git LFS.

`python -m tests.servers.hf --root DIR [--host ADDRESS] --port N [--token T] [--private org/name ...]`
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from tests.servers.faults import FaultState, Pacer, Rule

CHUNK = 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class RepoFile:
    path: str
    size: int
    sha256: str
    blob_id: str


@dataclass(frozen=True)
class Repo:
    repo_id: str
    root: Path
    commit: str
    files: dict[str, RepoFile]
    private: bool


def _scan(root: Path, repo_id: str, private: bool) -> Repo:
    directory = root / repo_id
    files: dict[str, RepoFile] = {}
    commit = hashlib.sha1(usedforsecurity=False)
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        sha256, blob = hashlib.sha256(), hashlib.sha1(usedforsecurity=False)
        size = path.stat().st_size
        blob.update(f"blob {size}\0".encode())
        with path.open("rb") as file:
            for chunk in iter(lambda file=file: file.read(CHUNK), b""):  # type: ignore[misc]
                sha256.update(chunk)
                blob.update(chunk)
        files[relative] = RepoFile(relative, size, sha256.hexdigest(), blob.hexdigest())
        commit.update(f"{relative}:{sha256.hexdigest()}\n".encode())
    return Repo(repo_id, directory, commit.hexdigest(), files, private)


def _error(status: int, code: str | None = None, message: str | None = None) -> Response:
    headers = {}
    if code:
        headers["X-Error-Code"] = code
    if message:
        headers["X-Error-Message"] = message
    return JSONResponse({"error": message or code or "error"}, status_code=status, headers=headers)


def create_app(root: Path, tokens: set[str], private: set[str]) -> FastAPI:
    app = FastAPI()
    faults = FaultState()
    cache: dict[str, Repo] = {}

    def repo_or_error(request: Request, repo_id: str, revision: str | None) -> Repo | Response:
        authorization = request.headers.get("authorization", "")
        token = authorization.removeprefix("Bearer ").strip() if authorization.startswith("Bearer ") else None
        if token is not None and token not in tokens:
            return _error(401, message="Invalid credentials in Authorization header")
        authenticated = token is not None
        if not (root / repo_id).is_dir() or (repo_id in private and not authenticated):
            return _error(404 if authenticated else 401, "RepoNotFound", "Repository not found")
        repo = cache.get(repo_id) or _scan(root, repo_id, repo_id in private)
        cache[repo_id] = repo
        if revision not in (None, "main", repo.commit):
            return _error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return repo

    # -- admin

    @app.put("/_test/faults")
    async def set_faults(rules: list[Rule]) -> dict[str, int]:
        faults.set_rules(rules)
        return {"rules": len(rules)}

    @app.get("/_test/requests")
    async def requests_log() -> list[dict[str, object]]:
        return faults.snapshot()

    @app.post("/_test/reset")
    async def reset() -> dict[str, str]:
        faults.reset()
        cache.clear()
        return {"status": "ok"}

    @app.get("/_test/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    # -- API

    def model_info(repo: Repo, blobs: bool) -> dict[str, Any]:
        siblings = []
        for f in repo.files.values():
            sibling: dict[str, Any] = {"rfilename": f.path}
            if blobs:
                sibling.update(
                    size=f.size, blobId=f.blob_id, lfs={"sha256": f.sha256, "size": f.size, "pointerSize": 134}
                )
            siblings.append(sibling)
        return {
            "_id": repo.commit[:24],
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "sha": repo.commit,
            "private": repo.private,
            "disabled": False,
            "gated": False,
            "tags": [],
            "downloads": 0,
            "likes": 0,
            "siblings": siblings,
            "usedStorage": sum(f.size for f in repo.files.values()),
        }

    @app.get("/api/models/{org}/{name}")
    async def info(org: str, name: str, request: Request, blobs: bool = False) -> Response:
        repo = repo_or_error(request, f"{org}/{name}", None)
        return repo if isinstance(repo, Response) else JSONResponse(model_info(repo, blobs))

    @app.get("/api/models/{org}/{name}/revision/{revision}")
    async def info_at(org: str, name: str, revision: str, request: Request, blobs: bool = False) -> Response:
        repo = repo_or_error(request, f"{org}/{name}", revision)
        return repo if isinstance(repo, Response) else JSONResponse(model_info(repo, blobs))

    @app.get("/api/models/{org}/{name}/tree/{revision}")
    @app.get("/api/models/{org}/{name}/tree/{revision}/{path:path}")
    async def tree(org: str, name: str, revision: str, request: Request, path: str = "") -> Response:
        repo = repo_or_error(request, f"{org}/{name}", revision)
        if isinstance(repo, Response):
            return repo
        prefix = f"{path.strip('/')}/" if path.strip("/") else ""
        entries = [
            {
                "type": "file",
                "oid": f.blob_id,
                "size": f.size,
                "path": f.path,
                "lfs": {"oid": f.sha256, "size": f.size, "pointerSize": 134},
            }
            for f in repo.files.values()
            if f.path.startswith(prefix)
        ]
        return JSONResponse(entries)

    # -- files

    @app.api_route("/{org}/{name}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"])
    async def resolve(org: str, name: str, revision: str, path: str, request: Request) -> Response:
        repo = repo_or_error(request, f"{org}/{name}", revision)
        if isinstance(repo, Response):
            return repo
        entry = repo.files.get(path)
        headers = {"X-Repo-Commit": repo.commit}
        if entry is None:
            return _error(404, "EntryNotFound", f"{path} does not exist on {revision}")
        record, rule = faults.begin(
            request.method, request.url.path, request.headers.get("user-agent", ""), request.headers.get("range")
        )
        if rule is not None and rule.action == "fail":
            record.status = rule.status
            return _error(rule.status, message="injected failure")
        headers.update(
            {"ETag": f'"{entry.sha256}"', "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        )
        start, end, status = 0, entry.size - 1, 200
        if request.headers.get("range"):
            match = _RANGE.match(request.headers["range"].strip())
            if match and (match[1] or match[2]):
                if match[1]:
                    start = int(match[1])
                    end = min(int(match[2]), entry.size - 1) if match[2] else entry.size - 1
                else:
                    start = max(0, entry.size - int(match[2]))
                if start >= entry.size:
                    record.status = 416
                    return Response(status_code=416, headers={"Content-Range": f"bytes */{entry.size}", **headers})
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{entry.size}"
        length = max(0, end - start + 1)
        headers["Content-Length"] = str(length)
        record.status = status
        if request.method == "HEAD":
            return Response(status_code=status, headers=headers)
        return StreamingResponse(_stream(repo.root / path, start, length, record, Pacer(rule)), status, headers)

    return app


async def _stream(path: Path, start: int, length: int, record: Any, pacer: Pacer) -> Any:
    fd = os.open(path, os.O_RDONLY)
    try:
        offset, remaining = start, length
        while remaining > 0:
            size = pacer.allowance(min(CHUNK, remaining))
            if size == 0:
                await asyncio.sleep(3600)  # stalled: the client gives up first
                continue
            chunk = os.pread(fd, size, offset)
            if not chunk:
                break
            yield chunk
            offset += len(chunk)
            remaining -= len(chunk)
            record.bytes_sent += len(chunk)
            delay = pacer.delay(len(chunk))
            if delay:
                await asyncio.sleep(delay)
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", action="append", default=[])
    parser.add_argument("--private", action="append", default=[])
    args = parser.parse_args(argv)
    app = create_app(args.root, set(args.token), set(args.private))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", loop="uvloop", http="httptools")


if __name__ == "__main__":
    main()

"""Source URIs (pure): `hf://org/name[@revision]` and `s3://bucket[/prefix]`, and which S3 keys
under a prefix land where in the target directory."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

# Hub repo ids: one namespace and one name, letters, digits, '-', '_', '.' (no '--' or '..').
_REPO_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
_HF_RE = re.compile(rf"^hf://(?P<repo>{_REPO_PART}/{_REPO_PART})(?:@(?P<revision>[^\s@]+))?/?$")
# Bucket names as S3 allows them (3-63 characters, lower case, digits, dots, hyphens).
_S3_RE = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?$")


class SourceError(ValueError):
    """The URI is not one `aim-download` understands (a usage error)."""


@dataclass(frozen=True)
class HfSource:
    repo_id: str
    revision: str | None

    @property
    def kind(self) -> str:
        return "hf"

    @property
    def uri(self) -> str:
        return f"hf://{self.repo_id}" + (f"@{self.revision}" if self.revision else "")


@dataclass(frozen=True)
class S3Source:
    bucket: str
    prefix: str
    """Key prefix without leading or trailing '/'; empty for the whole bucket."""

    @property
    def kind(self) -> str:
        return "s3"

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    @property
    def directory_prefix(self) -> str:
        return f"{self.prefix}/" if self.prefix else ""


Source = HfSource | S3Source


def parse_source_uri(uri: str) -> Source:
    if uri.startswith("hf://"):
        match = _HF_RE.match(uri)
        if not match or "--" in match["repo"] or ".." in match["repo"]:
            raise SourceError(f"invalid Hugging Face URI {uri!r}: expected hf://org/name[@revision]")
        return HfSource(match["repo"], match["revision"])
    if uri.startswith("s3://"):
        match = _S3_RE.match(uri)
        if not match or ".." in match["bucket"]:
            raise SourceError(f"invalid S3 URI {uri!r}: expected s3://bucket[/prefix]")
        prefix = (match["prefix"] or "").strip("/")
        if any(part in {".", ".."} for part in prefix.split("/")):
            raise SourceError(f"invalid S3 URI {uri!r}: '.' and '..' are not allowed in the prefix")
        return S3Source(match["bucket"], prefix)
    raise SourceError(f"unknown protocol in {uri!r}: the URI must start with hf:// or s3://")


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int
    etag: str

    @property
    def is_directory_marker(self) -> bool:
        return self.key.endswith("/") and self.size == 0


@dataclass(frozen=True)
class PlannedObject:
    key: str
    relative_path: str
    size: int
    etag: str


def plan_s3_objects(source: S3Source, listing: list[S3Object]) -> list[PlannedObject]:
    """Keys under the prefix keep their path relative to it; a prefix naming one object lands as
    its file name. Keys that share the prefix only as a string (`models/a` vs `models/ab/x`) and
    keys that would escape the target directory are left out."""
    planned: list[PlannedObject] = []
    for obj in listing:
        if obj.is_directory_marker:
            continue
        if source.prefix and obj.key == source.prefix:
            relative = PurePosixPath(obj.key).name
        elif obj.key.startswith(source.directory_prefix):
            relative = obj.key[len(source.directory_prefix) :]
        else:
            continue
        parts = [p for p in relative.split("/") if p]
        if not parts or any(p in {".", ".."} for p in parts):
            continue
        planned.append(PlannedObject(obj.key, "/".join(parts), obj.size, obj.etag))
    return sorted(planned, key=lambda p: p.relative_path)

"""S3 I/O: the size of a prefix and the download of every object under it.

Bytes move as boto3's TransferManager moves them (ranged GETs of `multipart_chunksize` bytes,
`max_concurrency` at once, the defaults of boto3's TransferConfig), but with our own loop over
the parts instead of TransferManager itself: TransferManager writes to a randomly named
temporary file and has no way to fetch only the parts a killed process did not finish, so it
cannot resume. Ours writes each part in place (`pwrite`) into `.cache/s3/<path>.incomplete` and
journals it (see `downloader.parts`); a new process reads the journal and fetches the rest.
Every ranged GET carries `If-Match: <ETag>`, so parts from two versions of an object never mix.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.exceptions import ResponseStreamingError
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential
from urllib3.exceptions import HTTPError as Urllib3HTTPError

from downloader.disk import METADATA_DIR
from downloader.failures import NothingToDownloadError
from downloader.filters import DownloadFilter, select_files
from downloader.parts import Part, completed_parts, journal_header, split_parts
from downloader.source import PlannedObject, S3Object, S3Source, plan_s3_objects

logger = logging.getLogger("downloader.s3")

READ_BYTES = 1024 * 1024
_DEFAULTS = TransferConfig()
DEFAULT_PART_SIZE: int = _DEFAULTS.multipart_chunksize
DEFAULT_CONCURRENCY: int = _DEFAULTS.max_concurrency


@dataclass(frozen=True)
class S3Settings:
    endpoint_url: str | None
    region: str | None
    access_key_id: str | None
    secret_access_key: str | None
    session_token: str | None
    part_size: int = DEFAULT_PART_SIZE
    concurrency: int = DEFAULT_CONCURRENCY


def make_client(settings: S3Settings) -> Any:
    session = boto3.session.Session(
        aws_access_key_id=settings.access_key_id,
        aws_secret_access_key=settings.secret_access_key,
        aws_session_token=settings.session_token,
        region_name=settings.region or "us-east-1",
    )
    options: dict[str, Any] = {
        "max_pool_connections": settings.concurrency + 2,
        "retries": {"max_attempts": 5, "mode": "standard"},
    }
    if settings.endpoint_url:
        # S3-compatible stores (MinIO, Ceph, moto) want path-style requests.
        options["s3"] = {"addressing_style": "path"}
    if session.get_credentials() is None:
        options["signature_version"] = UNSIGNED  # public buckets
    return session.client("s3", endpoint_url=settings.endpoint_url, config=Config(**options))


def list_objects(client: Any, source: S3Source, download_filter: DownloadFilter) -> list[PlannedObject]:
    """The objects under the prefix the filter selects (by their path relative to the prefix): the
    one list both the size check and the download use."""
    listing: list[S3Object] = []
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=source.bucket, Prefix=source.prefix):
        for item in page.get("Contents", []):
            listing.append(S3Object(item["Key"], int(item["Size"]), str(item.get("ETag", "")).strip('"')))
    planned = plan_s3_objects(source, listing)
    if not planned:
        raise NothingToDownloadError(f"no objects under s3://{source.bucket}/{source.prefix}")
    return select_files(download_filter, source.uri, planned, lambda obj: obj.relative_path)


def prefix_size(client: Any, source: S3Source, download_filter: DownloadFilter) -> int:
    return sum(obj.size for obj in list_objects(client, source, download_filter))


# -- download -------------------------------------------------------------------------------------


def _s3_metadata_dir(target: Path) -> Path:
    return target / METADATA_DIR / "s3"


@dataclass
class _ObjectDownload:
    obj: PlannedObject
    destination: Path
    partial: Path
    journal: Path
    etag_file: Path
    parts: list[Part]
    fd: int = -1
    remaining: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, part_size: int) -> list[Part]:
        """Open the partial file and return the parts still to fetch."""
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        journal_text = self.journal.read_text() if self.journal.exists() else None
        done = completed_parts(journal_text, self.obj.etag, self.obj.size, part_size)
        if done is None or not self.partial.exists():
            done = frozenset()
            self.partial.unlink(missing_ok=True)
            self.journal.write_text(journal_header(self.obj.etag, self.obj.size, part_size) + "\n")
        elif done:
            logger.info(
                "Resumed partial object key=%s parts_done=%d parts=%d", self.obj.key, len(done), len(self.parts)
            )
        self.fd = os.open(self.partial, os.O_RDWR | os.O_CREAT, 0o644)
        todo = [p for p in self.parts if p.index not in done]
        self.remaining = len(todo)
        return todo

    def part_done(self, part: Part) -> bool:
        """Journal the part; True when it was the object's last."""
        with self.lock:
            with self.journal.open("a") as journal:
                journal.write(f"{part.index}\n")
            self.remaining -= 1
            return self.remaining == 0

    def finish(self) -> None:
        os.close(self.fd)
        self.fd = -1
        self.destination.parent.mkdir(parents=True, exist_ok=True)
        self.partial.replace(self.destination)
        self.etag_file.parent.mkdir(parents=True, exist_ok=True)
        self.etag_file.write_text(self.obj.etag)
        self.journal.unlink(missing_ok=True)
        logger.info("Downloaded object key=%s bytes=%d", self.obj.key, self.obj.size)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _already_downloaded(obj: PlannedObject, destination: Path, etag_file: Path) -> bool:
    try:
        return destination.stat().st_size == obj.size and etag_file.read_text() == obj.etag
    except OSError:
        return False


_STREAM_ERRORS = (BotocoreConnectionError, ResponseStreamingError, Urllib3HTTPError, ConnectionError, TimeoutError)


@retry(
    retry=retry_if_exception_type(_STREAM_ERRORS),
    stop=stop_after_attempt(4),
    wait=wait_exponential(multiplier=0.5, max=8),
    reraise=True,
)
def _fetch_part(client: Any, bucket: str, download: _ObjectDownload, part: Part) -> None:
    """One ranged GET, written where it belongs. botocore retries failed requests; this retries
    a body that broke off mid-stream, which botocore does not."""
    response = client.get_object(
        Bucket=bucket, Key=download.obj.key, Range=part.range_header, IfMatch=download.obj.etag
    )
    body = response["Body"]
    offset = part.start
    try:
        for chunk in iter(lambda: body.read(READ_BYTES), b""):
            os.pwrite(download.fd, chunk, offset)
            offset += len(chunk)
    finally:
        body.close()
    if offset != part.end + 1:
        raise ResponseStreamingError(error=f"part {part.index} of {download.obj.key} ended at {offset}")


def download_prefix(
    client: Any, source: S3Source, target: Path, settings: S3Settings, download_filter: DownloadFilter
) -> None:
    objects = list_objects(client, source, download_filter)
    logger.info("Listed objects bucket=%s prefix=%s objects=%d", source.bucket, source.prefix, len(objects))
    metadata = _s3_metadata_dir(target)
    downloads: list[_ObjectDownload] = []
    for obj in objects:
        destination = target / obj.relative_path
        etag_file = metadata / f"{obj.relative_path}.etag"
        if _already_downloaded(obj, destination, etag_file):
            continue
        downloads.append(
            _ObjectDownload(
                obj=obj,
                destination=destination,
                partial=metadata / f"{obj.relative_path}.incomplete",
                journal=metadata / f"{obj.relative_path}.incomplete.parts",
                etag_file=etag_file,
                parts=split_parts(obj.size, settings.part_size),
            )
        )
    try:
        with ThreadPoolExecutor(settings.concurrency, thread_name_prefix="part") as pool:
            futures: list[Future[None]] = []
            for download in downloads:
                todo = download.open(settings.part_size)
                if not todo:
                    download.finish()
                    continue
                futures.extend(pool.submit(_run_part, client, source.bucket, download, part) for part in todo)
            finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in finished:
                if future.exception() is not None:
                    for pending in futures:
                        pending.cancel()
                    future.result()
    finally:
        for download in downloads:
            download.close()


def _run_part(client: Any, bucket: str, download: _ObjectDownload, part: Part) -> None:
    _fetch_part(client, bucket, download, part)
    if download.part_done(part):
        download.finish()

"""Hugging Face Hub I/O: the size of a repository and the three download protocols. Runs in the
worker process (one attempt, one protocol); huggingface_hub reads HF_HUB_DISABLE_XET and
HF_ENDPOINT when it is imported, so the worker's environment is set before this module is.

XET is huggingface_hub's own `snapshot_download` (hf_xet for files the Hub stores in Xet, its
HTTP path for the others). HF_TRANSFER and HTTP share one file plan built from huggingface_hub's
public calls (repo_info → commit, list_repo_tree → files, get_hf_file_metadata → ETag, size and
location, build_hf_headers → auth) and write the same local-dir layout as snapshot_download
(files in place, `.cache/huggingface/download/*.metadata`), so a later run with any protocol
recognises finished files. They differ only in how bytes move:

* HTTP: one streaming GET per file (downloader.http_get, the standard library's http.client
  reading into one reused buffer), appending to a stable `<hash>.<etag>.incomplete` file and
  asking for `Range: bytes=<its size>-`, so a killed or stalled attempt resumes where it
  stopped. huggingface_hub 2.x's own `hf_hub_download` downloads into a fresh, uniquely named
  file each time and deletes it on failure (no resume), and its `http_get` (httpx2) moved about
  a quarter of curl's bytes per second on loopback in our benchmark, CPU-bound in the client.
* HF_TRANSFER: `hf_transfer.download`, parallel ranged GETs into a sparse file. huggingface_hub
  >= 1.0 no longer calls hf_transfer (HF_HUB_ENABLE_HF_TRANSFER only warns), so we call it.
  Its partial file has a name of its own, because its content is not a prefix and must never
  be taken for an HTTP partial.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import hf_transfer
from huggingface_hub import HfApi, constants, get_hf_file_metadata, hf_hub_url, snapshot_download
from huggingface_hub._local_folder import (  # no public API for the local-dir layout; pinned version
    get_local_download_paths,
    read_download_metadata,
    write_download_metadata,
)
from huggingface_hub.hf_api import RepoFile
from huggingface_hub.utils._headers import build_hf_headers
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from downloader import http_get
from downloader.failures import HttpStatusError
from downloader.filters import DownloadFilter, select_files
from downloader.logs import adopt_hub_logging
from downloader.protocols import Protocol
from downloader.source import HfSource

logger = logging.getLogger("downloader.hub")
adopt_hub_logging()

FILE_WORKERS = 8
"""Files in flight at once (snapshot_download's default)."""
HF_TRANSFER_CONNECTIONS = 8
"""hf_transfer holds chunks in memory per connection: 8 x 8 MiB keeps the worker under ~200 MB (its
old default in huggingface_hub, 100 connections x 10 MiB, is a gigabyte)."""
HF_TRANSFER_CHUNK_BYTES = 8 * 1024 * 1024
HF_TRANSFER_RETRIES = 3
HTTP_CHUNK_BYTES = 1024 * 1024
"""Bytes per write. huggingface_hub buffers 10 MiB per write by default (XET's HTTP path): on a
slow link that is minutes without visible progress (a false stall)."""

Transfer = Callable[[str, dict[str, str], Path, "int | None"], None]


@dataclass(frozen=True)
class HubClient:
    endpoint: str | None
    token: str | None
    user_agent: dict[str, str]

    def api(self) -> HfApi:
        return HfApi(endpoint=self.endpoint, token=self.token or False, user_agent=self.user_agent)


def repository_size(client: HubClient, source: HfSource, download_filter: DownloadFilter) -> int:
    """Sum of the sizes the Hub reports for the files of the revision the filter selects."""
    info = client.api().model_info(source.repo_id, revision=source.revision, files_metadata=True)
    siblings = select_files(download_filter, source.uri, info.siblings or [], lambda s: s.rfilename)
    return sum(sibling.size or 0 for sibling in siblings)


def smaller_http_chunks() -> None:
    constants.DOWNLOAD_CHUNK_SIZE = HTTP_CHUNK_BYTES


def download_snapshot(client: HubClient, source: HfSource, target: Path, download_filter: DownloadFilter) -> None:
    """XET: huggingface_hub end to end, selecting files with the same patterns (its matcher is
    the one `downloader.filters` mirrors)."""
    smaller_http_chunks()
    if download_filter.active:
        # snapshot_download succeeds with no file selected: find out first, to fail as the other protocols do.
        info = client.api().model_info(source.repo_id, revision=source.revision)
        select_files(download_filter, source.uri, info.siblings or [], lambda s: s.rfilename)
    snapshot_download(
        source.repo_id,
        revision=source.revision,
        local_dir=target,
        endpoint=client.endpoint,
        token=client.token or False,
        user_agent=client.user_agent,
        max_workers=FILE_WORKERS,
        allow_patterns=download_filter.allow_patterns,
        ignore_patterns=download_filter.ignore_patterns,
    )


def download_files(
    client: HubClient, source: HfSource, target: Path, protocol: Protocol, download_filter: DownloadFilter
) -> None:
    """HF_TRANSFER or HTTP over the files of the revision the filter selects."""
    transfer: Transfer = transfer_http if protocol is Protocol.HTTP else transfer_hf_transfer
    api = client.api()
    commit = api.repo_info(source.repo_id, revision=source.revision).sha
    if commit is None:
        raise RuntimeError(f"the Hub gave no commit for {source.repo_id}")
    files = [
        entry
        for entry in api.list_repo_tree(source.repo_id, recursive=True, revision=commit)
        if isinstance(entry, RepoFile)
    ]
    logger.info("Listed repository files repo=%s commit=%s files=%d", source.repo_id, commit, len(files))
    files = select_files(download_filter, source.uri, files, lambda f: f.path)
    with ThreadPoolExecutor(FILE_WORKERS, thread_name_prefix="file") as pool:
        futures = [pool.submit(_download_file, client, source, target, commit, f.path, transfer) for f in files]
        for future in futures:
            future.result()


def _download_file(
    client: HubClient, source: HfSource, target: Path, commit: str, filename: str, transfer: Transfer
) -> None:
    paths = get_local_download_paths(target, filename)
    local = read_download_metadata(target, filename)
    if paths.file_path.is_file() and local is not None and local.commit_hash == commit:
        return
    url = hf_hub_url(source.repo_id, filename, revision=commit, endpoint=client.endpoint)
    metadata = get_hf_file_metadata(url, token=client.token or False, user_agent=client.user_agent)
    if metadata.etag is None:
        raise RuntimeError(f"the Hub gave no ETag for {filename}")
    if paths.file_path.is_file() and local is not None and local.etag == metadata.etag:
        write_download_metadata(target, filename, commit, metadata.etag)
        return
    headers = build_hf_headers(token=client.token or False, user_agent=client.user_agent)
    location = metadata.location or url
    if urlparse(location).netloc != urlparse(url).netloc:
        headers.pop("authorization", None)  # a signed CDN URL: the token stays with the Hub
    partial = paths.incomplete_path(metadata.etag)
    if transfer is transfer_hf_transfer:
        partial = partial.with_name(partial.name.removesuffix(".incomplete") + ".hf_transfer.incomplete")
    transfer(location, headers, partial, metadata.size)
    partial.replace(paths.file_path)
    write_download_metadata(target, filename, commit, metadata.etag)
    logger.info("Downloaded file path=%s bytes=%s", filename, metadata.size)


@retry(
    retry=retry_if_exception_type(http_get.RETRYABLE_ERRORS),
    stop=stop_after_attempt(5),
    wait=wait_exponential(multiplier=0.5, max=8),
    reraise=True,
)
def transfer_http(url: str, headers: dict[str, str], partial: Path, size: int | None) -> None:
    """One streaming GET appended to the partial file, from where it ends (`Range: bytes=N-`).
    A broken stream is retried from the new end; a new process does the same."""
    partial.parent.mkdir(parents=True, exist_ok=True)
    with partial.open("ab", buffering=0) as file:
        resume = file.tell()
        if size is not None and resume >= size:
            if resume == size:
                return
            file.truncate(0)
            resume = 0
        request_headers = {**headers, "Accept-Encoding": "identity"}
        if resume:
            request_headers["Range"] = f"bytes={resume}-"
            logger.info("Resumed partial file path=%s offset=%d", partial.name, resume)
        with http_get.get(
            url,
            request_headers,
            connect_timeout=constants.HF_HUB_ETAG_TIMEOUT,
            read_timeout=constants.HF_HUB_DOWNLOAD_TIMEOUT,
        ) as response:
            if response.status >= 400:
                raise HttpStatusError(response.status, url)
            if resume and response.status == 200:  # the server ignored the Range: start over
                file.truncate(0)
            buffer = memoryview(bytearray(HTTP_CHUNK_BYTES))
            while count := response.readinto(buffer):
                file.write(buffer[:count])
    written = partial.stat().st_size
    if size is not None and written != size:
        raise OSError(f"{partial.name}: {written} bytes written, {size} expected")


def transfer_hf_transfer(url: str, headers: dict[str, str], partial: Path, size: int | None) -> None:
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.unlink(missing_ok=True)
    hf_transfer.download(
        url=url,
        filename=str(partial),
        max_files=HF_TRANSFER_CONNECTIONS,
        chunk_size=HF_TRANSFER_CHUNK_BYTES,
        parallel_failures=HF_TRANSFER_RETRIES,
        max_retries=HF_TRANSFER_RETRIES,
        headers=headers,
    )
    written = partial.stat().st_size if partial.exists() else 0
    if size is not None and written != size:
        raise OSError(f"hf_transfer wrote {written} bytes of {size} for {partial.name}")

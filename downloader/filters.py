"""Download filters (pure): which files of a repository or prefix are downloaded, and counted by
the size check, from AIM_HF_INCLUDE and AIM_HF_EXCLUDE (upstream's `AIMDownloadFilter`).

The matching is huggingface_hub's `filter_repo_objects`, rule for rule, because the XET protocol
hands the patterns to `snapshot_download` while every other path (the size check, HF_TRANSFER,
HTTP, S3) selects with `DownloadFilter.selects`: one file chosen by one and not the other would
make the downloaded bytes differ from the size the volume was made for. So:

* include first (when given, a path must match one of its patterns), then exclude (a path
  matching one of its patterns is dropped): exclude wins;
* `fnmatch.fnmatchcase` on the path relative to the repository or prefix, '/'-separated, where
  `*` matches '/' too (`*/*` is every file below the top level, `*.json` matches `a/b.json`);
* `\\` counts as '/', and a pattern ending in '/' gets a `*` (a whole directory).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TypeVar

from downloader.failures import NothingToDownloadError

logger = logging.getLogger("downloader")

T = TypeVar("T")


def parse_patterns(text: str) -> tuple[str, ...]:
    """A comma-separated pattern list as the controller sets it: split on ',', spaces stripped,
    empty entries dropped (so a pattern can hold neither a comma nor surrounding spaces)."""
    return tuple(pattern for pattern in (part.strip() for part in text.split(",")) if pattern)


def _normalized_pattern(pattern: str) -> str:
    pattern = pattern.replace("\\", "/")
    return pattern + "*" if pattern.endswith("/") else pattern


@dataclass(frozen=True)
class DownloadFilter:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.include or self.exclude)

    def selects(self, relative_path: str) -> bool:
        path = relative_path.replace("\\", "/")
        if self.include and not any(fnmatchcase(path, _normalized_pattern(p)) for p in self.include):
            return False
        return not any(fnmatchcase(path, _normalized_pattern(p)) for p in self.exclude)

    def select(self, items: Iterable[T], path: Callable[[T], str]) -> list[T]:
        return [item for item in items if self.selects(path(item))]

    @property
    def allow_patterns(self) -> list[str] | None:
        """For huggingface_hub: None, not [], when there is no include list ([] selects nothing)."""
        return list(self.include) or None

    @property
    def ignore_patterns(self) -> list[str] | None:
        return list(self.exclude) or None

    def describe(self) -> str:
        return f"include={_as_list(self.include)} exclude={_as_list(self.exclude)}"


def _as_list(patterns: Sequence[str]) -> str:
    return json.dumps(list(patterns))


def select_files(download_filter: DownloadFilter, uri: str, items: Sequence[T], path: Callable[[T], str]) -> list[T]:
    """The items the filter selects. With a filter that leaves nothing, a NothingToDownloadError
    (permanent: asking again selects nothing again); without a filter, every item."""
    if not download_filter.active:
        return list(items)
    selected = download_filter.select(items, path)
    logger.info("Selected files by download filter source=%s selected=%d of=%d", uri, len(selected), len(items))
    if not selected:
        raise NothingToDownloadError(
            f"No files at {uri} match the download filter"
            f" (include={_as_list(download_filter.include)}, exclude={_as_list(download_filter.exclude)})"
        )
    return selected

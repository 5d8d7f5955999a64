"""Download filters: include then exclude, fnmatch on '/'-separated relative paths, and the same
selection as huggingface_hub's own matcher (the XET protocol hands it the patterns)."""

from __future__ import annotations

import itertools

import pytest
from huggingface_hub.utils._paths import filter_repo_objects  # exported lazily, untyped from huggingface_hub.utils

from downloader.failures import NothingToDownloadError
from downloader.filters import DownloadFilter, parse_patterns, select_files

REPOSITORY = (
    "config.json",
    "model.safetensors",
    "model-00001-of-00002.safetensors",
    "README.md",
    ".gitattributes",
    "tokenizer/tokenizer.json",
    "unet/diffusion_pytorch_model.safetensors",
    "unet/config.json",
    "a/b/c/deep.bin",
    "Config.JSON",
)


@pytest.mark.parametrize(
    ("include", "exclude", "selected"),
    [
        pytest.param((), (), set(REPOSITORY), id="no-filter-selects-everything"),
        pytest.param(
            (),
            ("*/*",),
            {"config.json", "model.safetensors", "model-00001-of-00002.safetensors", "README.md", ".gitattributes"}
            | {"Config.JSON"},
            id="star-slash-star-drops-every-subdirectory",
        ),
        pytest.param(
            ("*.json",),
            (),
            {"config.json", "tokenizer/tokenizer.json", "unet/config.json"},
            id="star-crosses-slash-and-is-case-sensitive",
        ),
        pytest.param(("config.json",), (), {"config.json"}, id="plain-name-is-the-root-file-only"),
        pytest.param(("*.json",), ("*/*",), {"config.json"}, id="exclude-wins-over-include"),
        pytest.param(("*.json",), ("*.json",), set(), id="include-and-exclude-the-same"),
        pytest.param(("unet/",), (), {"unet/diffusion_pytorch_model.safetensors", "unet/config.json"}, id="dir-slash"),
        pytest.param(("unet\\",), (), {"unet/diffusion_pytorch_model.safetensors", "unet/config.json"}, id="backslash"),
        pytest.param(("model-?????-of-*",), (), {"model-00001-of-00002.safetensors"}, id="question-mark"),
        pytest.param(("[Cc]onfig.*",), ("*.JSON",), {"config.json"}, id="character-class"),
        pytest.param(("**/*.bin",), (), {"a/b/c/deep.bin"}, id="double-star-is-star"),
        pytest.param(("*.gguf",), (), set(), id="nothing-matches"),
        pytest.param((), ("*",), set(), id="exclude-everything"),
        pytest.param(
            ("*.safetensors", "*.md"),
            ("unet/*",),
            {"model.safetensors", "README.md"} | {"model-00001-of-00002.safetensors"},
            id="several-patterns",
        ),
    ],
)
def test_selects(include: tuple[str, ...], exclude: tuple[str, ...], selected: set[str]) -> None:
    download_filter = DownloadFilter(include, exclude)
    assert {path for path in REPOSITORY if download_filter.selects(path)} == selected


PATTERNS = ("*/*", "*.json", "config.json", "unet/", "unet\\*", "*.JSON", "**/*.bin", "[.]*")


def test_same_selection_as_huggingface_hub() -> None:
    """Every include list of up to two patterns with every exclude list of up to one."""
    includes = [c for n in range(3) for c in itertools.combinations(PATTERNS, n)]
    excludes = [c for n in range(2) for c in itertools.combinations(PATTERNS, n)]
    for include, exclude in itertools.product(includes, excludes):
        download_filter = DownloadFilter(include, exclude)
        hub = filter_repo_objects(
            REPOSITORY, allow_patterns=download_filter.allow_patterns, ignore_patterns=download_filter.ignore_patterns
        )
        assert [p for p in REPOSITORY if download_filter.selects(p)] == list(hub), (include, exclude)


def test_empty_lists_are_no_constraint_for_huggingface_hub() -> None:
    # An empty allow list selects nothing in huggingface_hub: it must get None.
    assert list(filter_repo_objects(REPOSITORY, allow_patterns=[])) == []
    assert DownloadFilter().allow_patterns is None
    assert DownloadFilter().ignore_patterns is None
    assert DownloadFilter(("a",), ("b",)).allow_patterns == ["a"]
    assert not DownloadFilter().active
    assert DownloadFilter(exclude=("*/*",)).active


@pytest.mark.parametrize(
    ("text", "patterns"),
    [
        pytest.param("", (), id="empty"),
        pytest.param(" ", (), id="blank"),
        pytest.param("*/*", ("*/*",), id="one"),
        pytest.param(" *.json , config.json ", ("*.json", "config.json"), id="spaces-stripped"),
        pytest.param("a,,b,", ("a", "b"), id="empty-entries-dropped"),
        pytest.param(" , ,", (), id="only-commas"),
    ],
)
def test_parse_patterns(text: str, patterns: tuple[str, ...]) -> None:
    assert parse_patterns(text) == patterns


def test_select_files_fails_clearly_when_nothing_is_left() -> None:
    download_filter = DownloadFilter(("*.gguf",), ("*/*",))
    with pytest.raises(NothingToDownloadError) as raised:
        select_files(download_filter, "hf://acme/tiny", list(REPOSITORY), str)
    assert str(raised.value) == (
        'No files at hf://acme/tiny match the download filter (include=["*.gguf"], exclude=["*/*"])'
    )


def test_select_files_without_a_filter_keeps_everything_even_nothing() -> None:
    assert select_files(DownloadFilter(), "s3://b/p", [], str) == []
    assert select_files(DownloadFilter(), "s3://b/p", list(REPOSITORY), str) == list(REPOSITORY)


def test_describe() -> None:
    assert DownloadFilter(("*.json",), ()).describe() == 'include=["*.json"] exclude=[]'

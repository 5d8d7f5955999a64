"""Source URIs and where S3 keys land."""

from __future__ import annotations

import pytest

from downloader.source import (
    HfSource,
    S3Object,
    S3Source,
    SourceError,
    parse_source_uri,
    plan_s3_objects,
)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        pytest.param("hf://Qwen/Qwen3-32B", HfSource("Qwen/Qwen3-32B", None), id="hf"),
        pytest.param("hf://org/name@v1.0", HfSource("org/name", "v1.0"), id="hf-tag"),
        pytest.param("hf://org/name@" + "a" * 40, HfSource("org/name", "a" * 40), id="hf-commit"),
        pytest.param("hf://org/name@refs/pr/1", HfSource("org/name", "refs/pr/1"), id="hf-pr-ref"),
        pytest.param("hf://org/my_model.v2", HfSource("org/my_model.v2", None), id="hf-dots-underscores"),
        pytest.param("s3://bucket/models/llama", S3Source("bucket", "models/llama"), id="s3"),
        pytest.param("s3://bucket/models/llama/", S3Source("bucket", "models/llama"), id="s3-trailing-slash"),
        pytest.param("s3://bucket", S3Source("bucket", ""), id="s3-whole-bucket"),
        pytest.param("s3://my.bucket-1/x", S3Source("my.bucket-1", "x"), id="s3-dotted-bucket"),
    ],
)
def test_valid_uris(uri: str, expected: object) -> None:
    assert parse_source_uri(uri) == expected


@pytest.mark.parametrize(
    ("uri", "canonical"),
    [
        pytest.param("hf://org/name", "hf://org/name", id="hf"),
        pytest.param("hf://org/name@v1", "hf://org/name@v1", id="hf-revision"),
        pytest.param("s3://bucket/models/llama/", "s3://bucket/models/llama", id="s3"),
        pytest.param("s3://bucket", "s3://bucket", id="s3-whole-bucket"),
    ],
)
def test_uri_names_the_source_in_messages(uri: str, canonical: str) -> None:
    assert parse_source_uri(uri).uri == canonical


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        pytest.param("https://huggingface.co/org/name", "must start with hf:// or s3://", id="https"),
        pytest.param("gs://bucket/x", "must start with hf:// or s3://", id="gcs"),
        pytest.param("", "must start with hf:// or s3://", id="empty"),
        pytest.param("hf://name-only", "expected hf://org/name", id="hf-no-org"),
        pytest.param("hf://a/b/c", "expected hf://org/name", id="hf-three-parts"),
        pytest.param("hf://org/na--me", "expected hf://org/name", id="hf-double-dash"),
        pytest.param("hf://org/name@", "expected hf://org/name", id="hf-empty-revision"),
        pytest.param("hf://org/-name", "expected hf://org/name", id="hf-leading-dash"),
        pytest.param("s3://Bucket/x", "expected s3://bucket", id="s3-upper-case"),
        pytest.param("s3://ab/x", "expected s3://bucket", id="s3-short-bucket"),
        pytest.param("s3://bucket/a/../b", "'..' are not allowed", id="s3-dot-dot"),
    ],
)
def test_invalid_uris(uri: str, message: str) -> None:
    with pytest.raises(SourceError, match=message.replace(".", r"\.").replace("/", "/")):
        parse_source_uri(uri)


def objects(*keys: str) -> list[S3Object]:
    return [S3Object(key, 0 if key.endswith("/") else 10, "etag") for key in keys]


@pytest.mark.parametrize(
    ("prefix", "keys", "expected"),
    [
        pytest.param(
            "models/llama",
            ["models/llama/config.json", "models/llama/weights/a.safetensors"],
            ["config.json", "weights/a.safetensors"],
            id="relative-paths-kept",
        ),
        pytest.param(
            "models/llama", ["models/llama-2/config.json", "models/llamas"], [], id="string-prefix-is-not-directory"
        ),
        pytest.param("models/llama", ["models/llama/", "models/llama/sub/"], [], id="directory-markers-skipped"),
        pytest.param("models/model.bin", ["models/model.bin"], ["model.bin"], id="prefix-naming-one-object"),
        pytest.param("", ["a.bin", "dir/b.bin"], ["a.bin", "dir/b.bin"], id="whole-bucket"),
        pytest.param("m", ["m/../escape", "m/./x", "m//y"], ["y"], id="no-escape-from-target"),
        pytest.param("m", ["m/b", "m/a"], ["a", "b"], id="sorted"),
    ],
)
def test_plan_s3_objects(prefix: str, keys: list[str], expected: list[str]) -> None:
    planned = plan_s3_objects(S3Source("bucket", prefix), objects(*keys))
    assert [p.relative_path for p in planned] == expected

"""Bytes on disk: sparse files, metadata excluded from the model size, partial-file cleanup."""

from __future__ import annotations

from pathlib import Path

from downloader.disk import downloaded_bytes, incomplete_files, model_bytes, remove_incomplete_files


def write(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def test_sparse_file_counts_what_was_written(tmp_path: Path) -> None:
    sparse = tmp_path / "weights.incomplete"
    with sparse.open("wb") as file:
        file.truncate(64 * 1024 * 1024)  # preallocated, as a parallel downloader does
        file.seek(0)
        file.write(b"y" * 8192)
    assert downloaded_bytes(tmp_path) < 1024 * 1024
    assert downloaded_bytes(tmp_path) >= 8192


def test_model_bytes_exclude_metadata(tmp_path: Path) -> None:
    write(tmp_path / "config.json", 10)
    write(tmp_path / "sub" / "model.bin", 1000)
    write(tmp_path / ".cache" / "huggingface" / "download" / "model.bin.metadata", 50)
    write(tmp_path / "sub" / ".cache" / "kept.bin", 5)  # only the top-level metadata directory is excluded
    assert model_bytes(tmp_path) == 1015
    assert downloaded_bytes(tmp_path) == 1065


def test_remove_incomplete_files(tmp_path: Path) -> None:
    download = tmp_path / ".cache" / "huggingface" / "download"
    partial = write(download / "abc.etag.incomplete", 10)
    hf_transfer = write(download / "abc.etag.hf_transfer.incomplete", 10)
    journal = write(tmp_path / ".cache" / "s3" / "m.bin.incomplete.parts", 3)
    keep = write(download / "model.bin.metadata", 3)
    model = write(tmp_path / "model.bin.incomplete", 3)  # a model file of that name is not ours to delete
    assert incomplete_files(tmp_path) == sorted([partial, hf_transfer])
    assert sorted(remove_incomplete_files(tmp_path)) == sorted([partial, hf_transfer])
    assert not partial.exists()
    assert not journal.exists()
    assert keep.exists()
    assert model.exists()


def test_missing_directory_has_nothing(tmp_path: Path) -> None:
    assert downloaded_bytes(tmp_path / "absent") == 0
    assert remove_incomplete_files(tmp_path / "absent") == []

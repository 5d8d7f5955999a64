"""The adapter disk's operations on a real directory: promote, sync, reap, and the command."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from downloader import EXIT_OK, EXIT_USAGE
from downloader.adapter_command import main
from downloader.adapters import AdapterDisk, UnsafeAdapterError, promote, reap, sync_subtree

SERVICE = "0d6c1a4e-uid"


def staged(disk: AdapterDisk, path: str = "tone", job: str = "j1", content: str = "new") -> Path:
    directory = disk.staging(SERVICE, path, job)
    directory.mkdir(parents=True)
    (directory / "adapter_config.json").write_text(content)
    (directory / ".cache").mkdir()
    (directory / ".cache" / "meta").write_text("downloader bookkeeping")
    return directory


def test_promote_renames_the_staged_copy_into_the_subtree_readable_by_others(tmp_path: Path) -> None:
    disk = AdapterDisk(tmp_path)
    staged(disk).chmod(0o700)
    live = promote(disk, SERVICE, "tone", "j1")
    assert live == tmp_path / SERVICE / "tone"
    assert (live / "adapter_config.json").read_text() == "new"
    assert not (live / ".cache").exists(), "the downloader's bookkeeping is not served"
    assert stat.S_IMODE(live.stat().st_mode) & 0o055 == 0o055
    assert not disk.staging(SERVICE, "tone", "j1").exists()


def test_promote_replaces_a_live_copy_and_leaves_nothing_aside(tmp_path: Path) -> None:
    disk = AdapterDisk(tmp_path)
    staged(disk, job="j1", content="old")
    promote(disk, SERVICE, "tone", "j1")
    staged(disk, job="j2", content="new")
    live = promote(disk, SERVICE, "tone", "j2")
    assert (live / "adapter_config.json").read_text() == "new"
    assert list((tmp_path / ".aside" / SERVICE).iterdir()) == []


def test_promote_refuses_a_symbolic_link_and_keeps_the_live_copy(tmp_path: Path) -> None:
    disk = AdapterDisk(tmp_path)
    staged(disk, job="j1", content="old")
    promote(disk, SERVICE, "tone", "j1")
    directory = staged(disk, job="j2")
    (directory / "weights").symlink_to("/etc/passwd")
    with pytest.raises(UnsafeAdapterError, match="weights is a symbolic link"):
        promote(disk, SERVICE, "tone", "j2")
    assert (tmp_path / SERVICE / "tone" / "adapter_config.json").read_text() == "old"


@pytest.mark.parametrize(
    ("service", "path"), [("..", "tone"), (SERVICE, "../escape"), (SERVICE, ".staging"), ("", "x")]
)
def test_names_that_would_leave_the_subtree_are_refused(tmp_path: Path, service: str, path: str) -> None:
    with pytest.raises(ValueError, match="not a plain directory name"):
        promote(AdapterDisk(tmp_path), service, path, "j")


@pytest.mark.parametrize(
    ("present", "keep", "removed"),
    [
        ([], set(), []),
        (["a", "b"], {"a", "b"}, []),
        (["a", "b"], {"a"}, ["b"]),
        (["a", "b"], set(), ["a", "b"]),
        (["a"], {"a", "c"}, []),
    ],
)
def test_sync_creates_the_subtree_and_prunes_what_is_no_longer_declared(
    tmp_path: Path, present: list[str], keep: set[str], removed: list[str]
) -> None:
    disk = AdapterDisk(tmp_path)
    for name in present:
        (tmp_path / SERVICE / name).mkdir(parents=True)
    (tmp_path / "other-service" / "b").mkdir(parents=True)
    assert sync_subtree(disk, SERVICE, keep) == removed
    assert sorted(p.name for p in (tmp_path / SERVICE).iterdir()) == sorted(set(present) - set(removed))
    assert (tmp_path / "other-service" / "b").is_dir(), "another service's subtree is never touched"


def test_reap_removes_old_subtrees_of_deleted_services_only(tmp_path: Path) -> None:
    disk = AdapterDisk(tmp_path)
    now = 10_000.0
    for name, age in (("live", 5000), ("gone", 5000), ("new", 10), ("lost+found", 5000)):
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (now - age, now - age))
    for area in (".staging", ".aside"):
        for name in ("live", "gone"):
            (tmp_path / area / name).mkdir(parents=True)
            os.utime(tmp_path / area / name, (now - 5000, now - 5000))
    removed = reap(disk, {"live"}, 1800, now)
    assert removed == ["gone", ".staging/gone", ".aside/gone"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".aside", ".staging", "live", "lost+found", "new"]


def test_the_command_stages_and_promotes_from_the_simulated_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADAPTER_PVC_ROOT", str(tmp_path))
    for name, value in {"SERVICE_ID": SERVICE, "ADAPTER_PATH": "tone", "JOB_ID": "tone-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AIM_DEBUG_SIMULATE_DOWNLOAD", "true")
    monkeypatch.setenv("AIM_DEBUG_DOWNLOAD_DURATION", "0")
    monkeypatch.setenv("AIM_DEBUG_VERIFY_DURATION", "0")
    monkeypatch.setenv("EXPECTED_SIZE_BYTES", "1024")
    monkeypatch.setenv("AIM_TERMINATION_LOG", str(tmp_path / "termination"))
    assert main(["stage", "hf://acme/tone"]) == EXIT_OK
    assert any((tmp_path / SERVICE / "tone").iterdir())
    assert not any((tmp_path / ".staging" / SERVICE).iterdir())


@pytest.mark.parametrize(
    ("argv", "env", "code"),
    [
        ([], {}, EXIT_USAGE),
        (["sync"], {}, EXIT_USAGE),
        (["sync"], {"SERVICE_ID": SERVICE, "KEEP_ADAPTER_PATHS": "a,b"}, EXIT_OK),
        (["reap"], {"KEEP_SERVICE_IDS": SERVICE}, EXIT_OK),
        (["stage", "hf://acme/tone"], {"SERVICE_ID": SERVICE}, EXIT_USAGE),
    ],
)
def test_command_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], env: dict[str, str], code: int
) -> None:
    monkeypatch.setenv("ADAPTER_PVC_ROOT", str(tmp_path))
    for name in ("SERVICE_ID", "ADAPTER_PATH", "JOB_ID", "KEEP_ADAPTER_PATHS", "KEEP_SERVICE_IDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == code

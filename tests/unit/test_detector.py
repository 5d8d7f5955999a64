"""The accelerator detector: fake sysfs trees and /proc/cpuinfo texts in tmp_path, feature lines
out (a table); the file written only when it changes; a failed read keeps the last file; SIGTERM
ends the process; and the labels it makes are the ones the controller's profile matching reads."""

from __future__ import annotations

import signal
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from controller.common.gpus import node_gpus
from controller.profile.plan import node_fits, profile_node_affinity
from detector.__main__ import main
from detector.features import CPU, FEATURE_FILE, cpu_model, feature_lines, parse_cpuinfo
from detector.node import DetectionError, read_snapshot, write_feature_file
from devcluster.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "feature.node.kubernetes.io/aim-accelerator."


@dataclass(frozen=True)
class Card:
    """A /sys/class/drm entry: `device` links to a PCI device directory with these files."""

    name: str
    vendor: str = "0x1002"
    device: str = "0x74a1"
    pci: str = ""
    """The PCI device directory; two cards with the same one are the same GPU. Default: per card."""
    files: dict[str, str] = field(default_factory=dict)


def mi300x(n: int, compute: str = "SPX", memory: str = "NPS1") -> list[Card]:
    files = {
        "current_compute_partition": compute,
        "current_memory_partition": memory,
        "mem_info_vram_total": str(192 * 2**30),
    }
    return [Card(f"card{i}", files=files) for i in range(n)]


def make_sysfs(root: Path, cards: list[Card], drm: bool = True) -> Path:
    (root / "class").mkdir(parents=True)
    if drm:
        (root / "class" / "drm").mkdir()
    for card in cards:
        entry = root / "class" / "drm" / card.name
        entry.mkdir()
        device = root / "devices" / "pci0000:00" / (card.pci or f"pci-{card.name}")
        if not device.exists():
            device.mkdir(parents=True)
            for name, text in {"vendor": card.vendor, "device": card.device, **card.files}.items():
                if text:
                    (device / name).write_text(text + "\n")
        (entry / "device").symlink_to(device)
    return root


def cpuinfo(vendor: str, model: str, sockets: int = 1, cores: int = 4, topology: bool = True) -> str:
    blocks = []
    for number in range(sockets * cores * 2):  # two threads per core
        lines = [f"processor\t: {number}", f"vendor_id\t: {vendor}", f"model name\t: {model}"]
        if topology:
            lines += [f"physical id\t: {number // (cores * 2)}", f"core id\t\t: {number % cores}"]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


EPYC = cpuinfo("AuthenticAMD", "AMD EPYC 9965 192-Core Processor", sockets=2, cores=192)
XEON = cpuinfo("GenuineIntel", "Intel(R) Xeon(R) Platinum 8480+")
PLATFORM = Card("card9", vendor="", pci="amdgpu_xcp.1")
"""An extra card of a partitioned GPU: its device is a platform device without `vendor`."""


def _gpu_lines(models: dict[str, int], schemes: dict[str, int], default: int | None) -> list[str]:
    total = sum(models.values())
    lines = [f"{model}={count}" for model, count in models.items()] + [f"GPU={total}", f"vendor.GPU.AMD={total}"]
    lines += [f"partitioning-scheme.{scheme}={count}" for scheme, count in schemes.items()]
    return lines + ([f"partitioning-scheme.default={default}"] if default is not None else [])


@pytest.mark.parametrize(
    ("cards", "cpu", "expected"),
    [
        (mi300x(8), EPYC, _gpu_lines({"MI300X": 8}, {"SPX-NPS1": 8}, default=8)),
        ([*mi300x(2, "CPX", "NPS4"), PLATFORM], EPYC, _gpu_lines({"MI300X": 2}, {"CPX-NPS4": 2}, default=None)),
        (
            [*mi300x(1, "CPX", "NPS1"), Card("card5", files={"current_compute_partition": "SPX"})],
            EPYC,
            _gpu_lines({"MI300X": 2}, {"CPX-NPS1": 1}, default=None),
        ),
        (
            [
                Card("card0", device="0x7448"),
                Card("card0-DP-1", device="0x7448", pci="pci-card0"),
                Card("renderD128", device="0x7448", pci="pci-card0"),
                Card("card1", device="0x7448"),
            ],
            XEON,
            _gpu_lines({"W7900": 2}, {}, default=2),
        ),
        (
            [
                Card("card0", device="0x74A1"),
                Card("card1", device="0x74a5", files={"current_compute_partition": "N/A"}),
            ],
            EPYC,
            _gpu_lines({"MI300X": 1, "MI325X": 1}, {}, default=2),
        ),
        ([Card("card0", pci="gpu"), Card("card1", pci="gpu")], EPYC, _gpu_lines({"MI300X": 1}, {}, default=1)),
        ([Card("card0", device="0x1234")], EPYC, _gpu_lines({"AMD-1234": 1}, {}, default=1)),
        (
            [Card("card0", vendor="0x10de", device="0x2330"), Card("card1", vendor="0x1a03", device="0x2000")],
            EPYC,
            ["EPYC_9965=384", "CPU=384", "vendor.CPU.AMD=384"],
        ),
        ([], XEON, []),
        ([], "", []),
    ],
    ids=[
        "mi300x-unpartitioned",
        "mi300x-cpx-nps4-partition-cards-not-counted",
        "partitioned-and-half-reported-gpu",
        "radeon-without-partition-files-connectors-and-render-nodes-skipped",
        "two-models-and-an-n-a-partition",
        "one-gpu-reached-twice",
        "unknown-device-id",
        "no-amd-gpu-epyc-cores-counted-over-sockets",
        "no-amd-gpu-intel-cpu",
        "no-amd-gpu-no-cpuinfo",
    ],
)
def test_feature_lines_from_sysfs(tmp_path: Path, cards: list[Card], cpu: str, expected: list[str]) -> None:
    sys_root = make_sysfs(tmp_path / "sys", cards)
    if cpu:
        (tmp_path / "cpuinfo").write_text(cpu)
    assert feature_lines(read_snapshot(sys_root, tmp_path / "cpuinfo")) == [PREFIX + line for line in expected]


def test_a_node_without_a_drm_driver_has_no_gpu(tmp_path: Path) -> None:
    (tmp_path / "cpuinfo").write_text(EPYC)
    snapshot = read_snapshot(make_sysfs(tmp_path / "sys", [], drm=False), tmp_path / "cpuinfo")
    assert snapshot.gpus == ()
    assert feature_lines(snapshot)[0] == f"{PREFIX}EPYC_9965=384"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (EPYC, CPU("AuthenticAMD", "AMD EPYC 9965 192-Core Processor", 384)),
        (
            cpuinfo("AuthenticAMD", "AMD EPYC Processor", cores=2, topology=False),
            CPU("AuthenticAMD", "AMD EPYC Processor", 4),
        ),
        ("processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n", None),
        ("", None),
    ],
    ids=["cores-over-sockets-not-threads", "no-topology-counts-processors", "arm64-layout", "empty"],
)
def test_parse_cpuinfo(text: str, expected: CPU | None) -> None:
    assert parse_cpuinfo(text) == expected


@pytest.mark.parametrize(
    ("vendor", "model_name", "expected"),
    [
        ("AuthenticAMD", "AMD EPYC 9965 192-Core Processor", "EPYC_9965"),
        ("AuthenticAMD", "AMD EPYC 9575F 64-Core Processor", "EPYC_9575F"),
        ("AuthenticAMD", "AMD EPYC-Milan Processor", None),
        ("AuthenticAMD", "AMD Ryzen 9 7950X 16-Core Processor", None),
        ("GenuineIntel", "Intel(R) Xeon(R) Platinum 8480+", None),
    ],
    ids=["epyc", "epyc-with-suffix", "virtual-cpu-without-number", "ryzen", "intel"],
)
def test_cpu_model(vendor: str, model_name: str, expected: str | None) -> None:
    assert cpu_model(CPU(vendor, model_name, 8)) == expected


def _unreadable(name: str) -> Callable[[Path], None]:
    def replace_by_a_directory(device: Path) -> None:
        (device / name).unlink(missing_ok=True)
        (device / name).mkdir()

    return replace_by_a_directory


def _without(name: str) -> Callable[[Path], None]:
    return lambda device: (device / name).unlink()


@pytest.mark.parametrize(
    ("break_gpu", "named"),
    [
        (None, "sys/class does not exist"),
        (_unreadable("vendor"), "drm/card0/device/vendor could not be read"),
        (_unreadable("current_memory_partition"), "drm/card0/device/current_memory_partition could not be read"),
        (_without("device"), "drm/card0/device/device is missing"),
    ],
    ids=["sysfs-not-mounted", "unreadable-vendor", "unreadable-partition-file", "gpu-without-device-id"],
)
def test_a_failed_read_names_the_file(tmp_path: Path, break_gpu: Callable[[Path], None] | None, named: str) -> None:
    sys_root = tmp_path / "sys"
    if break_gpu is not None:
        make_sysfs(sys_root, mi300x(1))
        break_gpu(sys_root / "devices" / "pci0000:00" / "pci-card0")
    with pytest.raises(DetectionError, match=named):
        read_snapshot(sys_root, tmp_path / "cpuinfo")


def test_the_file_is_replaced_only_when_it_changes(tmp_path: Path) -> None:
    assert write_feature_file(tmp_path, "a=1\n")
    first = (tmp_path / FEATURE_FILE).stat().st_ino
    assert not write_feature_file(tmp_path, "a=1\n")
    assert (tmp_path / FEATURE_FILE).stat().st_ino == first  # not rewritten: NFD sees no change
    assert write_feature_file(tmp_path, "a=2\n")
    assert (tmp_path / FEATURE_FILE).read_text() == "a=2\n"
    assert [path.name for path in tmp_path.iterdir()] == [FEATURE_FILE]  # the temporary file was renamed, not left


def test_a_failed_cycle_keeps_the_last_file(tmp_path: Path) -> None:
    sys_root = make_sysfs(tmp_path / "sys", mi300x(8))
    features = tmp_path / "features.d"
    features.mkdir()
    args = ["--once", f"--sys-root={sys_root}", f"--features-dir={features}", f"--cpuinfo={tmp_path / 'none'}"]
    assert main(args) == 0
    written = (features / FEATURE_FILE).read_text()
    assert f"{PREFIX}MI300X=8\n" in written
    _unreadable("vendor")(sys_root / "devices" / "pci0000:00" / "pci-card3")
    assert main(args) == 1
    assert (features / FEATURE_FILE).read_text() == written


def test_a_bad_interval_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--interval", "0"])
    assert exit_info.value.code == 2
    assert "--interval: must be positive" in capsys.readouterr().err


def test_sigterm_ends_the_loop_cleanly(tmp_path: Path) -> None:
    sys_root = make_sysfs(tmp_path / "sys", mi300x(1))
    features = tmp_path / "features.d"
    features.mkdir()
    command = [sys.executable, "-m", "detector", f"--sys-root={sys_root}", f"--features-dir={features}"]
    process = subprocess.Popen([*command, "--interval=600"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: (features / FEATURE_FILE).exists(), 20, "the first feature file")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
    assert process.stderr is not None
    assert "INFO detector: Stopped" in process.stderr.read()


def nfd_labels(content: str) -> dict[str, str]:
    """What NFD's local source publishes for a feature file: `name=value` lines, comments skipped."""
    lines = [line for line in content.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_the_labels_are_the_ones_profile_matching_reads(tmp_path: Path) -> None:
    sys_root = make_sysfs(tmp_path / "sys", mi300x(8))
    main(["--once", f"--sys-root={sys_root}", f"--features-dir={tmp_path}"])
    labels = nfd_labels((tmp_path / FEATURE_FILE).read_text())
    node = {"metadata": {"name": "gpu-1", "labels": labels}, "status": {"allocatable": {"amd.com/gpu": "8"}}}
    assert node_fits(node, "MI300X", {"amd.com/gpu": "8"})
    assert not node_fits(node, "MI325X", {})
    affinity = profile_node_affinity("MI300X")
    assert affinity is not None
    [term] = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term["matchExpressions"][0]["key"] in labels
    # Templates (v1alpha1) still know GPUs by amd.com/gpu.* only: their pods are pinned with
    # `amd.com/gpu.device-id In [...]`, which a node labelled by the detector alone lacks.
    assert node_gpus(node) is None


def test_the_image_and_the_package_carry_the_detector() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["aim-detect-accelerators"] == "detector.__main__:main"
    assert "detector*" in project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert "COPY detector ./detector\n" in (ROOT / "Dockerfile").read_text()

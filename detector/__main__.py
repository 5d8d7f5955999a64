"""`aim-detect-accelerators`: detect, write the feature file when it changed, wait `--interval`
seconds, again; SIGTERM or SIGINT ends it at once with exit code 0. `--once` runs one cycle
(exit code 1 when it failed)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections import Counter
from pathlib import Path
from types import FrameType

from detector.features import Snapshot, feature_lines, render
from detector.node import DetectionError, read_snapshot, write_feature_file

logger = logging.getLogger("detector")

NFD_FEATURES_DIR = "/etc/kubernetes/node-feature-discovery/features.d"


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aim-detect-accelerators",
        description="Write this node's AMD GPUs (or AMD EPYC CPU) as a Node Feature Discovery feature file.",
    )
    parser.add_argument("--sys-root", type=Path, default=Path("/sys"), help="the host's sysfs (default /sys)")
    parser.add_argument("--cpuinfo", type=Path, default=Path("/proc/cpuinfo"), help="default /proc/cpuinfo")
    parser.add_argument(
        "--features-dir",
        type=Path,
        default=Path(NFD_FEATURES_DIR),
        help=f"NFD's features.d (default {NFD_FEATURES_DIR})",
    )
    parser.add_argument("--interval", type=_positive, default=10.0, help="seconds between detections (default 10)")
    parser.add_argument("--once", action="store_true", help="detect and write once, then exit")
    return parser


def detect_once(args: argparse.Namespace) -> bool:
    """One cycle: False when it failed (then nothing was written)."""
    try:
        snapshot = read_snapshot(args.sys_root, args.cpuinfo)
        lines = feature_lines(snapshot)
        if write_feature_file(args.features_dir, render(lines)):
            logger.info("Wrote %s: %s (%s)", args.features_dir, describe(snapshot), ", ".join(lines) or "no labels")
    except DetectionError as error:
        logger.warning("Kept the last feature file: %s", error)
        return False
    except OSError as error:
        logger.error("Could not write the feature file into %s: %s", args.features_dir, error)
        return False
    return True


def describe(snapshot: Snapshot) -> str:
    if snapshot.gpus:
        models = Counter(gpu.model for gpu in snapshot.gpus)
        vram = {gpu.model: gpu.vram_bytes for gpu in snapshot.gpus if gpu.vram_bytes}
        return ", ".join(
            f"{count} {model}" + (f" ({vram[model] / 2**30:.0f} GiB VRAM)" if model in vram else "")
            for model, count in sorted(models.items())
        )
    if snapshot.cpu:
        return f"no AMD GPU; CPU {snapshot.cpu.model_name!r}, {snapshot.cpu.cores} cores"
    return "no AMD GPU, CPU unknown"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.once:
        return 0 if detect_once(args) else 1
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {number: signal.signal(number, _stop) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        logger.info("Started: %s every %gs into %s", args.sys_root, args.interval, args.features_dir)
        while True:
            detect_once(args)
            if stop.wait(args.interval):
                logger.info("Stopped")
                return 0
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


if __name__ == "__main__":
    raise SystemExit(main())

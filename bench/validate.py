"""`python -m bench.validate`: `kubectl aim validate` throughput on 1,000 manifests, beside the
baseline of reading the same files (YAML parse only), measured in the same run.

The manifests: 1,000 files, one AIMService each (v1alpha1 and v1alpha2 alternating, every tenth
invalid), as a GitOps repository holds them.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.report import emit
from cli.manifests import expand, load, read_text
from cli.validate import validate_files

MANIFESTS = 1000


def write_manifests(directory: Path) -> None:
    for index in range(MANIFESTS):
        version = "v1alpha1" if index % 2 else "v1alpha2"
        spec: dict[str, object] = {"model": {"name": f"model-{index % 7}"}, "replicas": 1}
        if index % 10 == 0:
            spec["replicas"] = "one"  # invalid: the findings path is measured too
        spec["routing"] = {"enabled": True, "pathTemplate": "/{.metadata.namespace}/{.metadata.name}"}
        obj = {
            "apiVersion": f"aim.eai.amd.com/{version}",
            "kind": "AIMService",
            "metadata": {"name": f"svc-{index:04d}", "namespace": "ml-team", "labels": {"team": "research"}},
            "spec": spec,
        }
        (directory / f"svc-{index:04d}.yaml").write_text("# a service\n" + json.dumps(obj, indent=2) + "\n")


def best_of(runs: int, work: object) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        write_manifests(Path(directory))
        files = expand([directory])
        validate_files(files[:20])  # compile the CEL rules and schemas once, as a long run would
        parse = best_of(args.runs, lambda: [load(f, read_text(f)) for f in files])
        validate = best_of(args.runs, lambda: validate_files(files))
        report = validate_files(files)
    emit(
        {
            "manifests": MANIFESTS,
            "invalid_found": report.invalid,
            "parse_seconds": round(parse, 3),
            "validate_seconds": round(validate, 3),
            "manifests_per_second": round(MANIFESTS / validate),
            "ratio_to_parsing": round(validate / parse, 2),
        },
        args.output,
    )


if __name__ == "__main__":
    main()

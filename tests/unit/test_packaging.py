"""The Dockerfile, kept correct by reading it (no Docker engine here): pinned base, non-root final
stage without build tools, and entrypoints that exist as modules (they run as processes in the
integration tests)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def final_stage() -> str:
    return DOCKERFILE[DOCKERFILE.rindex("\nFROM ") :]


def test_base_image_is_a_pinned_release() -> None:
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.M)
    assert base is not None
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base.group(1))


def test_final_stage_is_non_root_and_has_no_build_steps() -> None:
    stage = final_stage()
    assert "USER 65532:65532" in stage
    assert "RUN " not in stage  # nothing installed or compiled in the final image
    assert "COPY --from=build /opt/aim-engine /opt/aim-engine" in stage
    # The uid it runs as has a passwd entry (made in the build stage from the same base).
    assert "COPY --from=build /tmp/passwd /tmp/group /etc/" in stage
    assert "aim-engine:x:65532:65532:" in DOCKERFILE


def test_copied_sources_exist_and_entrypoints_are_modules() -> None:
    for source in re.findall(r"^COPY (\w+) \./", DOCKERFILE, re.M):
        assert (ROOT / source).is_dir(), source
    for module in ("controller", "webhooks", "controller.migrate"):
        assert importlib.util.find_spec(f"{module}.__main__" if "." not in module else module) is not None

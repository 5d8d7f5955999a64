"""Printing and saving a benchmark's results (shared by the benchmarks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def emit(results: dict[str, Any], output: Path | None) -> None:
    text = json.dumps(results, indent=2)
    print(text)
    if output:
        output.write_text(text + "\n")

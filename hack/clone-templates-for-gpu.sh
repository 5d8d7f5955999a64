#!/usr/bin/env bash
# Upstream AIM Engine's script, kept so runbooks written for it still work: it runs
# `kubectl aim clone-templates` (cli/clone.py, docs/cli.md), which needs neither jq nor yq.
#
# Usage:
#   ./clone-templates-for-gpu.sh PROFILE_GPU TARGET_GPU [kubectl aim options]
#   ./clone-templates-for-gpu.sh PROFILE_GPU TARGET_GPU | kubectl apply -f -
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "Usage: $0 PROFILE_GPU TARGET_GPU" >&2
    echo "Example: $0 MI300X MI325X | kubectl apply -f -" >&2
    echo "This will clone any AIMClusterServiceTemplate that targets MI300X, replaces the GPU model by MI325X, and adds an env var AIM_GPU_MODEL=MI300X" >&2
    exit 1
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
if [[ -x "$repo/.venv/bin/python" ]]; then
    # A checkout: this clone's code, wherever the caller stands.
    PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" exec "$repo/.venv/bin/python" -m cli clone-templates "$@"
fi
exec kubectl aim clone-templates "$@"

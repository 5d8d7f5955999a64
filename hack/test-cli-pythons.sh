#!/usr/bin/env bash
# `kubectl aim` where users are: the package installs (with the pinned dependencies of
# constraints.txt) and the CLI's tests pass on Python 3.12 and 3.13 too. The main suite covers 3.11,
# the operator image's one pinned Python. Each version gets a virtualenv of the pinned dependencies,
# cached outside the clone (~/.cache/aim-engine/venvs, keyed by the dependencies and constraints.txt);
# the package itself is built and installed into it on every run, as a user installs it.
#
# An interpreter that is not installed is skipped with a line saying so, unless
# AIM_REQUIRE_PYTHONS=1 (CI), which fails instead.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSIONS=${AIM_CLI_PYTHONS:-"3.12 3.13"}
TEST_TOOLS=(pytest pytest-timeout pytest-asyncio hypothesis)
CACHE_ROOT=${AIM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/aim-engine}

find_python() {
  local version=$1 candidate
  for candidate in "python$version" "$HOME"/.pyenv/versions/"$version"*/bin/"python$version" /usr/local/bin/"python$version"; do
    # pyenv's shims exist for versions that are not active and fail when run: try each.
    if "$candidate" -c 'import sys' >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# Keyed by what is installed into it (the dependency list and the pins), not by the rest of
# pyproject.toml (a tool setting would otherwise rebuild both virtualenvs, about a minute).
key=$({ sed -n '/^dependencies = \[/,/^\]/p' pyproject.toml; cat constraints.txt; } | sha256sum | cut -c1-12)
# The package is built once (a pure-Python wheel) and installed into every version's virtualenv;
# the versions then install and test side by side (the CLI's tests are small and need no cluster),
# each into its own log, printed in order.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
builder=.venv/bin/python
[ -x "$builder" ] || builder=python3
"$builder" -m pip wheel --quiet --no-deps -w "$work/wheel" .
rm -rf build  # setuptools builds the wheel in the source tree
wheel=$(ls "$work"/wheel/*.whl)

test_version() {  # test_version VERSION PYTHON
  local version=$1 python=$2 venv=$CACHE_ROOT/venvs/py$1-$key
  if [ ! -f "$venv/.installed" ]; then
    # Virtualenvs of older dependency sets are stale: keep the cache from growing without bound.
    find "$CACHE_ROOT/venvs" -maxdepth 1 -name "py$version-*" ! -name "py$version-$key" -exec rm -rf {} + 2>/dev/null || true
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip==25.3
    "$venv/bin/pip" install --quiet -c constraints.txt "$wheel" "${TEST_TOOLS[@]}"
    touch "$venv/.installed"
  fi
  "$venv/bin/pip" install --quiet --no-deps --force-reinstall "$wheel"
  echo "[cli-pythons] $("$venv/bin/python" --version): $("$venv/bin/kubectl-aim" --help | head -1)"
  # --noconftest: the suite's conftest brings up control planes and registries the CLI tests do
  # not use (and needs their test-only dependencies).
  "$venv/bin/python" -m pytest -q -p no:cacheprovider --noconftest tests/unit/cli
}

status=0
started=()
for version in $VERSIONS; do
  if ! python=$(find_python "$version"); then
    echo "[cli-pythons] Python $version not found: skipped"
    [ -z "${AIM_REQUIRE_PYTHONS:-}" ] || status=1
    continue
  fi
  test_version "$version" "$python" >"$work/$version.log" 2>&1 &
  started+=("$version:$!")
done
for entry in "${started[@]}"; do
  version=${entry%%:*}
  wait "${entry#*:}" || status=1
  cat "$work/$version.log"
done
exit $status

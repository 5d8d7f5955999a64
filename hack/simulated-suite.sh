#!/usr/bin/env bash
# The simulated suite (`make test`, before the real node) as two pytest runs at the same time:
#   - the tests against the control plane (tests/integration), which spend most of their time
#     waiting for the controller, the Job controller's back-off and the API server;
#   - the tests that need no control plane (tests/unit, tests/local), which are CPU-bound.
# One after the other they left one of the two cores idle most of the time; side by side the
# simulated suite takes about as long as its control-plane part alone (docs/development.md).
# The first run is itself split in two (pytest-xdist, a test module at a time to either worker),
# each worker with a control plane of its own: one control plane kept the two cores a quarter
# busy, two keep them about 60 % busy and take 8 minutes where one took 14 (docs/development.md).
# INTEGRATION_WORKERS=1 goes back to one.
#
# With CLI_PYTHONS=1 the second run is followed by kubectl aim's tests on Python 3.12 and 3.13
# (hack/test-cli-pythons.sh), also beside the integration tests.
#
# Arguments are passed to both runs (PYTEST_ARGS). Exit status: the first failure's; 5 (no test
# selected) only when neither run selected a test.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}

unit_log=$(mktemp "${TMPDIR:-/tmp}/aim-unit-tests.XXXXXX")
trap 'rm -f "$unit_log"' EXIT

# Niced: when both want a core, the control-plane tests' timing matters more.
beside() {
    nice -n 5 "$PY" -m pytest -m 'not cluster' -p no:cacheprovider "$@" || return
    if [ "${CLI_PYTHONS:-}" = 1 ]; then
        nice -n 5 hack/test-cli-pythons.sh
    fi
}
beside "$@" >"$unit_log" 2>&1 &
unit_pid=$!
workers=${INTEGRATION_WORKERS:-2}
"$PY" -m pytest -m 'cluster and not realnode' -n "$workers" --dist loadfile "$@"
cluster=$?
wait "$unit_pid"
unit=$?

echo
echo "=== the tests without a control plane, then the CLI on other Pythons (run beside the ones above; exit status $unit) ==="
cat "$unit_log"

for status in "$cluster" "$unit"; do
    if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then
        exit "$status"
    fi
done
if [ "$cluster" -eq 5 ] && [ "$unit" -eq 5 ]; then
    exit 5
fi
exit 0

#!/usr/bin/env bash
# The whole suite on SQLite and on a throwaway PostgreSQL server, side by side: the two runs
# share no file or port, and each mostly keeps one core busy, so on two cores the pair takes
# about as long as the slower one. Each line is prefixed with its database.
# ANCILLARY_TEST_DATABASES="sqlite" (or "postgresql") runs one; ANCILLARY_TEST_SERIAL=1 runs
# them one after the other.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
DATABASES=${ANCILLARY_TEST_DATABASES:-"sqlite postgresql"}

run_on() {
    local database=$1
    shift
    if [ "$database" = sqlite ]; then
        ANCILLARY_TEST_DB=sqlite $BIN/python -m pytest "$@"
    else
        ANCILLARY_TEST_DB=postgresql scripts/with-postgres.sh $BIN/python -m pytest "$@"
    fi
}

status=0
pids=()
for database in $DATABASES; do
    echo "==> tests on $database"
    if [ -n "${ANCILLARY_TEST_SERIAL:-}" ]; then
        run_on "$database" "$@" || status=1
    else
        ( run_on "$database" "$@" 2>&1 | sed -u "s/^/[$database] /" ) &
        pids+=("$!")
    fi
done
for pid in "${pids[@]}"; do
    wait "$pid" || status=1
done
[ $status -eq 0 ] && echo "==> every run passed" || echo "==> a run failed: see the lines marked FAILED or ERROR above"
exit $status

#!/usr/bin/env bash
# The whole suite on SQLite, then again on a throwaway PostgreSQL server.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
DATABASES=${ANCILLARY_TEST_DATABASES:-"sqlite postgresql"}
status=0
for database in $DATABASES; do
    echo "==> tests on $database"
    if [ "$database" = sqlite ]; then
        ANCILLARY_TEST_DB=sqlite $BIN/python -m pytest "$@" || status=1
    else
        ANCILLARY_TEST_DB=postgresql scripts/with-postgres.sh $BIN/python -m pytest "$@" || status=1
    fi
done
exit $status

#!/usr/bin/env bash
# Run every benchmark under bench/ (figures are printed and written to bench/out/).
# PostgreSQL benchmarks run against a throwaway server started here.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$PWD/.venv/bin/python
cd bench
for bench in ${ANCILLARY_BENCHES:-$(ls *.py | grep -v '^common.py$')}; do
    echo "==> $bench"
    if grep -q -- '--db' "$bench"; then
        $PY "$bench" --db sqlite
        ../scripts/with-postgres.sh $PY "$bench" --db postgresql
    else
        ../scripts/with-postgres.sh $PY "$bench"
    fi
done

#!/usr/bin/env bash
# Every benchmark under bench/: on SQLite, then on a throwaway PostgreSQL. Figures land in bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$PWD/.venv/bin/python
cd bench
for bench in ${ANCILLARY_BENCHES:-$(ls *.py | grep -v '^common.py$')}; do
    echo "==> $bench"
    if grep -q -- '--db' "$bench"; then
        grep -q 'default="postgresql"' "$bench" || $PY "$bench" --db sqlite  # PostgreSQL-only benches skip SQLite
        ../scripts/with-postgres.sh $PY "$bench" --db postgresql
    else
        ../scripts/with-postgres.sh $PY "$bench"
    fi
done

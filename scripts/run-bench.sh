#!/usr/bin/env bash
# Every benchmark under bench/: on SQLite, then on a throwaway PostgreSQL. Figures land in bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$PWD/.venv/bin/python
cd bench
$PY reminders_sweep.py --db sqlite "$@"
../scripts/with-postgres.sh $PY reminders_sweep.py --db postgresql "$@"
../scripts/with-postgres.sh $PY outbox_delivery.py --db postgresql

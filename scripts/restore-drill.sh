#!/usr/bin/env bash
# Try a backup and a restore once, end to end, on a throwaway PostgreSQL (run under with-postgres.sh):
#   scripts/with-postgres.sh scripts/restore-drill.sh
# A court is migrated and filled with the demo, backed up with deploy/backup.sh, restored with
# deploy/restore.sh into a second database, and every table's row count and a sign-in are compared.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/.venv/bin
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
export PATH="$PGBIN:$PATH"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
SERVER=${ANCILLARY_TEST_POSTGRES_URL:?run under scripts/with-postgres.sh}
psql "${SERVER/postgresql+psycopg:/postgresql:}/postgres" -qc "CREATE DATABASE court" -c "CREATE DATABASE court_restored"
export ANCILLARY_SECRET_KEY=drill ANCILLARY_QR_KEYS=K1:drill-key-0123456789abcdef ANCILLARY_INSTANCE_DIR=$WORK
export ANCILLARY_STORAGE_DIR=$WORK/storage ANCILLARY_DATABASE_URL=$SERVER/court
$BIN/ancillary db upgrade >/dev/null 2>&1
$BIN/ancillary demo --cases 40 >/dev/null
mkdir -p "$ANCILLARY_STORAGE_DIR/archive" && echo "%PDF-1.7 drill" > "$ANCILLARY_STORAGE_DIR/archive/drill.pdf"
deploy/backup.sh "$WORK/backups"
STAMP=$(ls "$WORK/backups")
counts() {
    psql "${1/postgresql+psycopg:/postgresql:}" -Atc "SELECT string_agg(format('%s=%s', table_name,
      (xpath('/row/c/text()', query_to_xml(format('select count(*) as c from %I', table_name), false, true, '')))[1]::text), ' '
      ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'public'"
}
BEFORE=$(counts "$SERVER/court")
ANCILLARY_DATABASE_URL=$SERVER/court_restored ANCILLARY_STORAGE_DIR=$WORK/restored \
    deploy/restore.sh "$WORK/backups/$STAMP"
AFTER=$(counts "$SERVER/court_restored")
[ "$BEFORE" = "$AFTER" ] || { echo "row counts differ:"; echo "$BEFORE"; echo "$AFTER"; exit 1; }
cmp "$WORK/storage/archive/drill.pdf" "$WORK/restored/archive/drill.pdf"
ANCILLARY_DATABASE_URL=$SERVER/court_restored $BIN/ancillary db upgrade >/dev/null 2>&1
ANCILLARY_DATABASE_URL=$SERVER/court_restored $BIN/ancillary tokens issue admin >/dev/null
echo "restore drill passed: $(echo "$AFTER" | wc -w) tables with equal row counts, files equal, admin signs in"

#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster on a free loopback port.
# The cluster lives in a temporary folder and is stopped and removed on exit, even
# when the command fails. The command sees ANCILLARY_TEST_POSTGRES_URL (a server
# URL without a database name: tests create their own databases).
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$PGBIN" ]; then
    echo "PostgreSQL server binaries not found: install the postgresql package" >&2
    exit 1
fi
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PGDATA=$(mktemp -d /tmp/ancillary-pg.XXXXXX)
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PGDATA"
}
trap cleanup EXIT INT TERM
if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$PGDATA"; fi
chmod 700 "$PGDATA"
PGUSER=$( [ "$(id -u)" -eq 0 ] && echo postgres || id -un )
as_pg "$PGBIN/initdb" -D "$PGDATA" -U "$PGUSER" -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 \
    -o "-p $PORT -k $PGDATA -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
echo "==> throwaway PostgreSQL on 127.0.0.1:$PORT"
export ANCILLARY_TEST_POSTGRES_URL="postgresql+psycopg://$PGUSER@127.0.0.1:$PORT"
set +e
"$@"
status=$?
set -e
exit $status

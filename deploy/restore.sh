#!/usr/bin/env bash
# Restore a backup made by backup.sh into an EMPTY database and storage folder.
#   deploy/restore.sh /var/backups/ancillary/20270104T020000Z
set -euo pipefail
SOURCE=${1:?usage: restore.sh BACKUP_DIR/STAMP}
: "${ANCILLARY_DATABASE_URL:?ANCILLARY_DATABASE_URL is not set}"
(cd "$SOURCE" && sha256sum --check --quiet SHA256SUMS)
PGURL=${ANCILLARY_DATABASE_URL/postgresql+psycopg:/postgresql:}
pg_restore --no-owner --exit-on-error --single-transaction --dbname "$PGURL" "$SOURCE/ancillary.dump"
if [ -f "$SOURCE/storage.tar.gz" ]; then
    mkdir -p "${ANCILLARY_STORAGE_DIR:?}"
    tar -C "$ANCILLARY_STORAGE_DIR" -xzf "$SOURCE/storage.tar.gz"
fi
echo "restored from $SOURCE; now run: ancillary db upgrade"

#!/usr/bin/env bash
# Back up the database (pg_dump, custom format) and the stored files, into BACKUP_DIR/<UTC stamp>/.
# Reads the same environment file as the services. Run it from a systemd timer or cron, nightly.
#   deploy/backup.sh /var/backups/ancillary
set -euo pipefail
BACKUP_DIR=${1:?usage: backup.sh BACKUP_DIR}
: "${ANCILLARY_DATABASE_URL:?ANCILLARY_DATABASE_URL is not set (source /etc/ancillary/ancillary.env)}"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
TARGET="$BACKUP_DIR/$STAMP"
mkdir -p "$TARGET"
# pg_dump wants a libpq URL: drop SQLAlchemy's "+psycopg" driver name.
PGURL=${ANCILLARY_DATABASE_URL/postgresql+psycopg:/postgresql:}
pg_dump --format=custom --no-owner --file "$TARGET/ancillary.dump" "$PGURL"
if [ "${ANCILLARY_STORAGE:-local}" = s3 ]; then
    # The object store keeps its own copies (versioning); mirror it too if you have a second store:
    #   mc mirror --overwrite court/$ANCILLARY_S3_BUCKET backup/$ANCILLARY_S3_BUCKET
    echo "files: in bucket $ANCILLARY_S3_BUCKET (mirror it with mc mirror, see docs/deploy.md)"
else
    tar -C "${ANCILLARY_STORAGE_DIR:?}" -czf "$TARGET/storage.tar.gz" .
fi
sha256sum "$TARGET"/* > "$TARGET/SHA256SUMS"
echo "backup written to $TARGET"

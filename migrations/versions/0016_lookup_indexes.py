"""lookup indexes: the stored files the orphan sweeps look up

The orphan sweeps ask which of the files they found a row still names (by photo path and by
scan digest); without these indexes each of those reads scanned its whole table, every tick.
(Indexes on tasks (kind, status) and hearings (ends_at) helped the sweeps too, but on
PostgreSQL a booking then cost about 0.3 ms more of the database's CPU: they were left out.)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 20:30:00

"""
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_service_attempts_photo_path', 'service_attempts', ['photo_path'])
    op.create_index('ix_archive_records_scan_sha256', 'archive_records', ['scan_sha256'])


def downgrade():
    op.drop_index('ix_archive_records_scan_sha256', table_name='archive_records')
    op.drop_index('ix_service_attempts_photo_path', table_name='service_attempts')

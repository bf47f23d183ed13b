"""lookup indexes: cases waiting to be scheduled, hearings that ended, stored files the sweeps look up

The scheduling sweep and auto-scheduling read the open scheduling tasks (by kind and status);
the reminder sweep reads the hearings that ended in a window (by end); the orphan sweeps ask
which of the files they found a row still names (by photo path and by scan digest). Without
these indexes each of those reads scanned its whole table, every tick.

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
    op.create_index('ix_tasks_kind_status', 'tasks', ['kind', 'status'])
    op.create_index('ix_service_attempts_photo_path', 'service_attempts', ['photo_path'])
    op.create_index('ix_archive_records_scan_sha256', 'archive_records', ['scan_sha256'])
    op.create_index('ix_hearings_ends', 'hearings', ['ends_at'])


def downgrade():
    op.drop_index('ix_hearings_ends', table_name='hearings')
    op.drop_index('ix_archive_records_scan_sha256', table_name='archive_records')
    op.drop_index('ix_service_attempts_photo_path', table_name='service_attempts')
    op.drop_index('ix_tasks_kind_status', table_name='tasks')

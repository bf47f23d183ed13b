"""sweep_marks: how far the reminder sweep has looked, so a routine tick reads only what is new

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 23:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sweep_marks',
        sa.Column('sweep', sa.String(length=64), nullable=False),
        sa.Column('swept_to', sa.DateTime(timezone=True), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sweep', name=op.f('pk_sweep_marks')),
    )


def downgrade():
    op.drop_table('sweep_marks')

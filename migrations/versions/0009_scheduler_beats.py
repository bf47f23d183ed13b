"""ops: scheduler heartbeats (readiness) and the sweep ledger (a sweep runs once per instant)

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-29 17:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduler_beats',
    sa.Column('node', sa.String(length=200), nullable=False),
    sa.Column('is_leader', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('node', name=op.f('pk_scheduler_beats'))
    )
    with op.batch_alter_table('scheduler_beats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduler_beats_beat_at'), ['beat_at'], unique=False)

    op.create_table('sweep_runs',
    sa.Column('sweep', sa.String(length=200), nullable=False),
    sa.Column('instant', sa.DateTime(timezone=True), nullable=False),
    sa.Column('node', sa.String(length=200), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sweep', 'instant', name=op.f('pk_sweep_runs'))
    )


def downgrade():
    op.drop_table('sweep_runs')
    with op.batch_alter_table('scheduler_beats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduler_beats_beat_at'))

    op.drop_table('scheduler_beats')

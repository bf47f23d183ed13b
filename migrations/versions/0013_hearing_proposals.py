"""hearing_proposals: slots the scheduling sweep proposes for new cases, until a scheduler decides

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 20:45:00

At most one open proposal per case: a partial unique index (SQLite and PostgreSQL).
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'hearing_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('courtroom_id', sa.Integer(), nullable=False),
        sa.Column('judge_id', sa.Integer(), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lane', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('proposed', 'accepted', 'rejected', 'withdrawn', name='proposal_status',
                                    native_enum=False, length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('hearing_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=200), nullable=True),
        sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_hearing_proposals_period_order')),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_hearing_proposals_case_id_cases')),
        sa.ForeignKeyConstraint(['courtroom_id'], ['courtrooms.id'],
                                name=op.f('fk_hearing_proposals_courtroom_id_courtrooms')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_hearing_proposals_decided_by_id_users')),
        sa.ForeignKeyConstraint(['hearing_id'], ['hearings.id'], name=op.f('fk_hearing_proposals_hearing_id_hearings')),
        sa.ForeignKeyConstraint(['judge_id'], ['users.id'], name=op.f('fk_hearing_proposals_judge_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_hearing_proposals')),
    )
    op.create_index('ix_hearing_proposals_status_starts', 'hearing_proposals', ['status', 'starts_at'])
    op.create_index('uq_hearing_proposals_open_case', 'hearing_proposals', ['case_id'], unique=True,
                    sqlite_where=sa.text("status = 'proposed'"), postgresql_where=sa.text("status = 'proposed'"))


def downgrade():
    op.drop_index('uq_hearing_proposals_open_case', table_name='hearing_proposals')
    op.drop_index('ix_hearing_proposals_status_starts', table_name='hearing_proposals')
    op.drop_table('hearing_proposals')

"""dossier_head: each dossier row carries its custody chain's head (seq, hash, last time)

A scan locks the dossier's row; with the head on it, the lock's one statement also reads
the head as the previous scan committed it. custody_heads stays the record verify checks;
these columns are a copy of it, filled here from it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 02:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('head_seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('head_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('head_last_at', sa.DateTime(timezone=True), nullable=True))
    for column in ('seq', 'hash', 'last_at'):
        op.execute(f"UPDATE dossiers SET head_{column} = (SELECT h.{column} FROM custody_heads h "
                   "WHERE h.dossier_id = dossiers.id)")


def downgrade():
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_column('head_last_at')
        batch_op.drop_column('head_hash')
        batch_op.drop_column('head_seq')

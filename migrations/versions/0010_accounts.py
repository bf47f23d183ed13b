"""accounts: court approval of grants, forced password change, revoke-all, sign-in backoff; access log of any object

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 17:34:55.752537

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_throttles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_throttles')),
    sa.UniqueConstraint('scope', 'key', name=op.f('uq_sign_in_throttles_scope_key'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_approved', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('credentials_revoked_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('object_type', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('object_id', sa.Integer(), nullable=True))
        batch_op.alter_column('case_id', existing_type=sa.Integer(), nullable=True)



def downgrade():
    op.execute("DELETE FROM access_log WHERE case_id IS NULL")  # rows the old schema cannot hold
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.alter_column('case_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('object_id')
        batch_op.drop_column('object_type')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('credentials_revoked_at')
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('is_approved')

    op.drop_table('sign_in_throttles')

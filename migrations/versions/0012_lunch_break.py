"""courtrooms: a lunch break per room (default 12:00-13:30), when nothing is heard

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 17:40:00

Existing rooms get the default break where it lies inside their opening hours,
and none otherwise.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('courtrooms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lunch_starts', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('lunch_ends', sa.Time(), nullable=True))
    op.execute("UPDATE courtrooms SET lunch_starts = '12:00:00', lunch_ends = '13:30:00' "
               "WHERE opens <= '12:00:00' AND closes >= '13:30:00'")
    with op.batch_alter_table('courtrooms', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_courtrooms_lunch_both'), '(lunch_starts IS NULL) = (lunch_ends IS NULL)')
        batch_op.create_check_constraint(
            op.f('ck_courtrooms_lunch_inside'),
            'lunch_starts IS NULL OR (opens <= lunch_starts AND lunch_starts < lunch_ends AND lunch_ends <= closes)')


def downgrade():
    with op.batch_alter_table('courtrooms', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_courtrooms_lunch_inside'), type_='check')
        batch_op.drop_constraint(op.f('ck_courtrooms_lunch_both'), type_='check')
        batch_op.drop_column('lunch_ends')
        batch_op.drop_column('lunch_starts')

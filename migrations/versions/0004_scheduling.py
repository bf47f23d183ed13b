"""scheduling: court calendar, blockings, hearings, calendar feeds

On PostgreSQL two exclusion constraints (btree_gist) refuse double bookings of a
courtroom or a judge within a lane; SQLite serialises writers instead.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 14:23:30.747824

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table('court_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_working', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_court_days'))
    )
    op.create_table('blockings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('courtroom_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(courtroom_id IS NULL) <> (user_id IS NULL)', name=op.f('ck_blockings_one_subject')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_blockings_period_order')),
    sa.ForeignKeyConstraint(['courtroom_id'], ['courtrooms.id'], name=op.f('fk_blockings_courtroom_id_courtrooms')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_blockings_created_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_blockings_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blockings'))
    )
    with op.batch_alter_table('blockings', schema=None) as batch_op:
        batch_op.create_index('ix_blockings_courtroom_period', ['courtroom_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_blockings_user_period', ['user_id', 'starts_at'], unique=False)

    op.create_table('calendar_feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_calendar_feeds_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feeds')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feeds_token_hash')),
    sa.UniqueConstraint('user_id', name=op.f('uq_calendar_feeds_user_id'))
    )
    op.create_table('hearings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('courtroom_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lane', sa.Integer(), nullable=False),
    sa.Column('is_overlap_eligible', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('booked', 'cancelled', name='hearing_status', native_enum=False, length=32), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('booked_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.String(length=200), nullable=True),
    sa.CheckConstraint('lane IN (0, 1)', name=op.f('ck_hearings_lane_range')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_hearings_period_order')),
    sa.ForeignKeyConstraint(['booked_by_id'], ['users.id'], name=op.f('fk_hearings_booked_by_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_hearings_case_id_cases')),
    sa.ForeignKeyConstraint(['courtroom_id'], ['courtrooms.id'], name=op.f('fk_hearings_courtroom_id_courtrooms')),
    sa.ForeignKeyConstraint(['judge_id'], ['users.id'], name=op.f('fk_hearings_judge_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hearings'))
    )
    with op.batch_alter_table('hearings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hearings_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_hearings_courtroom_starts', ['courtroom_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_hearings_judge_starts', ['judge_id', 'starts_at'], unique=False)
    if postgresql:
        for name, subject in (("hearings_no_room_overlap", "courtroom_id"), ("hearings_no_judge_overlap", "judge_id")):
            op.execute(
                f"ALTER TABLE hearings ADD CONSTRAINT {name} EXCLUDE USING gist "
                f"({subject} WITH =, lane WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
                "WHERE (status = 'booked')"
            )


def downgrade():
    # The btree_gist extension stays: other tables may use it, and it holds no data.
    with op.batch_alter_table('hearings', schema=None) as batch_op:
        batch_op.drop_index('ix_hearings_judge_starts')
        batch_op.drop_index('ix_hearings_courtroom_starts')
        batch_op.drop_index(batch_op.f('ix_hearings_case_id'))

    op.drop_table('hearings')
    op.drop_table('calendar_feeds')
    with op.batch_alter_table('blockings', schema=None) as batch_op:
        batch_op.drop_index('ix_blockings_user_period')
        batch_op.drop_index('ix_blockings_courtroom_period')

    op.drop_table('blockings')
    op.drop_table('court_days')

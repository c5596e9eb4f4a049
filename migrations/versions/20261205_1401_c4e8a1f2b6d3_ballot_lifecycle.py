"""lifecycle: ballot deleted/cancelled/postponed and the scheduler's recorded problem

Revision ID: c4e8a1f2b6d3
Revises: c4e8a1f0b3d7
Create Date: 2026-12-05 14:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sqlmodel

import app.db

revision: str = 'c4e8a1f2b6d3'
down_revision: str | None = 'c4e8a1f0b3d7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('cancel_notice_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('postponed_at', app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('postpone_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('postpone_notice_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('schedule_problem', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
        batch_op.add_column(sa.Column('schedule_problem_at', app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ballot_cancel_notice_id_notice'), 'notice',
                                    ['cancel_notice_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_ballot_postpone_notice_id_notice'), 'notice',
                                    ['postpone_notice_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ballot_postpone_notice_id_notice'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_ballot_cancel_notice_id_notice'), type_='foreignkey')
        for col in ('schedule_problem_at', 'schedule_problem', 'postpone_notice_id', 'postpone_reason',
                    'postponed_at', 'cancel_notice_id', 'cancel_reason', 'cancelled_at', 'deleted_at'):
            batch_op.drop_column(col)

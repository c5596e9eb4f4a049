"""appraisals: quarterly reports (versioned), the annual appraisal with its accounts, the
appraisers' scores and the rectification items (seed 002)

Revision ID: a7d3e9b2c4f1
Revises: 163810299975
Create Date: 2026-12-05 14:19:36.876693
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import app.db  # noqa: F401  (custom column types such as UTCDateTime)


revision: str = 'a7d3e9b2c4f1'
down_revision: str | None = '163810299975'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('appraisal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('survey_id', sa.Integer(), nullable=True),
    sa.Column('owners_rate_tenths', sa.Integer(), nullable=True),
    sa.Column('score_tenths', sa.Integer(), nullable=True),
    sa.Column('grade', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('published_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_appraisal_compound_id_compound')),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_appraisal_created_by_user_account')),
    sa.ForeignKeyConstraint(['published_by'], ['user_account.id'], name=op.f('fk_appraisal_published_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal')),
    sa.UniqueConstraint('compound_id', 'year', name=op.f('uq_appraisal_compound_id_year'))
    )
    with op.batch_alter_table('appraisal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appraisal_compound_id'), ['compound_id'], unique=False)

    op.create_table('quarterly_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('file_ids', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('filed_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('filed_by', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.Integer(), nullable=True),
    sa.Column('opinion', sa.Text(), nullable=False),
    sa.CheckConstraint('quarter BETWEEN 1 AND 4', name=op.f('ck_quarterly_report_quarter_known')),
    sa.ForeignKeyConstraint(['acknowledged_by'], ['user_account.id'], name=op.f('fk_quarterly_report_acknowledged_by_user_account')),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_quarterly_report_compound_id_compound')),
    sa.ForeignKeyConstraint(['filed_by'], ['user_account.id'], name=op.f('fk_quarterly_report_filed_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarterly_report')),
    sa.UniqueConstraint('compound_id', 'year', 'quarter', 'version', name=op.f('uq_quarterly_report_compound_id_year_quarter_version'))
    )
    with op.batch_alter_table('quarterly_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarterly_report_compound_id'), ['compound_id'], unique=False)

    op.create_table('appraisal_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('appraisal_id', sa.Integer(), nullable=False),
    sa.Column('party', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('file_ids', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('filed_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('filed_by', sa.Integer(), nullable=True),
    sa.CheckConstraint("party IN ('committee', 'company')", name=op.f('ck_appraisal_account_party_known')),
    sa.ForeignKeyConstraint(['appraisal_id'], ['appraisal.id'], name=op.f('fk_appraisal_account_appraisal_id_appraisal')),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_appraisal_account_compound_id_compound')),
    sa.ForeignKeyConstraint(['filed_by'], ['user_account.id'], name=op.f('fk_appraisal_account_filed_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal_account')),
    sa.UniqueConstraint('appraisal_id', 'party', 'version', name=op.f('uq_appraisal_account_appraisal_id_party_version'))
    )
    with op.batch_alter_table('appraisal_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appraisal_account_appraisal_id'), ['appraisal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appraisal_account_compound_id'), ['compound_id'], unique=False)

    op.create_table('appraisal_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('appraisal_id', sa.Integer(), nullable=False),
    sa.Column('appraiser_kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('appraiser_name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('scores', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('mean_tenths', sa.Integer(), nullable=False),
    sa.Column('entered_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('entered_by', sa.Integer(), nullable=True),
    sa.Column('superseded_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("appraiser_kind IN ('party', 'committee', 'owner_rep')", name=op.f('ck_appraisal_score_kind_known')),
    sa.ForeignKeyConstraint(['appraisal_id'], ['appraisal.id'], name=op.f('fk_appraisal_score_appraisal_id_appraisal')),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_appraisal_score_compound_id_compound')),
    sa.ForeignKeyConstraint(['entered_by'], ['user_account.id'], name=op.f('fk_appraisal_score_entered_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal_score'))
    )
    with op.batch_alter_table('appraisal_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appraisal_score_appraisal_id'), ['appraisal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appraisal_score_compound_id'), ['compound_id'], unique=False)

    op.create_table('rectification_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('appraisal_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.Integer(), nullable=True),
    sa.Column('done_note', sa.Text(), nullable=False),
    sa.Column('done_file_ids', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('confirmed_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['appraisal_id'], ['appraisal.id'], name=op.f('fk_rectification_item_appraisal_id_appraisal')),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_rectification_item_compound_id_compound')),
    sa.ForeignKeyConstraint(['confirmed_by'], ['user_account.id'], name=op.f('fk_rectification_item_confirmed_by_user_account')),
    sa.ForeignKeyConstraint(['done_by'], ['user_account.id'], name=op.f('fk_rectification_item_done_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_item'))
    )
    with op.batch_alter_table('rectification_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectification_item_appraisal_id'), ['appraisal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rectification_item_compound_id'), ['compound_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rectification_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectification_item_compound_id'))
        batch_op.drop_index(batch_op.f('ix_rectification_item_appraisal_id'))

    op.drop_table('rectification_item')
    with op.batch_alter_table('appraisal_score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appraisal_score_compound_id'))
        batch_op.drop_index(batch_op.f('ix_appraisal_score_appraisal_id'))

    op.drop_table('appraisal_score')
    with op.batch_alter_table('appraisal_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appraisal_account_compound_id'))
        batch_op.drop_index(batch_op.f('ix_appraisal_account_appraisal_id'))

    op.drop_table('appraisal_account')
    with op.batch_alter_table('quarterly_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarterly_report_compound_id'))

    op.drop_table('quarterly_report')
    with op.batch_alter_table('appraisal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appraisal_compound_id'))

    op.drop_table('appraisal')

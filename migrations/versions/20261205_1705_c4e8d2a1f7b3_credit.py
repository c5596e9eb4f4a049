"""credit: the property company serving each compound (history kept), 负面清单 findings, the
district red and black lists with their entries, each compound's frozen assessment, and the
committee's dismissal prompts (seeds 000, 002, 003, 004)

Revision ID: c4e8d2a1f7b3
Revises: a7d3e9b2c4f1
Create Date: 2026-12-05 17:01:59.408017
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import app.db  # noqa: F401  (custom column types such as UTCDateTime)


revision: str = 'c4e8d2a1f7b3'
down_revision: str | None = 'a7d3e9b2c4f1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('credit_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('found_on', sa.Date(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('company_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('recorded_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by', sa.Integer(), nullable=True),
    sa.Column('withdraw_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_credit_finding_compound_id_compound')),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], name=op.f('fk_credit_finding_recorded_by_user_account')),
    sa.ForeignKeyConstraint(['withdrawn_by'], ['user_account.id'], name=op.f('fk_credit_finding_withdrawn_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_finding'))
    )
    with op.batch_alter_table('credit_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_finding_compound_id'), ['compound_id'], unique=False)

    op.create_table('credit_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('scope_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('compound_ids', sa.Text(), nullable=False),
    sa.Column('threshold_mode', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('red_line', sa.Integer(), nullable=False),
    sa.Column('black_line', sa.Integer(), nullable=False),
    sa.Column('criteria_version', sa.Integer(), nullable=False),
    sa.Column('criteria_json', sa.Text(), nullable=False),
    sa.Column('inputs_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('correction_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('published_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.CheckConstraint('quarter BETWEEN 1 AND 4', name=op.f('ck_credit_list_quarter_known')),
    sa.ForeignKeyConstraint(['published_by'], ['user_account.id'], name=op.f('fk_credit_list_published_by_user_account')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['credit_list.id'], name=op.f('fk_credit_list_supersedes_id_credit_list')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_list')),
    sa.UniqueConstraint('district', 'year', 'quarter', 'scope_key', 'version', name=op.f('uq_credit_list_district_year_quarter_scope_key_version'))
    )
    op.create_table('property_company_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('contract_starts_on', sa.Date(), nullable=False),
    sa.Column('contract_ends_on', sa.Date(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('recorded_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_property_company_record_compound_id_compound')),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], name=op.f('fk_property_company_record_recorded_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_property_company_record'))
    )
    with op.batch_alter_table('property_company_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_property_company_record_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_property_company_record_credit_code'), ['credit_code'], unique=False)

    op.create_table('credit_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('company_record_id', sa.Integer(), nullable=False),
    sa.Column('company_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('score_tenths', sa.Integer(), nullable=False),
    sa.Column('basis_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['company_record_id'], ['property_company_record.id'], name=op.f('fk_credit_assessment_company_record_id_property_company_record')),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_credit_assessment_compound_id_compound')),
    sa.ForeignKeyConstraint(['list_id'], ['credit_list.id'], name=op.f('fk_credit_assessment_list_id_credit_list')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_assessment')),
    sa.UniqueConstraint('list_id', 'compound_id', name=op.f('uq_credit_assessment_list_id_compound_id'))
    )
    with op.batch_alter_table('credit_assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_assessment_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_assessment_list_id'), ['list_id'], unique=False)

    op.create_table('credit_list_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('company_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('score_tenths', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('compound_count', sa.Integer(), nullable=False),
    sa.CheckConstraint("place IN ('red', 'black', '')", name=op.f('ck_credit_list_entry_place_known')),
    sa.ForeignKeyConstraint(['list_id'], ['credit_list.id'], name=op.f('fk_credit_list_entry_list_id_credit_list')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_list_entry')),
    sa.UniqueConstraint('list_id', 'credit_code', name=op.f('uq_credit_list_entry_list_id_credit_code'))
    )
    with op.batch_alter_table('credit_list_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_list_entry_list_id'), ['list_id'], unique=False)

    op.create_table('credit_dismissal_prompt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('rectification_item_id', sa.Integer(), nullable=False),
    sa.Column('company_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('prompted_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('prompted_by', sa.Integer(), nullable=True),
    sa.Column('dismissed_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('dismissed_by', sa.Integer(), nullable=True),
    sa.Column('dismiss_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('agenda_item_id', sa.Integer(), nullable=True),
    sa.Column('drafted_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('drafted_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_item.id'], name=op.f('fk_credit_dismissal_prompt_agenda_item_id_agenda_item')),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_credit_dismissal_prompt_compound_id_compound')),
    sa.ForeignKeyConstraint(['dismissed_by'], ['user_account.id'], name=op.f('fk_credit_dismissal_prompt_dismissed_by_user_account')),
    sa.ForeignKeyConstraint(['drafted_by'], ['user_account.id'], name=op.f('fk_credit_dismissal_prompt_drafted_by_user_account')),
    sa.ForeignKeyConstraint(['list_id'], ['credit_list.id'], name=op.f('fk_credit_dismissal_prompt_list_id_credit_list')),
    sa.ForeignKeyConstraint(['prompted_by'], ['user_account.id'], name=op.f('fk_credit_dismissal_prompt_prompted_by_user_account')),
    sa.ForeignKeyConstraint(['rectification_item_id'], ['rectification_item.id'], name=op.f('fk_credit_dismissal_prompt_rectification_item_id_rectification_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_dismissal_prompt')),
    sa.UniqueConstraint('compound_id', 'list_id', 'rectification_item_id', name=op.f('uq_credit_dismissal_prompt_compound_id_list_id_rectification_item_id'))
    )
    with op.batch_alter_table('credit_dismissal_prompt', schema=None) as batch_op:
        batch_op.create_index('ix_credit_dismissal_prompt_compound', ['compound_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('credit_dismissal_prompt', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_dismissal_prompt_compound')

    op.drop_table('credit_dismissal_prompt')
    with op.batch_alter_table('credit_list_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_list_entry_list_id'))

    op.drop_table('credit_list_entry')
    with op.batch_alter_table('credit_assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_assessment_list_id'))
        batch_op.drop_index(batch_op.f('ix_credit_assessment_compound_id'))

    op.drop_table('credit_assessment')
    with op.batch_alter_table('property_company_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_property_company_record_credit_code'))
        batch_op.drop_index(batch_op.f('ix_property_company_record_compound_id'))

    op.drop_table('property_company_record')
    op.drop_table('credit_list')
    with op.batch_alter_table('credit_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_finding_compound_id'))

    op.drop_table('credit_finding')

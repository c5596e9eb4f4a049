"""surveys: survey, its questions, participation (which subject answered) and the unlinked
responses and answers (what was answered; tied to no subject, user or time)

Revision ID: 5c2e8a1f9d37
Revises: c4e8a1f2b6d3
Create Date: 2026-12-05 13:25:52.237105
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import app.db  # noqa: F401  (custom column types such as UTCDateTime)


revision: str = '5c2e8a1f9d37'
down_revision: str | None = 'c4e8a1f2b6d3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('intro', sa.Text(), nullable=False),
    sa.Column('template_key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('allow_comments', sa.Boolean(), nullable=False),
    sa.Column('opens_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('opened_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_survey_compound_id_compound')),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_survey_created_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey'))
    )
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_compound_id'), ['compound_id'], unique=False)

    op.create_table('survey_participation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('revisions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_survey_participation_compound_id_compound')),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_participation_survey_id_survey')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_participation')),
    sa.UniqueConstraint('survey_id', 'subject_id', name=op.f('uq_survey_participation_survey_id_subject_id'))
    )
    with op.batch_alter_table('survey_participation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_participation_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_participation_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('hint', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('scale', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.CheckConstraint("scale IN ('satisfaction', 'points')", name=op.f('ck_survey_question_scale_known')),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_survey_question_compound_id_compound')),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_question_survey_id_survey')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_question')),
    sa.UniqueConstraint('survey_id', 'position', name=op.f('uq_survey_question_survey_id_position'))
    )
    with op.batch_alter_table('survey_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_question_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_question_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_response',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('subject_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('superseded', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_survey_response_compound_id_compound')),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_response_survey_id_survey')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response'))
    )
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_response_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_response_subject_digest'), ['subject_digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_response_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_answer',
    sa.Column('response_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_survey_answer_compound_id_compound')),
    sa.ForeignKeyConstraint(['question_id'], ['survey_question.id'], name=op.f('fk_survey_answer_question_id_survey_question')),
    sa.ForeignKeyConstraint(['response_id'], ['survey_response.id'], name=op.f('fk_survey_answer_response_id_survey_response')),
    sa.PrimaryKeyConstraint('response_id', 'question_id', name=op.f('pk_survey_answer'))
    )
    with op.batch_alter_table('survey_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_answer_compound_id'), ['compound_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('survey_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_answer_compound_id'))

    op.drop_table('survey_answer')
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_response_survey_id'))
        batch_op.drop_index(batch_op.f('ix_survey_response_subject_digest'))
        batch_op.drop_index(batch_op.f('ix_survey_response_compound_id'))

    op.drop_table('survey_response')
    with op.batch_alter_table('survey_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_question_survey_id'))
        batch_op.drop_index(batch_op.f('ix_survey_question_compound_id'))

    op.drop_table('survey_question')
    with op.batch_alter_table('survey_participation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_participation_survey_id'))
        batch_op.drop_index(batch_op.f('ix_survey_participation_compound_id'))

    op.drop_table('survey_participation')
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_compound_id'))

    op.drop_table('survey')

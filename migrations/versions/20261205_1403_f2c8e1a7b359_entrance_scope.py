"""entrance scope: ballots, Art. 279 matters and notices per 单元

ballot.scope_entrances, ballot_matter.affected_entrances, ballot_subject.places and the
notice_entrance table. Existing rows keep their meaning: the new lists start empty (a ballot's
whole buildings stay in scope_building_ids, a matter's in affected_building_ids), and a notice
without notice_entrance rows addresses its buildings. A frozen subject's places are needed only
by Art. 279 matters over entrances, which no existing ballot has.

Revision ID: f2c8e1a7b359
Revises: 5c2e8a1f9d37
Create Date: 2026-12-05 13:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'f2c8e1a7b359'
down_revision: str | None = '5c2e8a1f9d37'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope_entrances', sqlmodel.sql.sqltypes.AutoString(length=2000),
                                      nullable=False, server_default='[]'))
    with op.batch_alter_table('ballot_matter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('affected_entrances', sqlmodel.sql.sqltypes.AutoString(length=2000),
                                      nullable=False, server_default='[]'))
    with op.batch_alter_table('ballot_subject', schema=None) as batch_op:
        batch_op.add_column(sa.Column('places', sqlmodel.sql.sqltypes.AutoString(length=2000),
                                      nullable=False, server_default='[]'))
    op.create_table(
        'notice_entrance',
        sa.Column('compound_id', sa.Integer(), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('building_id', sa.Integer(), nullable=False),
        sa.Column('entrance', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.ForeignKeyConstraint(['building_id'], ['building.id'], ),
        sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], ),
        sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], ),
        sa.PrimaryKeyConstraint('notice_id', 'building_id', 'entrance'),
    )
    with op.batch_alter_table('notice_entrance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_entrance_building_id'), ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_entrance_compound_id'), ['compound_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notice_entrance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_entrance_compound_id'))
        batch_op.drop_index(batch_op.f('ix_notice_entrance_building_id'))
    op.drop_table('notice_entrance')
    with op.batch_alter_table('ballot_subject', schema=None) as batch_op:
        batch_op.drop_column('places')
    with op.batch_alter_table('ballot_matter', schema=None) as batch_op:
        batch_op.drop_column('affected_entrances')
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.drop_column('scope_entrances')

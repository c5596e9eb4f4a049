"""entrance scope: ballot.scope_entrances and notice_entrance (ballots and notices per 单元)

Existing rows keep their meaning: a ballot's scope_entrances starts as [] (its whole buildings
stay in scope_building_ids), and a notice without notice_entrance rows addresses its buildings.

Revision ID: f2c8e1a7b359
Revises: b7d41c9e2a58
Create Date: 2026-12-05 13:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'f2c8e1a7b359'
down_revision: str | None = 'b7d41c9e2a58'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope_entrances', sqlmodel.sql.sqltypes.AutoString(length=2000),
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
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.drop_column('scope_entrances')

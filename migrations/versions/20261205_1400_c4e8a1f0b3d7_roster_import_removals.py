"""roster: roster_import.removal_json, the units and owners a file did not contain (removed only
by the separate, explicit removal step)

Revision ID: c4e8a1f0b3d7
Revises: b7d41c9e2a58
Create Date: 2026-12-05 14:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c4e8a1f0b3d7'
down_revision: str | None = 'b7d41c9e2a58'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('roster_import', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removal_json', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('roster_import', schema=None) as batch_op:
        batch_op.drop_column('removal_json')

"""accounts: user_account.must_change_password (temporary passwords set by an administrator)

Revision ID: 3e7b1c9d2f40
Revises: 7e3b1c9d2a44
Create Date: 2026-12-05 10:10:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3e7b1c9d2f40'
down_revision: str | None = '7e3b1c9d2a44'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')

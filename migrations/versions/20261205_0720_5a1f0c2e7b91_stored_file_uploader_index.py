"""stored_file index on uploader and time (the per-account upload quota)

Revision ID: 5a1f0c2e7b91
Revises: 0d9557eca25a
Create Date: 2026-12-05 07:20:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '5a1f0c2e7b91'
down_revision: str | None = '0d9557eca25a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.create_index('ix_stored_file_uploaded_by_at', ['uploaded_by', 'uploaded_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.drop_index('ix_stored_file_uploaded_by_at')

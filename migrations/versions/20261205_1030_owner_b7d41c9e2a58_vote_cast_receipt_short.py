"""owner: vote_cast.receipt_short, the short receipt code owners keep (unique per ballot)

Revision ID: b7d41c9e2a58
Revises: 3e7b1c9d2f40
Create Date: 2026-12-05 10:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b7d41c9e2a58'
down_revision: str | None = '3e7b1c9d2f40'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of app.voting.casting.short_receipt_code as of this revision (migrations do not import
# the app): the receipt's leading 50 bits in Crockford's base 32.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _short(receipt: str) -> str:
    bits = int(receipt[:13], 16) >> 2
    return "".join(CROCKFORD[(bits >> (5 * i)) & 31] for i in range(9, -1, -1))


def upgrade() -> None:
    with op.batch_alter_table('vote_cast', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_short', sa.String(length=10), nullable=True))
    conn = op.get_bind()
    casts = sa.table('vote_cast', sa.column('id', sa.Integer), sa.column('receipt_code', sa.String),
                     sa.column('receipt_short', sa.String))
    rows = conn.execute(sa.select(casts.c.id, casts.c.receipt_code)).all()
    if rows:
        conn.execute(casts.update().where(casts.c.id == sa.bindparam('cast_id'))
                     .values(receipt_short=sa.bindparam('short')),
                     [{'cast_id': r[0], 'short': _short(r[1])} for r in rows])
    with op.batch_alter_table('vote_cast', schema=None) as batch_op:
        batch_op.alter_column('receipt_short', existing_type=sa.String(length=10), nullable=False)
        batch_op.create_unique_constraint('uq_vote_cast_ballot_receipt_short', ['ballot_id', 'receipt_short'])


def downgrade() -> None:
    with op.batch_alter_table('vote_cast', schema=None) as batch_op:
        batch_op.drop_constraint('uq_vote_cast_ballot_receipt_short', type_='unique')
        batch_op.drop_column('receipt_short')

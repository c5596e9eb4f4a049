"""compound-consistent roster keys

A unit's building, a unit-owner or unit-subject link's unit, owner and subject, and a subject's
representative are now referred to by (compound_id, id): a row pointing into another compound is
refused by the database itself. Building, owner, unit and voting_subject get UNIQUE
(compound_id, id) for those keys to point at; each replaces the table's single-column
compound_id index, which it (or another index led by compound_id) makes redundant. The foreign
keys of unit, unit_owner and unit_subject to compound go: the compound is reached through the
building, unit, owner or subject, which keep theirs. Existing rows are checked first; a
database holding a cross-compound row is refused with a count of what to repair.

Revision ID: e6ea21a0ea8f
Revises: c4e8d2a1f7b3
Create Date: 2026-12-05 20:19:11
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e6ea21a0ea8f'
down_revision: str | None = 'c4e8d2a1f7b3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (what, rows whose reference points into another compound)
_CROSS_COMPOUND = (
    ("unit -> building", "SELECT count(*) FROM unit c JOIN building p ON p.id = c.building_id "
                         "WHERE p.compound_id <> c.compound_id"),
    ("unit_owner -> unit", "SELECT count(*) FROM unit_owner c JOIN unit p ON p.id = c.unit_id "
                           "WHERE p.compound_id <> c.compound_id"),
    ("unit_owner -> owner", "SELECT count(*) FROM unit_owner c JOIN owner p ON p.id = c.owner_id "
                            "WHERE p.compound_id <> c.compound_id"),
    ("voting_subject -> owner", "SELECT count(*) FROM voting_subject c JOIN owner p "
                                "ON p.id = c.representative_owner_id "
                                "WHERE p.compound_id <> c.compound_id"),
    ("unit_subject -> unit", "SELECT count(*) FROM unit_subject c JOIN unit p ON p.id = c.unit_id "
                             "WHERE p.compound_id <> c.compound_id"),
    ("unit_subject -> voting_subject", "SELECT count(*) FROM unit_subject c JOIN voting_subject p "
                                       "ON p.id = c.subject_id WHERE p.compound_id <> c.compound_id"),
)


def _refuse_cross_compound_rows() -> None:
    bind = op.get_bind()
    found = [(what, n) for what, query in _CROSS_COMPOUND
             if (n := bind.execute(sa.text(query)).scalar_one())]
    if found:
        raise RuntimeError(
            "rows refer to another compound's row; repair them before upgrading: "
            + ", ".join(f"{what}: {n}" for what, n in found))


def upgrade() -> None:
    _refuse_cross_compound_rows()
    # The keys the new foreign keys point at first, then the foreign keys.
    for table in ('building', 'owner', 'unit', 'voting_subject'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_compound_id'))
            batch_op.create_unique_constraint(batch_op.f(f'uq_{table}_compound_id_id'),
                                              ['compound_id', 'id'])

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_unit_compound_id_compound'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_unit_building_id_building'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_unit_compound_id_building'), 'building',
                                    ['compound_id', 'building_id'], ['compound_id', 'id'])

    with op.batch_alter_table('unit_owner', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_unit_owner_compound_id_compound'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_unit_owner_unit_id_unit'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_unit_owner_owner_id_owner'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_unit_owner_compound_id_unit'), 'unit',
                                    ['compound_id', 'unit_id'], ['compound_id', 'id'])
        batch_op.create_foreign_key(batch_op.f('fk_unit_owner_compound_id_owner'), 'owner',
                                    ['compound_id', 'owner_id'], ['compound_id', 'id'])

    with op.batch_alter_table('voting_subject', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_voting_subject_representative_owner_id_owner'),
                                 type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_voting_subject_compound_id_owner'), 'owner',
                                    ['compound_id', 'representative_owner_id'],
                                    ['compound_id', 'id'])

    with op.batch_alter_table('unit_subject', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_unit_subject_compound_id_compound'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_unit_subject_unit_id_unit'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_unit_subject_subject_id_voting_subject'),
                                 type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_unit_subject_compound_id_unit'), 'unit',
                                    ['compound_id', 'unit_id'], ['compound_id', 'id'])
        batch_op.create_foreign_key(batch_op.f('fk_unit_subject_compound_id_voting_subject'),
                                    'voting_subject', ['compound_id', 'subject_id'],
                                    ['compound_id', 'id'])


def downgrade() -> None:
    # The single-column foreign keys back first, then the keys they no longer need go.
    with op.batch_alter_table('unit_subject', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_unit_subject_compound_id_voting_subject'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_unit_subject_compound_id_unit'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_unit_subject_compound_id_compound'), 'compound',
                                    ['compound_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_unit_subject_unit_id_unit'), 'unit',
                                    ['unit_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_unit_subject_subject_id_voting_subject'),
                                    'voting_subject', ['subject_id'], ['id'])

    with op.batch_alter_table('voting_subject', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_voting_subject_compound_id_owner'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_voting_subject_representative_owner_id_owner'),
                                    'owner', ['representative_owner_id'], ['id'])

    with op.batch_alter_table('unit_owner', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_unit_owner_compound_id_owner'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_unit_owner_compound_id_unit'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_unit_owner_compound_id_compound'), 'compound',
                                    ['compound_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_unit_owner_unit_id_unit'), 'unit',
                                    ['unit_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_unit_owner_owner_id_owner'), 'owner',
                                    ['owner_id'], ['id'])

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_unit_compound_id_building'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_unit_compound_id_compound'), 'compound',
                                    ['compound_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_unit_building_id_building'), 'building',
                                    ['building_id'], ['id'])

    for table in ('voting_subject', 'unit', 'owner', 'building'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'uq_{table}_compound_id_id'), type_='unique')
            batch_op.create_index(batch_op.f(f'ix_{table}_compound_id'), ['compound_id'],
                                  unique=False)

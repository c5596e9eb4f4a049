"""app/db.py's bulk writers: background inserts keep one transaction, order and errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.db import (
    BackgroundInserts,
    bulk_insert_rows,
    compress_large_values_quickly,
    is_postgres,
    reserve_ids,
)
from app.roster.models import Building, Owner, Unit
from tests.factories import make_compound

OWNER_COLUMNS = ("id", "compound_id", "kind", "name", "id_hash", "id_last4", "phone")
UNIT_COLUMNS = ("id", "compound_id", "building_id", "entrance", "room", "area_hundredths",
                "area_source", "usage", "status")


def _building(db: Session) -> tuple[int, int]:
    compound = make_compound(db)
    building = Building(compound_id=compound.id or 0, name="1栋")
    db.add(building)
    db.flush()
    return compound.id or 0, building.id or 0


def _owners(cid: int, ids: list[int]) -> list[tuple[object, ...]]:
    return [(oid, cid, "person", f"业主{oid}", None, None, f"139{oid:08d}") for oid in ids]


def _units(cid: int, bid: int, ids: list[int]) -> list[tuple[object, ...]]:
    return [(uid, cid, bid, "", str(uid), 9000, "register", "住宅", "delivered") for uid in ids]


def test_background_inserts_write_the_same_rows_in_the_same_transaction(db: Session) -> None:
    cid, bid = _building(db)
    owner_ids = reserve_ids(db, Owner.__table__, 300)
    unit_ids = reserve_ids(db, Unit.__table__, 300)
    assert len(set(owner_ids)) == 300 and len(set(unit_ids)) == 300
    with BackgroundInserts(db) as inserts:
        inserts.insert(Owner.__table__, OWNER_COLUMNS, iter(_owners(cid, owner_ids)))
        inserts.insert(Unit.__table__, UNIT_COLUMNS, (r for r in _units(cid, bid, unit_ids)))
        inserts.wait()  # the session is the caller's again: a read sees both tables
        assert db.execute(select(Unit.id).where(Unit.compound_id == cid)).scalars().all() \
            and len(db.execute(select(Owner.id).where(Owner.compound_id == cid)).all()) == 300
        inserts.insert(Unit.__table__, UNIT_COLUMNS, _units(cid, bid, reserve_ids(db, Unit.__table__, 2)))
    db.rollback()  # all of it was one transaction
    assert db.execute(select(Owner.id).where(Owner.compound_id == cid)).first() is None
    assert db.execute(select(Unit.id).where(Unit.compound_id == cid)).first() is None


def test_the_first_failed_insert_is_raised_and_the_queued_ones_are_not_sent(db: Session) -> None:
    cid, bid = _building(db)
    db.commit()
    ids = reserve_ids(db, Owner.__table__, 2)
    bulk_insert_rows(db, Owner.__table__, OWNER_COLUMNS, _owners(cid, ids))
    consumed: list[int] = []

    def later() -> Iterator[tuple[object, ...]]:
        for row in _units(cid, bid, [10_001]):
            consumed.append(1)
            yield row

    # COPY reports the driver's own error class (psycopg's); SQLite's goes through SQLAlchemy.
    refused = (IntegrityError, db.get_bind().dialect.loaded_dbapi.IntegrityError)
    with pytest.raises(refused), BackgroundInserts(db) as inserts:
        inserts.insert(Owner.__table__, OWNER_COLUMNS, _owners(cid, ids))  # the same ids again
        inserts.insert(Unit.__table__, UNIT_COLUMNS, later())
    assert consumed == []
    db.rollback()
    assert db.execute(select(Owner.id).where(Owner.compound_id == cid)).first() is None


def test_an_error_of_the_caller_waits_for_the_worker_before_it_propagates(db: Session) -> None:
    """The transaction is rolled back only once the worker is done with the connection."""
    cid, bid = _building(db)
    ids = reserve_ids(db, Unit.__table__, 200)
    started, finished = threading.Event(), threading.Event()

    def slow() -> Iterator[tuple[object, ...]]:
        started.set()
        for row in _units(cid, bid, ids):
            threading.Event().wait(0.001)
            yield row
        finished.set()

    with pytest.raises(ValueError, match="the caller's own"), BackgroundInserts(db) as inserts:
        inserts.insert(Unit.__table__, UNIT_COLUMNS, slow())
        started.wait(5)
        raise ValueError("the caller's own error")
    assert finished.is_set()
    assert not [t for t in threading.enumerate() if t.name.startswith("bulk-insert")]
    db.rollback()
    assert db.execute(select(Unit.id).where(Unit.compound_id == cid)).first() is None


def test_large_values_are_compressed_with_lz4_in_that_transaction_only(db: Session) -> None:
    if not is_postgres(db):
        pytest.skip("PostgreSQL compresses large values; SQLite does not")
    has_lz4 = db.execute(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                              "WHERE name = 'default_toast_compression'")).scalar_one()
    before = db.execute(text("SHOW default_toast_compression")).scalar_one()
    compress_large_values_quickly(db)
    assert db.execute(text("SHOW default_toast_compression")).scalar_one() \
        == ("lz4" if has_lz4 else before)
    db.rollback()
    assert db.execute(text("SHOW default_toast_compression")).scalar_one() == before
